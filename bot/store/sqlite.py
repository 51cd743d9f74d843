"""SQLite backend: one file in the data directory, WAL mode, one connection per thread.

Several bot processes may share the file: writes take the write lock up front
(BEGIN IMMEDIATE) and wait up to ``busy_timeout`` for it; a batch that still cannot get
it is spooled and retried by the writer thread, so no record is lost under contention.
"""
from __future__ import annotations

import random
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from . import migrate
from .base import StoreError
from .dialect import SQLiteDialect
from .engine import SQLStore, check_data_dir, log

FILENAME = "triage.sqlite3"


class _Holder:
    """Owns one thread's connection; tracked weakly so close() can reach all of them."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __del__(self):  # the thread died: don't wait for the GC of the connection
        try:
            self.conn.close()
        except Exception:
            pass


class SQLiteStore(SQLStore):
    backend = "sqlite"
    unavailable_errors = (sqlite3.OperationalError,)  # locked/busy, disk I/O, cannot open

    def __init__(self, path: Path, *, busy_timeout: float = 10.0, **writer_options):
        self.path = Path(path).expanduser()
        data_dir = check_data_dir(self.path.parent)
        self._busy_timeout = float(busy_timeout)
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._idle = threading.Condition()
        self._in_use = 0
        try:
            conn = self._connect()
            try:
                self._enable_wal(conn)
                migrate.apply_sqlite(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}; "
                             "point TRIAGE_DATA_DIR at a writable local directory") from exc
        super().__init__(SQLiteDialect(), data_dir / "spool", **writer_options)

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """WAL is a property of the file: set once, it persists for every connection.

        Switching modes ignores busy_timeout (SQLite returns SQLITE_BUSY at once when
        another process is opening the same new file), so retry here within that budget.
        """
        deadline = time.monotonic() + max(self._busy_timeout, 5.0)
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.05))
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot enable WAL on {self.path} (journal_mode={mode}); "
                             "is it on a network filesystem?")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=self._busy_timeout,
                               isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
        return conn

    def _thread_conn(self) -> sqlite3.Connection:
        holder = getattr(self._local, "holder", None)
        if holder is None:
            holder = _Holder(self._connect())
            self._local.holder = holder
            with self._holders_lock:
                self._holders.add(holder)
        return holder.conn

    @contextmanager
    def _acquire(self):
        # Count users so close() never closes a connection another thread is inside: with
        # check_same_thread=False that crashes the process instead of raising.
        with self._idle:
            if self._closed:
                raise StoreError("store is closed")
            self._in_use += 1
        try:
            yield self._thread_conn()
        finally:
            with self._idle:
                self._in_use -= 1
                self._idle.notify_all()

    def _writer_conn(self) -> sqlite3.Connection:
        return self._thread_conn()

    def _writer_conn_broken(self) -> None:
        holder = getattr(self._local, "holder", None)
        if holder is not None:
            self._local.holder = None
            try:
                holder.conn.close()
            except sqlite3.Error:
                pass

    def _close_connections(self) -> None:
        with self._idle:  # _closed is already set: no new users; wait for the current ones
            if not self._idle.wait_for(lambda: self._in_use == 0, timeout=10.0):
                log.error("store close: a database call is still running after 10 s; leaving its connection open")
                return
        with self._holders_lock:
            holders = list(self._holders)
        for holder in holders:
            try:
                holder.conn.close()
            except sqlite3.Error:
                pass

    @contextmanager
    def _tx(self, conn: sqlite3.Connection, write: bool):
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _describe_location(self) -> str:
        return str(self.path)
