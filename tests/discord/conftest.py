"""Fixtures for the Discord adapter tests.

The real adapter (discord.py 2.x) runs against the offline fake Discord in tests/fakes
(REST + gateway websocket), with the real Service, a real SQLite store in tmp_path and
the small hand-made knowledge base from tests/conftest.py. Nothing of ours is mocked.
"""
from __future__ import annotations

import pytest

from discord_kit import Env, huge_knowledge

_ENV = ("TRIAGE_CONFIG", "TRIAGE_DATABASE_URL", "TRIAGE_DATA_DIR", "TRIAGE_STORE_TEXT", "TRIAGE_RETENTION_DAYS",
        "TRIAGE_RATE_PER_MINUTE", "TRIAGE_RATE_BURST", "TRIAGE_MODERATORS_DISCORD", "TRIAGE_ETHICS_LEADS_DISCORD",
        "DISCORD_TOKEN", "DISCORD_API_URL", "DISCORD_GATEWAY_URL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def env(tmp_path, mini_dir):
    e = Env(tmp_path, mini_dir)
    yield e
    e.close()


@pytest.fixture
def huge_dir(mini_dir):
    return huge_knowledge(mini_dir)
