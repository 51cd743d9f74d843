"""Malformed gateway payloads: discord.py's parser raises inside the connection; the bot
logs and counts it, reconnects, and answers the next valid command."""
from __future__ import annotations

import asyncio
import socket

import aiohttp

from adapters.health import start_health_server
from discord_kit import answer, ask


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_malformed_payload_does_not_end_the_client(env):
    async def body(fake, bot):
        w = fake.world
        bot.restart_delay = 0.05
        port = _free_port()
        health = await start_health_server(bot, "127.0.0.1", port)
        try:
            no_user = {"guild_id": w.guild_id, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00"}
            bad_id = w.mention_message("the chatbot made up a citation")
            bad_id["author"] = {**bad_id["author"], "id": "not-a-number"}
            # a member without `user`, then an id that is not a number
            for n, (event, data) in enumerate((("GUILD_MEMBER_UPDATE", no_user), ("MESSAGE_CREATE", bad_id)), 1):
                await fake.dispatch(event, data)
                deadline = asyncio.get_running_loop().time() + 10
                while bot.gateway_failures < n or not bot.is_ready() or not bot.status()["connected"]:
                    assert asyncio.get_running_loop().time() < deadline, bot.status()
                    await asyncio.sleep(0.05)
            call = await answer(fake, ask(w, "the chatbot made up a citation"))
            assert call.callback_type == 4 and call.embeds
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                    report = await r.json()
            assert r.status == 200 and report["discord"]["gateway_failures"] == 2
        finally:
            await health.cleanup()

    env.run(body, timeout=30)
