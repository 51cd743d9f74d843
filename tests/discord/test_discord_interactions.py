"""Slash commands, the context menu and the buttons, through discord.py's own parsing
(INTERACTION_CREATE over the fake gateway), asserting on the REST calls Discord receives."""
from __future__ import annotations

import re

import discord
import yaml

from adapters.discord.embeds import COLOURS
from discord_kit import P, answer, ask, assert_within_limits, feedback_ids, record_id_of, sub

EPHEMERAL = 64


def test_start_loads_commands_and_buttons_without_syncing(env):
    async def body(fake, bot):
        assert {c.name for c in bot.tree.get_commands()} == {"triage", "Triage this message"}
        assert "adapters.discord.commands" in bot.extensions
        assert not fake.calls_matching("PUT", r"/applications/.*/commands"), "never sync on start"
        intents = discord.Intents._from_value(fake.identifies[0]["intents"])
        assert not intents.message_content and intents.guild_messages and intents.dm_messages
        assert bot.status()["ready"] and bot.status()["connected"]
        assert not bot._connection._view_store._views  # buttons are dynamic items: nothing per message

    env.run(body)


def test_ask_is_ephemeral_with_a_category_embed_and_persistent_buttons(env):
    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, "the chatbot made up a citation"))
        assert cb.query == {"with_response": "1"}
        assert cb.callback_type == 4 and cb.flags == EPHEMERAL
        assert cb.allowed_mentions == {"parse": []}
        (embed,) = cb.embeds
        assert embed["color"] == COLOURS["technical"]
        assert embed["title"].startswith("This looks like a technical concern")
        assert "**Why**" in embed["description"] and "made up" in embed["description"]
        names = [f["name"] for f in embed["fields"]]
        assert names[:2] == ["Ask next", "Who to involve"] and "Further reading" in names
        reading = next(f["value"] for f in embed["fields"] if f["name"] == "Further reading")
        assert "](https://reflexive-ai.github.io/research/" in reading
        assert_within_limits(cb)
        rid = record_id_of(cb)
        assert sorted(c.rsplit(":", 1)[1] for c in feedback_ids(cb)) == sorted(
            ["right", "technical", "societal", "both", "not-governance"])
        assert f"triage:pub:{rid}" in cb.custom_ids()
        env.service.store.flush()
        record = env.service.store.get_record(rid)
        assert record.platform == "discord" and record.category == "technical"
        assert record.user == w.member_id and record.workspace == w.guild_id and record.event_id == cb.path.split("/")[2]

        public = await answer(fake, ask(w, "who decides where the surveillance goes?", public=True))
        assert public.callback_type == 4 and not public.ephemeral
        assert public.embeds[0]["color"] == COLOURS["societal"]
        assert not [c for c in public.custom_ids() if c.startswith("triage:pub:")]  # already public

    env.run(body)


def test_subcommands_mirror_the_service_commands(env):
    async def body(fake, bot):
        w = fake.world
        help_ = await answer(fake, sub(w, "help"))
        assert help_.callback_type == 4 and help_.ephemeral and "I triage AI-governance concerns" in help_.content
        assert "/triage ask" in help_.content and len(help_.content) <= 2000

        topics = await answer(fake, sub(w, "topics", P.option("public", True, type=P.OPT_BOOLEAN)))
        assert not topics.ephemeral and "algorithmic-bias" in topics.content

        reading = await answer(fake, sub(w, "reading", P.option("id", "algorithmic-bias")))
        assert reading.ephemeral and "https://reflexive-ai.github.io/research/r-algorithmic-bias/" in reading.content

        stats = await answer(fake, sub(w, "stats", P.option("window", "7d")))
        assert stats.ephemeral and stats.is_multipart
        (embed,) = stats.embeds
        assert embed["title"] == "Triage stats, last 7 days"
        assert embed["description"].startswith("```\nTriage stats, last 7 days") and "Concerns by category" in embed["description"]
        assert embed["image"]["url"] == "attachment://stats.png"
        assert stats.files[0].filename == "stats.png" and stats.files[0].data.startswith(b"\x89PNG")
        assert_within_limits(stats)

        forget = await answer(fake, sub(w, "forget-me"))
        assert forget.ephemeral and forget.content.startswith("Done: I deleted")

    env.run(body)


