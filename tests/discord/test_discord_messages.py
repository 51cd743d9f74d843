"""Mentions and DMs (MESSAGE_CREATE over the fake gateway), loop prevention and mention safety."""
from __future__ import annotations

import asyncio

from adapters.discord.client import strip_mention
from adapters.discord.embeds import COLOURS
from discord_kit import CHANNEL_MESSAGES, P, assert_within_limits


def test_a_mention_is_answered_in_the_channel_as_a_reply(env):
    async def body(fake, bot):
        w = fake.world
        msg = w.mention_message("the chatbot made up a citation")
        await fake.dispatch("MESSAGE_CREATE", msg)
        reply = await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        assert reply.path == f"/channels/{w.channel_id}/messages"
        assert str(reply.json["message_reference"]["message_id"]) == msg["id"]
        assert reply.allowed_mentions == {"parse": []}
        assert reply.embeds[0]["color"] == COLOURS["technical"]
        assert len([c for c in reply.custom_ids() if c.startswith("triage:fb:")]) == 5
        assert not [c for c in reply.custom_ids() if c.startswith("triage:pub:")]  # already public
        assert_within_limits(reply)
        env.service.store.flush()
        stats = env.service.store.stats(0)
        assert stats.total == 1 and stats.by_category["technical"] == 1

        # the mention is stripped: "@bot help" is the help command, not a concern
        await fake.dispatch("MESSAGE_CREATE", w.mention_message("help"))
        (_, help_reply) = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=2)
        assert "I triage AI-governance concerns" in help_reply.content

    env.run(body)


def test_a_dm_is_answered_in_the_dm(env):
    async def body(fake, bot):
        w = fake.world
        await fake.dispatch("MESSAGE_CREATE", w.dm_message("who decides where the surveillance goes?"))
        reply = await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        assert reply.path == f"/channels/{w.dm_channel_id}/messages"
        assert reply.embeds[0]["color"] == COLOURS["societal"] and reply.allowed_mentions == {"parse": []}

        # in a DM, even a private answer (a refusal) is answered right there
        await fake.dispatch("MESSAGE_CREATE", w.dm_message("reload"))
        (_, refusal) = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=2)
        assert refusal.path == f"/channels/{w.dm_channel_id}/messages" and "moderators only" in refusal.content

    env.run(body)


def test_bots_ourselves_and_unaddressed_messages_are_ignored(env):
    async def body(fake, bot):
        w = fake.world
        await fake.dispatch("MESSAGE_CREATE", w.guild_message(""))  # not for us: content blanked, no mention
        await fake.dispatch("MESSAGE_CREATE", w.own_message("the chatbot made up a citation"))
        await fake.dispatch("MESSAGE_CREATE", w.bot_message("the chatbot made up a citation"))
        own_dm = w.dm_message("the chatbot made up a citation")
        own_dm["author"] = w.bot_user  # our own reply in a DM comes back as MESSAGE_CREATE too
        await fake.dispatch("MESSAGE_CREATE", own_dm)
        await asyncio.sleep(0.2)
        assert not fake.calls_matching("POST", CHANNEL_MESSAGES)

        # another bot that mentions us is not answered either (two bots would never stop)
        await fake.dispatch("MESSAGE_CREATE", w.bot_message("the chatbot made up a citation", mention_bot=True))
        await asyncio.sleep(0.2)
        assert not fake.calls_matching("POST", CHANNEL_MESSAGES)

    env.run(body)


def _reply_ping(w, text: str) -> dict:
    """Another bot replying to our answer the discord.py way: a reply whose reference pings
    its author (us), so we are in `mentions` though the text never names us."""
    ping = w.bot_message(text, mention_bot=True)
    ping.update(type=19, content=text, message_reference={"message_id": str(P.snowflake()), "channel_id": w.channel_id,
                                                          "guild_id": w.guild_id})
    return ping


def test_a_bot_reply_pinging_our_answer_is_not_answered_unless_allow_listed(env):
    async def quiet(fake, bot):
        await fake.dispatch("MESSAGE_CREATE", fake.world.mention_message("the chatbot made up a citation"))
        await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        for n in range(3):  # the other bot keeps replying to whatever we say
            await fake.dispatch("MESSAGE_CREATE", _reply_ping(fake.world, f"the chatbot made up a citation {n}"))
        await asyncio.sleep(0.3)
        assert len(fake.calls_matching("POST", CHANNEL_MESSAGES)) == 1

    env.run(quiet)
    env.configure(allowed_bots={"discord": [env.world.other_bot_id]}).restart_service()

    async def listed(fake, bot):
        await fake.dispatch("MESSAGE_CREATE", _reply_ping(fake.world, "the chatbot made up a citation"))
        reply = await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        assert reply.embeds[0]["color"] == COLOURS["technical"]

    env.run(listed)


def test_a_redelivered_message_is_answered_once(env):
    async def body(fake, bot):
        msg = fake.world.mention_message("the chatbot made up a citation")
        await fake.dispatch("MESSAGE_CREATE", msg)
        await fake.dispatch("MESSAGE_CREATE", msg)  # e.g. replayed after a gateway resume
        await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        await asyncio.sleep(0.2)
        assert len(fake.calls_matching("POST", CHANNEL_MESSAGES)) == 1

    env.run(body)


def test_everyone_in_a_reply_does_not_ping(env):
    async def body(fake, bot):
        w = fake.world
        # "reading @everyone" echoes the unknown id back (privately: by DM, with a note in the channel)
        await fake.dispatch("MESSAGE_CREATE", w.mention_message("reading @everyone"))
        calls = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=2)
        for call in calls:
            assert call.allowed_mentions == {"parse": []}
            assert "@everyone" not in call.content and "@here" not in call.content
        assert any("@\u200beveryone" in c.content for c in calls)  # readable, inert

    env.run(body)


def test_a_private_answer_to_a_mention_goes_by_dm(env):
    async def body(fake, bot):
        w = fake.world
        await fake.dispatch("MESSAGE_CREATE", w.mention_message("feedback export", author_id=w.moderator_id))
        dm = await fake.wait_for_call("POST", "/users/@me/channels")
        assert dm.json["recipient_id"] in (w.moderator_id, int(w.moderator_id))
        calls = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=2)
        exported = next(c for c in calls if c.is_multipart)
        assert exported.files[0].filename == "feedback-examples.yaml"
        note = next(c for c in calls if c is not exported)
        assert note.path == f"/channels/{w.channel_id}/messages" and "direct message" in note.content
        assert note.json["message_reference"]

    env.run(body)


def test_strip_mention():
    assert strip_mention("<@123> the model lies", 123) == "the model lies"
    assert strip_mention("so <@!123>, is RLHF enough?\nreally", 123) == "so , is RLHF enough?\nreally"
    assert strip_mention("<@456> hi", 123) == "<@456> hi"


def test_a_flood_of_mentions_gets_one_slow_down_notice(env):
    env.configure(rate_per_minute=1, rate_burst=2)

    async def body(fake, bot):
        w = fake.world
        for _ in range(6):
            await fake.dispatch("MESSAGE_CREATE", w.mention_message("the chatbot made up a citation"))
        calls = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=4)
        await asyncio.sleep(0.2)
        calls = fake.calls_matching("POST", CHANNEL_MESSAGES)
        assert len([c for c in calls if c.embeds]) == 2  # the burst is answered
        (limited,) = [c for c in calls if c.content and "faster than I can take them" in c.content]
        assert limited.path != f"/channels/{w.channel_id}/messages"  # by DM, not in the channel
        assert len(calls) == 4, calls  # + one note in the channel; the other 3 mentions get nothing

    env.run(body)
