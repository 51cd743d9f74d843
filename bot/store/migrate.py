"""Versioned schema migrations: bot/store/migrations/shared/NNNN_name.sql.

One script per version serves both databases: the few words they spell differently are
`{placeholders}` that the `Dialect` fills in (`Dialect.ddl`), so the two schemas cannot
drift apart. A database records each version it applied, with its name, in
``schema_version``; nothing else (no checksum) ties it to the script's text.

Files are applied in version order, each in the same transaction as its row in
``schema_version``, so a failed migration leaves nothing half-applied. Concurrent
openers are serialised: SQLite by ``BEGIN IMMEDIATE`` (the database write lock),
PostgreSQL by a transaction-scoped advisory lock keyed on the target schema.
Never change what a released migration does; add the next number.
"""
from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import time
from dataclasses import dataclass
from importlib import resources

from .dialect import DIALECTS, Dialect

log = logging.getLogger("bot.store")

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

SCHEMA_VERSION_DDL = ("CREATE TABLE IF NOT EXISTS schema_version ("
                      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {float} NOT NULL)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load(dialect: str) -> list[Migration]:
    """The migrations in version order, spelt for `dialect` ("sqlite" or "postgres")."""
    spell = DIALECTS[dialect].ddl
    folder = resources.files("bot.store") / "migrations" / "shared"
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if not m:
            continue
        version = int(m.group(1))
        if version in found:
            raise RuntimeError(f"duplicate migration version {version} in {dialect}")
        found[version] = Migration(version, m.group(2), spell(entry.read_text(encoding="utf-8")))
    migrations = [found[v] for v in sorted(found)]
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise RuntimeError(f"{dialect} migrations must be numbered 0001.. without gaps")
    return migrations


def split_sqlite(script: str) -> list[str]:
    """Split a script into statements (executescript() would commit behind our back)."""
    statements, buf = [], []
    for line in script.splitlines(keepends=True):
        buf.append(line)
        text = "".join(buf)
        if sqlite3.complete_statement(text):
            body = "\n".join(l for l in text.splitlines() if not l.strip().startswith("--"))
            if body.strip().strip(";").strip():
                statements.append(text.strip())
            buf = []
    if "".join(buf).strip() and any(
        l.strip() and not l.strip().startswith("--") for l in buf
    ):
        raise RuntimeError("migration ends with an incomplete statement")
    return statements


def _warn_if_newer(dialect: str, applied: set[int], known: list[Migration]) -> None:
    newest = max((m.version for m in known), default=0)
    if applied and max(applied) > newest:
        log.warning("%s schema is at version %d but this code knows only up to %d; "
                    "running anyway (migrations must stay backward compatible)",
                    dialect, max(applied), newest)


def _apply_pending(conn, dialect: Dialect, run) -> list[int]:
    """Inside the caller's transaction: make sure schema_version exists, then run each
    migration not yet in it and record it. Returns the versions applied."""
    migrations = load(dialect.name)
    conn.execute(dialect.ddl(SCHEMA_VERSION_DDL))
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
    _warn_if_newer(dialect.name, applied, migrations)
    done = []
    for m in migrations:
        if m.version in applied:
            continue
        run(m)
        conn.execute(dialect.q("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"),
                     (m.version, m.name, time.time()))
        done.append(m.version)
    return done


def apply_sqlite(conn: sqlite3.Connection) -> list[int]:
    """conn must be in autocommit mode (isolation_level=None). Returns versions applied."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        def run(m: Migration) -> None:
            for statement in split_sqlite(m.sql):
                conn.execute(statement)

        done = _apply_pending(conn, DIALECTS["sqlite"], run)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    for v in done:
        log.info("sqlite: applied migration %04d", v)
    return done


def advisory_key(schema: str | None) -> int:
    digest = hashlib.sha256(f"triage-bot:migrate:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def apply_postgres(conn, schema: str | None) -> list[int]:
    """conn: psycopg connection in autocommit mode, search_path already set."""
    from psycopg import sql

    with conn.transaction():
        # Transaction-scoped variant of pg_advisory_lock: released on commit *or* on
        # rollback/disconnect, so a crashed migrator cannot wedge the others.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(schema),))
        if schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        # no parameters: one execute may hold several statements
        done = _apply_pending(conn, DIALECTS["postgres"], lambda m: conn.execute(m.sql.encode()))
    for v in done:
        log.info("postgres%s: applied migration %04d", f" ({schema})" if schema else "", v)
    return done