def test_moderator_commands_check_the_configured_role_ids(env):
    async def body(fake, bot):
        w = fake.world
        refused = await answer(fake, sub(w, "reload", user_id=w.member_id))
        assert refused.ephemeral and "is for moderators only" in refused.content
        allowed = await answer(fake, sub(w, "reload", user_id=w.moderator_id))  # has the moderator role id
        assert allowed.ephemeral and "moderators only" not in allowed.content

        # a disagreement to export, then the export as a moderator (nested subcommand group)
        cb = await answer(fake, ask(w, "the chatbot made up a citation"))
        click = await answer(fake, w.button_click(f"triage:fb:{record_id_of(cb)}:societal"))
        assert click.content.startswith("Thanks, recorded: should be societal.")  # then: may I keep it?
        env.service.store.flush()  # the store writes in the background
        export = w.slash("triage", [P.subcommand_group("feedback", P.subcommand("export"))], user_id=w.moderator_id)
        out = await answer(fake, export)
        assert out.ephemeral and out.content.startswith("1 disagreement(s) exported")
        (f,) = out.files
        assert f.filename == "feedback-examples.yaml" and "user said societal" in f.data.decode()
        assert "examples" in yaml.safe_load(f.data)

        member_export = w.slash("triage", [P.subcommand_group("feedback", P.subcommand("export"))], user_id=w.member_id)
        assert "moderators only" in (await answer(fake, member_export)).content

    env.run(body)


def test_slow_answers_are_deferred_then_edited(env):
    async def body(fake, bot):
        w = fake.world
        data = sub(w, "stats")
        cb = await answer(fake, data)
        assert cb.callback_type == 5 and cb.flags == EPHEMERAL
        token = re.escape(data["token"])
        edit = await fake.wait_for_call("PATCH", rf"/webhooks/{w.application_id}/{token}/messages/@original")
        assert edit.embeds[0]["image"]["url"] == "attachment://stats.png" and edit.files[0].filename == "stats.png"
        assert edit.allowed_mentions == {"parse": []}
        assert_within_limits(edit)

        # a private answer (a refusal) edits the private placeholder
        data = sub(w, "reload")
        cb = await answer(fake, data)
        assert cb.callback_type == 5 and cb.ephemeral
        edit = await fake.wait_for_call("PATCH", rf"/webhooks/{w.application_id}/{re.escape(data['token'])}/messages/@original")
        assert "moderators only" in edit.content

        # deferred in public, but the answer is private (unknown id): the public placeholder
        # is deleted and the answer goes out as an ephemeral follow-up
        data = sub(w, "reading", P.option("id", "no-such-id"), P.option("public", True, type=P.OPT_BOOLEAN))
        cb = await answer(fake, data)
        assert cb.callback_type == 5 and not cb.ephemeral
        token = re.escape(data["token"])
        follow = await fake.wait_for_call("POST", rf"/webhooks/{w.application_id}/{token}")
        assert follow.ephemeral and "I don't know 'no-such-id'" in follow.content
        assert [c.method for c in fake.interaction_calls(data)] == ["POST", "DELETE", "POST"]

    env.run(body, defer_after=0)


def test_message_context_menu_triages_the_target_message(env):
    async def body(fake, bot):
        w = fake.world
        target = w.guild_message("who decides where the surveillance goes?")
        cb = await answer(fake, w.message_context_menu("Triage this message", target))
        assert cb.callback_type == 4 and cb.ephemeral and cb.allowed_mentions == {"parse": []}
        assert cb.embeds[0]["color"] == COLOURS["societal"]
        rid = record_id_of(cb)
        env.service.store.flush()
        assert env.service.store.get_record(rid).category == "societal"

    env.run(body)


def test_feedback_button_is_recorded_in_the_store(env):
    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, "the AI model shows bias"))
        assert cb.embeds[0]["color"] == COLOURS["both"]
        rid = record_id_of(cb)
        message = fake.messages[cb.response["resource"]["message"]["id"]]  # the message the buttons are on
        click = await answer(fake, w.button_click(f"triage:fb:{rid}:right", message_obj=message))
        assert click.callback_type == 4 and click.ephemeral and click.content == "Thanks, recorded: right."
        env.service.store.flush()
        assert env.service.store.feedback_stats().per_category["both"] == (1, 1)

        unknown = await answer(fake, w.button_click("triage:fb:" + "0" * 32 + ":right"))
        assert unknown.ephemeral and "couldn't find that triage" in unknown.content

    env.run(body)


def test_feedback_button_still_works_after_a_restart(env):
    """The record is created by one process; the click reaches a new client and a new
    service (same SQLite file) that never saw the message: only the dynamic item
    registered in setup_hook can answer it."""
    state = {}

    async def before(fake, bot):
        cb = await answer(fake, ask(fake.world, "the chatbot made up a citation"))
        state["custom_id"] = f"triage:fb:{record_id_of(cb)}:societal"

    env.run(before)
    env.restart_service()

    async def after(fake, bot):
        click = await answer(fake, fake.world.button_click(state["custom_id"]))
        assert click.callback_type == 4 and click.ephemeral and click.content == "Thanks, recorded: should be societal."

    env.run(after)
    env.service.store.flush()
    (d,) = env.service.store.disagreements()
    assert d.feedback.choice == "societal" and d.record.category == "technical"


