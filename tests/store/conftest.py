"""Fixtures for the store tests: real SQLite files and real PostgreSQL schemas.

PostgreSQL tests use $TRIAGE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test),
each in a fresh schema dropped afterwards. They are skipped only when the server is
unreachable and $CI is unset; in CI an unreachable server fails them.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.dialect import DIALECTS
from store_helpers import FAST, PG_URL, pg_admin


class Target:
    """Where a test's store lives, plus direct (store-independent) access for assertions."""

    def __init__(self, backend: str, data_dir: Path, schema: str | None):
        self.backend = backend
        self.data_dir = data_dir
        self.schema = schema
        self.url = PG_URL if backend == "postgres" else None
        self._stores = []

    def open(self, url: str | None = None, **opts):
        opts = {**FAST, **opts}
        if self.backend == "postgres":
            opts.setdefault("schema", self.schema)
        store = open_store(url or self.url, self.data_dir, **opts)
        self._stores.append(store)
        return store

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Direct read with a fresh connection (the store's own code is not involved)."""
        with self._direct() as conn:
            return conn.execute(DIALECTS[self.backend].q(sql), params).fetchall()

    def execute(self, sql: str) -> None:
        """Direct write, committed: to put the database in a state the store must cope with."""
        with self._direct() as conn:
            conn.execute(sql)

    @contextmanager
    def _direct(self):
        """An autocommit connection of the test's own, in the test's schema for PostgreSQL."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.data_dir / "triage.sqlite3", isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
            return
        with pg_admin() as conn:
            conn.execute(f'SET search_path TO "{self.schema}"')
            yield conn

    def record_ids(self) -> list[str]:
        return [r[0] for r in self.query("SELECT record_id FROM triage_records")]

    def close_all(self) -> None:
        for s in self._stores:
            s.close(timeout=5)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    schema = None
    if request.param == "postgres":
        schema = request.getfixturevalue("pg_schema")
    t = Target(request.param, tmp_path / "data", schema)
    yield t
    t.close_all()


@pytest.fixture
def store(target):
    return target.open()
