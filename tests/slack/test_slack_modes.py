"""Socket Mode (against the fake WebSocket) and the command line: flags, errors, and the
real multi-worker HTTP server (supervisor + reuse_port + SIGTERM) as a subprocess."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import BackgroundLoop, FakeSlackAPI
from tests.slack.kit import APP_TOKEN, BOT_TOKEN, SECRET, TECHNICAL, get_json, wait_until, write_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_socket_mode_round_trip(slack: FakeSlackAPI, mini_dir, tmp_path) -> None:
    from adapters.slack.app import Settings, SlackAdapter
    from adapters.slack.socket_mode import connect, disconnect
    from adapters.cli.wiring import build_service

    config = write_config(tmp_path / "c.yaml", tmp_path / "data")
    service = build_service(argparse.Namespace(knowledge=mini_dir, config=str(config)))
    adapter = SlackAdapter(service, Settings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.base_url))
    with BackgroundLoop() as bg:
        handler = bg.call(connect(adapter))
        try:
            slack.wait_socket_connected()
            [opened] = slack.calls("apps.connections.open")
            assert opened.token_type == "app"

            env = sp.socket_envelope(sp.event_callback(sp.app_mention_event(TECHNICAL)), envelope_id="e1")
            slack.socket_send(env)
            slack.wait_for("socket_mode.ack", key="e1")
            [post] = slack.wait_for("chat.postMessage")
            assert post["thread_ts"] == env["payload"]["event"]["ts"] and post.problems == []

            # Slack redelivers over the socket with retry_attempt: answered once
            slack.socket_send(sp.socket_envelope(env["payload"], envelope_id="e1b", retry_attempt=1, retry_reason="timeout"))
            slack.wait_for("socket_mode.ack", key="e1b")

            cmd = sp.slash_command("is this payload a made up citation by the chatbot", response_url=slack.response_url("sm"))
            slack.socket_send(sp.socket_envelope(cmd, envelope_id="e2"))
            [ack] = slack.wait_for("socket_mode.ack", key="e2")
            assert not ack.get("payload")  # empty ack; the answer follows via response_url
            [hook] = slack.wait_for("response_url", key="sm")
            assert hook["response_type"] == "ephemeral" and hook.problems == []
            time.sleep(0.2)
            assert len(slack.calls("chat.postMessage")) == 1
        finally:
            bg.call(disconnect(adapter, handler))


def _run_cli(rest, mini_dir, capsys) -> tuple[int, str]:
    from adapters.slack.cli import run
    from adapters.cli.wiring import build_service

    code = run(argparse.Namespace(rest=rest, knowledge=mini_dir, config=None), build_service)
    return code, capsys.readouterr().err


def test_cli_explains_missing_settings(monkeypatch, mini_dir, capsys) -> None:
    code, err = _run_cli([], mini_dir, capsys)
    assert code == 2 and "SLACK_BOT_TOKEN" in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    code, err = _run_cli([], mini_dir, capsys)
    assert code == 2 and "SLACK_APP_TOKEN" in err and "--http" in err
    code, err = _run_cli(["--http"], mini_dir, capsys)
    assert code == 2 and "SLACK_SIGNING_SECRET" in err
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    code, err = _run_cli(["--workers", "2"], mini_dir, capsys)
    assert code == 2 and "HTTP mode only" in err
    assert BOT_TOKEN not in err and APP_TOKEN not in err


def test_http_workers_share_the_port_answer_a_retry_once_and_stop_on_sigterm(slack: FakeSlackAPI, mini_dir, tmp_path) -> None:
    """`triage-bot slack --http --workers 2`: two processes behind one port (SO_REUSEPORT),
    one shared store; SIGTERM to the supervisor stops both cleanly."""
    from adapters.slack.web import free_port

    port = free_port("127.0.0.1")
    config = write_config(tmp_path / "c.yaml", tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRIAGE_")) and "proxy" not in k.lower()}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url, PYTHONPATH=REPO)
    argv = [sys.executable, "-m", "adapters.cli", "--knowledge", str(mini_dir), "--config", str(config), "slack", "--http", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        health = f"http://127.0.0.1:{port}/healthz"

        def up():
            try:
                return get_json(health)[0] == 200
            except OSError:
                return False

        wait_until(up, timeout=20, interval=0.1)
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                pids.add(get_json(health)[1]["pid"])
            except OSError:
                time.sleep(0.05)  # the second worker may still be starting
        assert len(pids) == 2 and proc.pid not in pids

        body = sp.event_callback(sp.app_mention_event(TECHNICAL))
        url = f"http://127.0.0.1:{port}/slack/events"
        for retry in (None, 1, 2):
            assert sp.signed(SECRET, body, retry_num=retry).post(url).status == 200
        slack.wait_for("chat.postMessage", timeout=10)
        time.sleep(0.5)
        assert len(slack.calls("chat.postMessage")) == 1

        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    log = err.decode()
    assert "slack supervisor stopped" in log and log.count("slack adapter stopped") == 2
    assert BOT_TOKEN not in log and SECRET not in log and "made up a citation" not in log
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_triage_bot_slack_with_a_double_dash_reaches_the_adapter(monkeypatch, capsys) -> None:
    from adapters.cli.main import main

    code = main(["slack", "--", "--http", "--workers", "0"])  # parsed by the adapter: an error, exit 2
    assert code == 2 and "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_triage_bot_slack_passes_flags_through() -> None:
    from adapters.cli.main import parse_args

    args = parse_args(["--knowledge", "k", "slack", "--http", "--port", "3001"])
    assert args.rest == ["--http", "--port", "3001"]
