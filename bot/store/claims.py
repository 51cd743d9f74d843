"""Event claims shared by the bot processes of one host while the database is down.

HTTP workers behind one port each get some of Slack's retries; with the database down,
an in-process memory would let every worker answer the same retry. A small SQLite file
beside the spool is shared by every process on the host (not across hosts: see the
README). Claims made here during an outage are also checked for a while after the
database is back, so a late retry of an event answered during the outage is not
answered again by this host.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

FILENAME = "claims.sqlite3"
RECHECK_S = 3600.0  # after the last local claim, keep checking local claims this long


class LocalClaims:
    def __init__(self, directory: Path, ttl: float = 2 * 86400, busy_timeout: float = 5.0) -> None:
        self.path = Path(directory) / FILENAME
        self.ttl = ttl
        self._busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(str(self.path), timeout=self._busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA synchronous = OFF")  # a hint for retries: survives kill -9, needn't survive power loss
            conn.execute("CREATE TABLE IF NOT EXISTS claims (platform TEXT NOT NULL, event_id TEXT NOT NULL, "
                         "claimed_at REAL NOT NULL, PRIMARY KEY (platform, event_id))")
            conn.execute("DELETE FROM claims WHERE claimed_at < ?", (time.time() - self.ttl,))
            self._conn = conn
        return self._conn

    def claim(self, platform: str, event_id: str) -> bool:
        """True for the first claimer on this host. Raises sqlite3.Error or OSError."""
        with self._lock:
            cur = self._connection().execute(
                "INSERT INTO claims (platform, event_id, claimed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (platform, event_id) DO NOTHING", (platform, event_id, time.time()))
            return cur.rowcount == 1

    def claimed_during_outage(self, platform: str, event_id: str) -> bool:
        """Cheap when there was no recent outage: one stat() call (the file is in rollback
        journal mode, so every claim touches its mtime)."""
        try:
            if time.time() - os.stat(self.path).st_mtime > RECHECK_S:
                return False
            with self._lock:
                row = self._connection().execute(
                    "SELECT 1 FROM claims WHERE platform = ? AND event_id = ?", (platform, event_id)).fetchone()
            return row is not None
        except (OSError, sqlite3.Error):
            return False

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