def test_post_publicly_reposts_the_private_verdict(env):
    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, "the chatbot made up a citation"))
        rid = record_id_of(cb)
        private_msg = fake.messages[cb.response["resource"]["message"]["id"]]
        assert private_msg["flags"] & EPHEMERAL
        post = await answer(fake, w.button_click(f"triage:pub:{rid}", message_obj=private_msg))
        assert post.callback_type == 4 and not post.ephemeral
        assert post.embeds[0]["title"] == cb.embeds[0]["title"]
        assert post.embeds[0]["color"] == COLOURS["technical"]
        assert len(feedback_ids(post)) == 5 and not [c for c in post.custom_ids() if c.startswith("triage:pub:")]
        assert post.allowed_mentions == {"parse": []}

    env.run(body)


def test_rate_limit_comes_from_the_service(env):
    env.configure(rate_per_minute=1, rate_burst=2)

    async def body(fake, bot):
        w = fake.world
        for _ in range(2):
            assert (await answer(fake, ask(w, "the chatbot made up a citation", public=True))).embeds
        limited = await answer(fake, ask(w, "the chatbot made up a citation", public=True))
        assert limited.ephemeral and "faster than I can take them" in limited.content

    env.run(body)


def test_everyone_in_a_slash_reply_does_not_ping(env):
    async def body(fake, bot):
        cb = await answer(fake, sub(fake.world, "reading", P.option("id", "@everyone")))
        assert cb.allowed_mentions == {"parse": []}
        assert "@everyone" not in cb.content and "@\u200beveryone" in cb.content

    env.run(body)


def test_reading_ids_autocomplete_from_the_knowledge(env):
    async def body(fake, bot):
        w = fake.world
        data = P.interaction_create(
            interaction_type=P.APPLICATION_COMMAND_AUTOCOMPLETE, application_id=w.application_id,
            data=P.chat_input_data("triage", [P.subcommand("reading", [P.option("id", "bia", focused=True)])]),
            channel=w.channel, guild_id=w.guild_id, member_obj=w.member_of(w.member_id, with_permissions=True),
        )
        cb = await answer(fake, data)
        assert cb.callback_type == 8
        assert cb.json["data"]["choices"] == [{"name": "algorithmic-bias", "value": "algorithmic-bias"}]

    env.run(body)


def test_slash_in_a_dm_and_long_text_as_follow_ups(env):
    topics = env.knowledge / "topics.yaml"
    data = yaml.safe_load(topics.read_text())
    for t in data["topics"].values():
        t["summary"] = "a longer summary " * 20  # ~2,200 characters of topics: two messages
    topics.write_text(yaml.safe_dump(data))

    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, "who decides where the surveillance goes?", in_dm=True))
        assert cb.ephemeral and cb.embeds[0]["color"] == COLOURS["societal"]
        env.service.store.flush()
        record = env.service.store.get_record(record_id_of(cb))
        assert record.workspace == "" and record.channel == w.dm_channel_id

        data = sub(w, "topics")
        first = await answer(fake, data)
        follow = await fake.wait_for_call("POST", rf"/webhooks/{w.application_id}/{re.escape(data['token'])}")
        assert first.ephemeral and follow.ephemeral and follow.query.get("wait") in ("1", "true")
        assert first.content.startswith("Intersection topics") and "Conflation pitfalls" in follow.content
        assert_within_limits(first)
        assert_within_limits(follow)

    env.run(body)


def test_the_default_embed_is_short_and_more_answers_ephemerally(env):
    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, "the chatbot made up a citation"))
        (embed,) = cb.embeds
        shown = [embed["title"], *embed["description"].splitlines()]
        for f in embed["fields"]:
            shown += [f["name"], *f["value"].splitlines()]
        assert len([line for line in shown if line.strip()]) <= 16, shown
        assert "Framing" not in str(embed)
        rid = record_id_of(cb)
        assert f"triage:more:{rid}" in cb.custom_ids()
        message = fake.messages[cb.response["resource"]["message"]["id"]]
        more = await answer(fake, w.button_click(f"triage:more:{rid}", message_obj=message))
        assert more.ephemeral and "Framing" in more.content and "Interventions" in more.content

    env.run(body)
