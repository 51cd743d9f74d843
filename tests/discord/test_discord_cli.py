"""`triage-bot discord` as a process: command sync, the health endpoint, SIGTERM; and --sharded."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time

import aiohttp

from discord_kit import REPO, FakeDiscord, answer, ask, live, write_config
from fakes import discord_payloads as P


def _env(fake: FakeDiscord, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "DISCORD_"))}
    env.update(DISCORD_TOKEN=fake.token, DISCORD_API_URL=fake.api_base, DISCORD_GUILD_READY_TIMEOUT="0.05",
               PYTHONPATH=str(REPO))
    env.update(extra)
    return env


async def _cli(fake: FakeDiscord, *argv: str, **extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", *argv, cwd=str(REPO), env=_env(fake, **extra),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sync_registers_the_commands_over_rest_and_exits(tmp_path):
    async def main():
        async with FakeDiscord() as fake:
            w = fake.world
            proc = await _cli(fake, "discord", "--", "--sync", "--guild", w.guild_id)
            out, err = await asyncio.wait_for(proc.communicate(), 20)
            assert proc.returncode == 0, err.decode()
            assert "synced 2 command(s) in guild" in out.decode()
            (put,) = fake.calls_matching("PUT", rf"/applications/{w.application_id}/guilds/{w.guild_id}/commands")
            assert not fake.identifies, "sync must not open the gateway"
            commands = {(c["name"], c.get("type", 1)): c for c in put.json}
            assert set(commands) == {("triage", 1), ("Triage this message", 3)}
            subs = {o["name"]: o for o in commands[("triage", 1)]["options"]}
            assert set(subs) == {"ask", "help", "topics", "reading", "stats", "forget-me", "reload", "feedback"}
            assert {o["type"] for n, o in subs.items() if n != "feedback"} == {P.OPT_SUB_COMMAND}
            assert subs["feedback"]["type"] == P.OPT_SUB_COMMAND_GROUP and subs["feedback"]["options"][0]["name"] == "export"
            concern, public = subs["ask"]["options"]
            assert (concern["name"], concern["type"], concern["required"]) == ("concern", P.OPT_STRING, True)
            assert (public["name"], public["type"], public.get("required", False)) == ("public", P.OPT_BOOLEAN, False)
            window = subs["stats"]["options"][0]
            assert [c["value"] for c in window["choices"]] == ["7d", "30d", "90d"]
            assert subs["reading"]["options"][0]["autocomplete"] is True

            proc = await _cli(fake, "discord", "--", "--sync")  # global
            out, err = await asyncio.wait_for(proc.communicate(), 20)
            assert proc.returncode == 0, err.decode()
            assert fake.calls_matching("PUT", rf"/applications/{w.application_id}/commands")
            assert "synced 2 command(s) globally" in out.decode()

    asyncio.run(main())


def test_run_serves_health_answers_and_stops_on_sigterm(tmp_path, mini_dir):
    port = _free_port()

    async def main():
        async with FakeDiscord() as fake:
            config = write_config(tmp_path, fake.world)
            proc = await _cli(fake, "--config", str(config), "--knowledge", str(mini_dir), "discord", "--", "--health-port", str(port))
            try:
                health = await _wait_healthy(port, proc)
                assert health["discord"]["ready"] and health["discord"]["connected"]
                assert health["service"]["store"]["backend"] == "sqlite" and health["service"]["rules"] > 0
                assert fake.calls_matching("GET", "/gateway/bot"), "gateway discovered from DISCORD_API_URL"

                cb = await answer(fake, ask(fake.world, "the chatbot made up a citation"))  # answered by the process
                assert cb.callback_type == 4 and cb.ephemeral and cb.allowed_mentions == {"parse": []}

                proc.send_signal(signal.SIGTERM)
                out, err = await asyncio.wait_for(proc.communicate(), 15)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            logs = err.decode()
            assert proc.returncode == 0, logs
            assert fake.token not in logs and "made up a citation" not in logs
            events = [json.loads(line)["event"] for line in logs.splitlines() if line.startswith("{")]
            assert "discord ready" in events and "shutting down" in events and "stopped" in events
            assert not fake.connected

    asyncio.run(main())


async def _wait_healthy(port: int, proc) -> dict:
    deadline = time.monotonic() + 15
    async with aiohttp.ClientSession() as session:
        while True:
            assert proc.returncode is None, (await proc.stderr.read()).decode()
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    body = await resp.json()
                    if resp.status == 200:
                        return body
                    assert resp.status == 503 and body["ok"] is False
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < deadline, "bot never became healthy"
            await asyncio.sleep(0.05)


def test_adapter_flags_pass_through_the_main_cli():
    from adapters.cli.main import parse_args

    assert parse_args(["discord", "--sync", "--guild", "1"]).rest == ["--sync", "--guild", "1"]


def test_missing_token_is_a_clear_error(tmp_path):
    async def main():
        async with FakeDiscord() as fake:
            proc = await _cli(fake, "discord", DISCORD_TOKEN="")
            _, err = await asyncio.wait_for(proc.communicate(), 20)
            assert proc.returncode == 2 and "set DISCORD_TOKEN" in err.decode()

    asyncio.run(main())


def test_sharded_bot_asks_for_the_shard_count(env):
    async def main():
        async with FakeDiscord(env.world) as fake:
            async with live(fake, env.service, sharded=True) as bot:
                assert fake.calls_matching("GET", "/gateway/bot")
                assert fake.identifies[0]["shard"] == [0, 1]
                assert bot.status() == {**bot.status(), "ready": True, "connected": True, "shards": 1}
                cb = await answer(fake, ask(fake.world, "the chatbot made up a citation"))
                assert cb.callback_type == 4 and cb.ephemeral

    asyncio.run(asyncio.wait_for(main(), 20))
