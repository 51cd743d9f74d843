"""Helpers for the Discord adapter tests: a real service, a real bot, the fake Discord."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import yaml

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:  # tests/fakes and tests/conftest.py, as the harness imports them
    sys.path.insert(0, str(TESTS))

from fakes import discord_payloads as P  # noqa: E402
from fakes.discord_api import FakeDiscord, RecordedCall, running_client  # noqa: E402

from adapters.discord.client import make_bot  # noqa: E402
from adapters.cli.wiring import build_service  # noqa: E402

CHANNEL_MESSAGES = r"/channels/\d+/messages"
Body = Callable[[FakeDiscord, Any], Awaitable[None]]


def write_config(tmp_path: Path, world: P.World, **settings: Any) -> Path:
    cfg = {
        "data_dir": str(tmp_path / "data"),
        "rate_per_minute": 6000,
        "rate_burst": 1000,
        "roles": {"moderators": {"discord": [world.moderator_role_id]}},
        **settings,
    }
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


class Env:
    """One test's world: Discord ids, config, the real service (built like the CLI does)."""

    def __init__(self, tmp_path: Path, knowledge: Path) -> None:
        self.tmp_path = tmp_path
        self.knowledge = knowledge
        self.world = P.World()
        self._service = None
        self.settings: dict = {}

    def configure(self, **settings: Any) -> "Env":
        self.settings.update(settings)
        return self

    @property
    def config_path(self) -> Path:
        return write_config(self.tmp_path, self.world, **self.settings)

    @property
    def service(self):
        if self._service is None:
            self._service = build_service(argparse.Namespace(config=str(self.config_path), knowledge=self.knowledge))
        return self._service

    def restart_service(self):
        """Close the service (flushing the store) and open a fresh one on the same files."""
        self.close()
        return self.service

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def run(self, body: Body, *, timeout: float = 20.0, **bot_options: Any) -> None:
        async def main() -> None:
            async with FakeDiscord(self.world) as fake:
                async with live(fake, self.service, **bot_options) as bot:
                    await body(fake, bot)
                assert not fake.errors, fake.errors

        asyncio.run(asyncio.wait_for(main(), timeout))


@contextlib.asynccontextmanager
async def live(fake: FakeDiscord, service, **options: Any):
    """The product bot, logged in and ready against the fake; fails the test on any
    error the bot recorded."""
    options.setdefault("guild_ready_timeout", 0.05)
    bot = make_bot(service, **options)
    async with running_client(fake, bot):
        yield bot
    assert not bot.errors, bot.errors


def ask(world: P.World, concern: str, *, public: bool | None = None, user_id: str | None = None, in_dm: bool = False):
    options = [P.option("concern", concern)]
    if public is not None:
        options.append(P.option("public", public, type=P.OPT_BOOLEAN))
    return world.slash("triage", [P.subcommand("ask", options)], user_id=user_id, in_dm=in_dm)


def sub(world: P.World, name: str, *options, user_id: str | None = None):
    return world.slash("triage", [P.subcommand(name, list(options))], user_id=user_id)


async def answer(fake: FakeDiscord, data: dict) -> RecordedCall:
    await fake.dispatch("INTERACTION_CREATE", data)
    return await fake.wait_for_callback(data)


def feedback_ids(call: RecordedCall) -> list[str]:
    return [c for c in call.custom_ids() if c.startswith("triage:fb:")]


def record_id_of(call: RecordedCall) -> str:
    (rid,) = {re.match(r"triage:fb:([^:]+):", c).group(1) for c in feedback_ids(call)}
    return rid


def assert_within_limits(call: RecordedCall) -> None:
    payload = call.message_payload
    assert not P.message_limit_errors(payload), P.message_limit_errors(payload)
    assert sum(P.embed_size(e) for e in call.embeds) <= P.LIMIT_EMBEDS_TOTAL
    assert call.status in (200, 204), call


def huge_knowledge(root: Path) -> Path:
    """Blow up the mini knowledge base in `root` (tests/conftest.py's mini_dir): every text
    a reply can show is far over Discord's limits, and the headline carries an @everyone."""

    def edit(name: str, change: Callable[[dict], None]) -> None:
        path = root / name
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def categories(m: dict) -> None:
        for c in m["categories"].values():
            c["headline"] = "Huge headline @everyone " + "word " * 300
            c["framing"] = "framing " * 1500
            c["questions"] = [f"question {i} " + "why " * 700 for i in range(8)]
            c["expertise"] = [f"expert {i} " + "x" * 150 for i in range(40)]
            c["oversight"] = "oversight " * 600
            c["interventions"] = [{"name": f"I{i}", "when": "always", "what": "do " * 300} for i in range(20)]

    edit("categories.yaml", categories)
    edit("topics.yaml", lambda m: [t.update(summary="summary " * 400) for t in m["topics"].values()])
    edit("readings.yaml", lambda m: [r.update(title="T" * 400) for r in m["readings"].values()])
    edit("pitfalls.yaml", lambda m: [p.update(explanation="explain " * 500) for p in m["pitfalls"].values()])
    return root


HUGE_CONCERN = "the AI model shows bias and who decides about the kill switch; law and regulation make it robust"
