"""Persistence for triage records, feedback and event dedupe.

    store = open_store(os.environ.get("DATABASE_URL"), default_data_dir())
    if store.claim_event("slack", event_id):     # first delivery of this event?
        ...reply...
        store.add_triage(record)                  # queued; never raises, never blocks
    store.close()

PostgreSQL for postgresql:// URLs (psycopg 3, imported only then), otherwise SQLite at
<data_dir>/triage.sqlite3. The data dir also holds the spool used while the database
is unreachable, so it must be writable in both cases.
"""
from __future__ import annotations

import os
from pathlib import Path

from .base import Store, StoreError, StoreUnavailable
from .records import (
    Disagreement,
    Feedback,
    FeedbackStats,
    Stats,
    TriageRecord,
)

__all__ = [
    "Disagreement", "Feedback", "FeedbackStats", "Stats",
    "Store", "StoreError", "StoreUnavailable", "TriageRecord", "default_data_dir",
    "is_postgres_url", "open_store",
]


def default_data_dir() -> Path:
    """$TRIAGE_DATA_DIR, else $XDG_DATA_HOME/triage-bot, else ~/.local/share/triage-bot."""
    explicit = os.environ.get("TRIAGE_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "triage-bot"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql://", "postgres://"))


def open_store(database_url: str | None, data_dir: Path | None = None, **options) -> Store:
    """Open (and migrate) the store. Raises StoreError for a bad URL or unusable data dir.

    ``options`` go to the backend: ``schema=`` (PostgreSQL), ``busy_timeout=`` (SQLite),
    and writer tuning (``batch_size``, ``retry_initial``, ``retry_max``, ...).
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if is_postgres_url(database_url):
        from .postgres import PostgresStore

        return PostgresStore(database_url, data_dir, **options)
    if database_url and not database_url.startswith("sqlite"):
        raise StoreError(f"unsupported database URL scheme: {database_url.split(':', 1)[0]}:// "
                         "(use postgresql://..., or leave it unset for SQLite)")
    from .sqlite import FILENAME, SQLiteStore

    options.pop("schema", None)
    return SQLiteStore(Path(data_dir) / FILENAME, **options)
