"""PostgreSQL backend (psycopg 3). Chosen by open_store() for postgresql:// URLs.

Tables live in the connection's search_path. An explicit schema (the ``schema`` argument,
or ``?options=-csearch_path%3Dname`` in the URL) is created by the first migration run,
which tests use to isolate themselves in throwaway schemas.

If the server is unreachable at startup the store still opens (writes are spooled, event
dedupe is per process); the schema is migrated on the first successful connection.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from . import migrate
from .base import StoreError
from .dialect import PostgresDialect
from .engine import SQLStore, check_data_dir
from .writer import describe

log = logging.getLogger("bot.store")

_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


def schema_from_options(options: str | None) -> str | None:
    m = _SEARCH_PATH.search(options or "")
    return m.group(1).strip('"') if m else None


class PostgresStore(SQLStore):
    backend = "postgresql"
    unavailable_errors = (
        psycopg.OperationalError,  # refused/reset connections, admin shutdown, timeouts
        psycopg.InterfaceError,  # connection already closed
        psycopg.errors.ReadOnlySqlTransaction,  # failover landed us on a standby
    )

    def __init__(self, url: str, data_dir: Path, *, schema: str | None = None,
                 connect_timeout: float = 3.0, statement_timeout: float = 15.0,
                 pool_size: int = 4, **writer_options):
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"invalid PostgreSQL URL: {exc}") from None
        self._url = url
        self.schema = schema or schema_from_options(params.get("options"))
        if self.schema is not None and not self.schema:
            raise StoreError("empty schema name")
        self._connect_kwargs = {"autocommit": True, "application_name": "triage-bot"}
        if "connect_timeout" not in params:
            self._connect_kwargs["connect_timeout"] = max(1, round(connect_timeout))
        self._statement_timeout_ms = int(statement_timeout * 1000)
        self._where = "{}:{}/{}".format(params.get("host", "localhost"), params.get("port", 5432),
                                        params.get("dbname", params.get("user", "")))
        data_dir = check_data_dir(data_dir)
        target = "|".join([self._where, self.schema or ""])
        spool_dir = data_dir / f"spool-pg-{hashlib.sha256(target.encode()).hexdigest()[:12]}"

        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._pool: list[psycopg.Connection] = []
        self._pool_size = pool_size
        self._pool_lock = threading.Lock()
        self._wconn: psycopg.Connection | None = None
        self._closed = False
        try:
            self._put(self._connect())
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            log.error("cannot reach PostgreSQL at %s (%s); starting anyway: records will be spooled "
                      "and event dedupe is per process until it is back", self._where, describe(exc))
        except psycopg.Error as exc:
            raise StoreError(f"cannot initialise PostgreSQL store at {self._where}: {describe(exc)}") from exc
        super().__init__(PostgresDialect(), spool_dir, **writer_options)

    # connections -----------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self._url, **self._connect_kwargs)
        try:
            if self.schema:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            if not self._migrated:
                with self._migrate_lock:
                    if not self._migrated:
                        migrate.apply_postgres(conn, self.schema)
                        self._migrated = True
            conn.execute("SELECT set_config('statement_timeout', %s, false)",
                         (str(self._statement_timeout_ms),))
        except BaseException:
            conn.close()
            raise
        return conn

    def _put(self, conn: psycopg.Connection) -> None:
        with self._pool_lock:
            if not self._closed and len(self._pool) < self._pool_size and not conn.closed:
                self._pool.append(conn)
                return
        conn.close()

    @contextmanager
    def _acquire(self):
        if self._closed:
            raise StoreError("store is closed")
        with self._pool_lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None or conn.closed or conn.broken:
            conn = self._connect()
        try:
            yield conn
        except BaseException:
            if conn.broken or conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.close()
            else:
                self._put(conn)
            raise
        self._put(conn)

    def _writer_conn(self) -> psycopg.Connection:
        if self._wconn is None or self._wconn.closed or self._wconn.broken:
            self._wconn = None
            self._wconn = self._connect()
        return self._wconn

    def _writer_conn_broken(self) -> None:
        if self._wconn is not None:
            try:
                self._wconn.close()
            finally:
                self._wconn = None

    def _close_connections(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()
        if not self._writer.alive:
            self._writer_conn_broken()

    # transactions ----------------------------------------------------------------------
    @contextmanager
    def _tx(self, conn: psycopg.Connection, write: bool):
        with conn.transaction():
            yield

    def _describe_location(self) -> str:
        return self._where + (f" (schema {self.schema})" if self.schema else "")
