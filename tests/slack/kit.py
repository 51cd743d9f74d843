"""Constants and helpers shared by the Slack adapter tests (fixtures live in conftest.py)."""
from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import LoopbackServer

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-not-a-real-token"
APP_TOKEN = "xapp-test-not-a-real-token"
MODERATOR = "UMOD"
MOD_GROUP = "SMODS"
TECHNICAL = "the chatbot made up a citation"  # the mini knowledge (tests/conftest.py) calls this technical


def write_config(path: Path, data_dir: Path, *, database_url: str | None = None, **extra) -> Path:
    cfg = {"data_dir": str(data_dir), "roles": {"moderators": {"slack": [MODERATOR, MOD_GROUP]}}, **extra}
    if database_url:
        cfg["database_url"] = database_url
    path.write_text(yaml.safe_dump(cfg))
    return path


def get_json(url: str) -> tuple[int, dict]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Served:
    """One adapter (one "worker") served on loopback by its own aiohttp application."""

    def __init__(self, adapter, server: LoopbackServer, data_dir: Path):
        self.adapter = adapter
        self.server = server
        self.data_dir = data_dir
        self.url = server.url("/slack/events")

    @property
    def service(self):
        return self.adapter.service

    def post(self, payload, **kw) -> sp.Response:
        return sp.signed(SECRET, payload, **kw).post(self.url)

    def health(self) -> tuple[int, dict]:
        return get_json(self.server.url("/healthz"))

    def records(self) -> list[tuple]:
        assert self.service.store.flush(30)
        return self._query("SELECT record_id, channel, user_id, event_id, category FROM triage_records")

    def feedback(self) -> list[tuple]:
        assert self.service.store.flush(30)
        return self._query("SELECT record_id, user_id, choice FROM feedback")

    def _query(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(self.data_dir / "triage.sqlite3")
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.stop()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def action_ids(message_blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in message_blocks if b["type"] == "actions" for e in b["elements"]]


def button(message_blocks: list[dict], prefix: str) -> dict:
    return next(e for b in message_blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"].startswith(prefix))
