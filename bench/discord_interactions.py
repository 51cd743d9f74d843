"""Discord interaction latency: INTERACTION_CREATE in (gateway dispatch) -> callback out (REST).

Runs the real adapter (discord.py 2.x, the real Service with a SQLite store in a temp
dir) against the offline fake Discord from tests/fakes, and times, per interaction, from
the moment the fake sends the gateway frame to the moment it receives
POST /interactions/{id}/{token}/callback. That covers discord.py's parsing and dispatch,
the Incoming translation, the service in a worker thread (dedupe claim in SQLite, rate
limit, triage, record queued), the embed/view rendering and the HTTP callback.

For reference, the "harness floor" is a bare discord.py client answering the same
payload with a constant message: the cost of the fake, the loopback HTTP and discord.py.

    .venv/bin/python bench/discord_interactions.py [--n 500] [--knowledge DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import discord  # noqa: E402
import yaml  # noqa: E402
from discord import app_commands  # noqa: E402

from adapters.discord.client import make_bot  # noqa: E402
from adapters.cli.wiring import build_service  # noqa: E402
from fakes import discord_payloads as P  # noqa: E402
from fakes.discord_api import FakeDiscord, running_client  # noqa: E402

CONCERNS = [
    "the chatbot made up a citation in our legal brief",
    "who decides what the model is allowed to refuse?",
    "our hiring model shows bias against older applicants",
    "facial recognition surveillance in public housing",
    "can we jailbreak the assistant into bypassing its guardrails",
    "regulation will make the model robust",
    "the AI kill switch is controlled by one company",
    "I think the model might hallucinate drug dosages",
]


class FloorClient(discord.Client):
    """The reference: same command shape, constant answer, no service."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        group = app_commands.Group(name="triage", description="floor")

        @group.command(name="ask", description="floor")
        async def ask(interaction: discord.Interaction, concern: str, public: bool = False) -> None:
            await interaction.response.send_message("ok", ephemeral=True)

        self.tree.add_command(group)


def _ask(world: P.World, i: int) -> dict:
    return world.slash("triage", [P.subcommand("ask", [P.option("concern", CONCERNS[i % len(CONCERNS)])])])


async def _measure(fake: FakeDiscord, make_payload, n: int, warmup: int = 20) -> list[float]:
    samples = []
    for i in range(warmup + n):
        data = make_payload(i)
        t0 = await fake.dispatch("INTERACTION_CREATE", data)
        cb = await fake.wait_for_callback(data)
        assert cb.status == 200, cb
        if i >= warmup:
            samples.append((cb.at - t0) * 1000)
        if len(fake.calls) > 2000:
            fake.clear()
    return samples


def _row(name: str, samples: list[float]) -> str:
    s = sorted(samples)
    p50 = s[len(s) // 2]
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return f"  {name:<24}{p50:8.2f} ms{p99:9.2f} ms{statistics.fmean(s):9.2f} ms{s[-1]:9.2f} ms"


async def run(n: int, knowledge: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = P.World()
        config = Path(tmp) / "triage.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": str(Path(tmp) / "data"), "rate_per_minute": 1e9, "rate_burst": 1_000_000,
            "roles": {"moderators": {"discord": [world.moderator_role_id]}},
        }))  # fmt: skip
        service = build_service(argparse.Namespace(config=str(config), knowledge=knowledge))
        try:
            async with FakeDiscord(world) as fake:
                bot = make_bot(service, guild_ready_timeout=0.05)
                async with running_client(fake, bot):
                    asks = await _measure(fake, lambda i: _ask(world, i), n)
                    record = await _record_id(fake, world)
                    clicks = await _measure(
                        fake, lambda i: world.button_click(f"triage:fb:{record}:{('right', 'both')[i % 2]}"), n)
                    assert not bot.errors, bot.errors
                async with running_client(fake, FloorClient()):
                    floor = await _measure(fake, lambda i: _ask(world, i), n)
        finally:
            service.close()
    print(f"Discord interactions, gateway dispatch -> REST callback (fake Discord on loopback, n={n} each,"
          f" sequential; knowledge: {knowledge})")
    print(f"  {'':<24}{'p50':>11}{'p99':>12}{'mean':>12}{'max':>12}")
    print(_row("/triage ask (triage)", asks))
    print(_row("feedback button", clicks))
    print(_row("harness floor", floor))


async def _record_id(fake: FakeDiscord, world: P.World) -> str:
    data = _ask(world, 0)
    await fake.dispatch("INTERACTION_CREATE", data)
    cb = await fake.wait_for_callback(data)
    return next(c for c in cb.custom_ids() if c.startswith("triage:fb:")).split(":")[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="interactions per measurement (default 500)")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge", help="knowledge dir (default: shipped)")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.knowledge))


if __name__ == "__main__":
    main()
