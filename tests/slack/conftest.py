"""Fixtures for the Slack adapter tests: the real bolt AsyncApp served over HTTP on
loopback by the adapter's own aiohttp application, talking to the fake Slack Web API
(tests/fakes/slack_api.py) through SLACK_API_URL, with a real store (SQLite file, or a
throwaway PostgreSQL schema). Nothing of ours is mocked."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlackAPI, LoopbackServer
from tests.slack.kit import BOT_TOKEN, SECRET, Served, write_config
from tests.store.store_helpers import PG_URL


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk reads HTTP(S)_PROXY into every client and ignores NO_PROXY
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("TRIAGE_", "SLACK_")) and name != "TRIAGE_TEST_PG_URL":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def slack_session():
    with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture
def slack(slack_session: FakeSlackAPI) -> FakeSlackAPI:
    slack_session.reset()
    slack_session.set_latency("chat.postMessage", 0)
    return slack_session


@pytest.fixture
def serve(slack: FakeSlackAPI, mini_dir: Path, tmp_path: Path):
    """serve(**settings) -> Served. Each call is one worker with its own Service; pass
    config=<path> to share a store between workers."""
    from adapters.slack.app import Settings, SlackAdapter
    from adapters.slack.web import build_web_app
    from adapters.cli.wiring import build_service

    started: list[Served] = []

    def _serve(*, config: Path | None = None, data_dir: Path | None = None, **settings) -> Served:
        data_dir = data_dir or tmp_path / f"data{len(started)}"
        config = config or write_config(tmp_path / f"config{len(started)}.yaml", data_dir)
        service = build_service(argparse.Namespace(knowledge=mini_dir, config=str(config)))
        opts = {"bot_token": BOT_TOKEN, "signing_secret": SECRET, "api_url": slack.base_url, "drain_seconds": 5.0, **settings}
        adapter = SlackAdapter(service, Settings(**opts))
        server = LoopbackServer(lambda: build_web_app(adapter), shutdown_timeout=5).start()
        served = Served(adapter, server, data_dir)
        started.append(served)
        return served

    yield _serve
    for s in started:
        s.stop()


@pytest.fixture
def pg_url(pg_schema: str) -> str:
    """A PostgreSQL URL pinned to a fresh schema (tests/conftest.py's, dropped afterwards)."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{pg_schema}"
