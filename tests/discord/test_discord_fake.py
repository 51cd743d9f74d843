"""The fake Discord itself (tests/fakes/discord_api.py), as the real discord.py client sees
it: the login handshake and the world it describes, Discord's own refusals (a late
interaction callback, an oversized embed), resuming a closed gateway session, and that a
button nobody handles is never answered. The adapter tests rely on all of it."""
from __future__ import annotations

import asyncio
import time

import discord

from discord_kit import answer, sub


def test_login_handshake_and_the_world_discord_py_sees(env):
    async def body(fake, bot):
        w = fake.world
        assert bot.user.id == int(w.bot_id) and bot.application_id == int(w.application_id)
        assert [c.path for c in fake.calls][:2] == ["/users/@me", "/oauth2/applications/@me"]
        assert fake.identifies[0]["token"] == fake.token and fake.connected
        guild = bot.get_guild(int(w.guild_id))
        assert guild is not None and guild.get_role(int(w.moderator_role_id)).name == "Moderator"
        assert guild.get_channel(int(w.channel_id)) is not None

    env.run(body)


def test_a_late_callback_and_an_oversized_embed_are_refused_like_discord_does(env):
    async def body(fake, bot):
        w = fake.world
        deadline, fake.interaction_deadline = fake.interaction_deadline, -1.0  # every answer is late
        cb = await answer(fake, sub(w, "help"))
        fake.interaction_deadline = deadline
        assert cb.status == 404 and cb.response["code"] == 10062  # Unknown interaction
        for _ in range(100):  # the bot notes the failure just after the call
            if bot.errors:
                break
            await asyncio.sleep(0.01)
        assert isinstance(bot.errors[0], discord.NotFound), bot.errors
        bot.errors.clear()
        fake.errors.clear()

        try:
            await bot.get_channel(int(w.channel_id)).send(embed=discord.Embed(description="x" * 4097))
        except discord.HTTPException as exc:
            assert exc.status == 400 and exc.code == 50035  # Invalid Form Body
        else:
            raise AssertionError("limit not enforced")

    env.run(body)


def test_a_closed_gateway_session_is_resumed_not_identified_again(env):
    async def body(fake, bot):
        await fake.close_gateway(4000)
        deadline = time.monotonic() + 5
        while not any(f.get("op") == 6 for f in fake.gateway_frames):  # RESUME
            assert time.monotonic() < deadline, fake.gateway_frames
            await asyncio.sleep(0.01)
        await fake.wait_identified()
        assert (await answer(fake, sub(fake.world, "help"))).status == 200
        assert len(fake.identifies) == 1

    env.run(body)


def test_a_button_nobody_handles_is_not_answered(env):
    async def body(fake, bot):
        unknown = fake.world.button_click("nobody:handles:this")
        await fake.dispatch("INTERACTION_CREATE", unknown)
        await asyncio.sleep(0.1)
        assert not fake.interaction_calls(unknown)

    env.run(body)
