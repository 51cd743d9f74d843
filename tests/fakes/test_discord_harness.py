"""Proves the offline Discord harness with a throwaway discord.py client (NOT the product).

The real ``discord.Client`` logs in against ``FakeDiscord`` (REST), connects to
its gateway websocket (HELLO/IDENTIFY/READY/GUILD_CREATE), receives raw
documented payloads through discord.py's own parsers, and we assert on the REST
calls Discord would receive.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from typing import Any, Awaitable, Callable, List

import discord
from discord import app_commands

from . import discord_payloads as P
from .discord_api import FakeDiscord, running_client

CALLBACK = r"/interactions/\d+/[^/]+/callback"
CHANNEL_MESSAGES = r"/channels/\d+/messages"


# ---------------------------------------------------------------------------
# throwaway client
# ---------------------------------------------------------------------------


class FeedbackView(discord.ui.View):
    """Persistent: timeout=None and a custom_id on every item."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Helpful", style=discord.ButtonStyle.success, custom_id="demo:fb:up")
    async def up(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("thanks for the feedback", ephemeral=True)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"demo:vote:(?P<verdict>[a-z0-9]+)"):
    """Persistent button carrying state in its custom_id (one handler for every message)."""

    def __init__(self, verdict: str) -> None:
        super().__init__(discord.ui.Button(label="Vote", custom_id=f"demo:vote:{verdict}"))
        self.verdict = verdict

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["verdict"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"vote recorded for {self.verdict}", ephemeral=True)


class DemoClient(discord.Client):
    def __init__(self, world: P.World, *, sharded: bool = False) -> None:
        super().__init__(
            intents=discord.Intents.default(),  # no privileged message_content
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,  # default 2 s delays on_ready
        )
        self.world = world
        self.tree = app_commands.CommandTree(self)
        self.errors: List[BaseException] = []
        self.seen_messages: List[discord.Message] = []
        self.setup_hook_ran = False
        _register_commands(self)

        @self.tree.error
        async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            self.errors.append(error)

    async def setup_hook(self) -> None:
        self.setup_hook_ran = True
        self.add_view(FeedbackView())  # persistent views registered at start
        self.add_dynamic_items(VoteButton)

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)
        if message.author.id == self.user.id:
            return
        mentioned = self.user in message.mentions
        if message.author.bot and not mentioned:
            return
        if message.guild is not None and not mentioned:
            return
        await message.reply(f"triaged: {message.content[:50]}", embed=_embed("technical"))


class DemoShardedClient(DemoClient, discord.AutoShardedClient):
    pass


COLOURS = {"technical": 0x3498DB, "societal": 0xE67E22, "both": 0x9B59B6}


def _embed(category: str, description: str = "Routing summary") -> discord.Embed:
    e = discord.Embed(title=f"Category: {category}", description=description, colour=COLOURS[category])
    e.add_field(name="Why", value="matched rules", inline=False)
    return e


def _register_commands(client: DemoClient) -> None:
    tree = client.tree
    world = client.world

    group = app_commands.Group(name="triage", description="Triage a governance concern")

    @group.command(name="concern", description="Triage a concern")
    async def concern(interaction: discord.Interaction, text: str, public: bool = False) -> None:
        await interaction.response.send_message(embed=_embed("both", text), view=FeedbackView(), ephemeral=not public)

    @group.command(name="stats", description="Stats as a chart (slow: defers)")
    async def stats(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(0.05)
        png = discord.File(io.BytesIO(b"\x89PNG\r\n\x1a\nfake"), filename="stats.png")
        embed = _embed("technical", "stats").set_image(url="attachment://stats.png")
        await interaction.edit_original_response(embed=embed, attachments=[png])
        await interaction.followup.send("more detail", ephemeral=True)

    @group.command(name="reload", description="Moderators only")
    async def reload(interaction: discord.Interaction) -> None:
        member = interaction.user
        roles = {r.id for r in getattr(member, "roles", [])}
        if int(world.moderator_role_id) not in roles:
            await interaction.response.send_message("moderators only", ephemeral=True)
            return
        await interaction.response.send_message("reloaded", ephemeral=True)

    feedback = app_commands.Group(name="feedback", description="Feedback", parent=group)

    @feedback.command(name="export", description="Export feedback")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("exported", ephemeral=True)

    tree.add_command(group)

    @tree.context_menu(name="Triage this message")
    async def triage_message(interaction: discord.Interaction, message: discord.Message) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(VoteButton("v1"))
        await interaction.response.send_message(embed=_embed("societal", message.content), view=view, ephemeral=True)


# ---------------------------------------------------------------------------
# runner
# ---------------------------------------------------------------------------


def run(test: Callable[[FakeDiscord, DemoClient], Awaitable[None]], *, sharded: bool = False, **fake_kw: Any) -> None:
    async def main() -> None:
        async with FakeDiscord(**fake_kw) as fake:
            client = (DemoShardedClient if sharded else DemoClient)(fake.world)
            async with running_client(fake, client):
                await test(fake, client)
            assert not client.errors, client.errors
            assert not fake.errors, fake.errors

    asyncio.run(asyncio.wait_for(main(), 20))


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


def test_login_handshake_and_state() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        assert client.setup_hook_ran
        assert client.is_ready() and not client.is_closed()
        assert client.user.id == int(w.bot_id)
        assert client.application_id == int(w.application_id)
        assert [c.path for c in fake.calls][:2] == ["/users/@me", "/oauth2/applications/@me"]
        assert not fake.calls_matching("PUT", r"/applications/.*/commands"), "never sync on start"
        ident = fake.identifies[0]
        assert ident["token"] == "fake-token"
        assert not discord.Intents._from_value(ident["intents"]).message_content
        guild = client.get_guild(int(w.guild_id))
        assert guild is not None and guild.get_role(int(w.moderator_role_id)).name == "Moderator"
        assert guild.get_channel(int(w.channel_id)) is not None
        assert fake.connected

    run(body)


def test_slash_command_ephemeral_with_view_and_embed_limits() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        data = w.slash("triage", [P.subcommand("concern", [P.option("text", "model weights leaked")])])
        await fake.dispatch("INTERACTION_CREATE", data)
        cb = await fake.wait_for_callback(data)
        assert cb.status == 200
        assert cb.query == {"with_response": "1"}
        assert cb.callback_type == 4 and cb.flags == 64 and cb.ephemeral
        assert cb.allowed_mentions == {"parse": []}
        (embed,) = cb.embeds
        assert embed["color"] == COLOURS["both"] and embed["description"] == "model weights leaked"
        assert P.embed_size(embed) <= P.LIMIT_EMBEDS_TOTAL and not P.message_limit_errors(cb.message_payload)
        assert cb.custom_ids() == ["demo:fb:up"]

        public = w.slash("triage", [P.subcommand("concern", [P.option("text", "x"), P.option("public", True, type=P.OPT_BOOLEAN)])])
        await fake.dispatch("INTERACTION_CREATE", public)
        cb = await fake.wait_for_callback(public)
        assert cb.callback_type == 4 and not cb.ephemeral

    run(body)


def test_nested_subcommand_and_moderator_role_check() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        export = w.slash("triage", [P.subcommand_group("feedback", P.subcommand("export"))])
        await fake.dispatch("INTERACTION_CREATE", export)
        assert (await fake.wait_for_callback(export)).content == "exported"

        as_member = w.slash("triage", [P.subcommand("reload")], user_id=w.member_id)
        as_mod = w.slash("triage", [P.subcommand("reload")], user_id=w.moderator_id)
        await fake.dispatch("INTERACTION_CREATE", as_member)
        await fake.dispatch("INTERACTION_CREATE", as_mod)
        assert (await fake.wait_for_callback(as_member)).content == "moderators only"
        assert (await fake.wait_for_callback(as_mod)).content == "reloaded"

    run(body)


def test_defer_then_edit_original_with_file_and_followup() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        data = w.slash("triage", [P.subcommand("stats")])
        await fake.dispatch("INTERACTION_CREATE", data)
        cb = await fake.wait_for_callback(data)
        assert cb.callback_type == 5 and cb.flags == 64
        token = re.escape(data["token"])
        edit = await fake.wait_for_call("PATCH", rf"/webhooks/{w.application_id}/{token}/messages/@original")
        assert edit.is_multipart and edit.files[0].filename == "stats.png"
        assert edit.json["embeds"][0]["image"]["url"] == "attachment://stats.png"
        assert edit.allowed_mentions == {"parse": []}
        follow = await fake.wait_for_call("POST", rf"/webhooks/{w.application_id}/{token}")
        assert follow.query.get("wait") in ("1", "true") and follow.ephemeral and follow.content == "more detail"
        assert [c.method for c in fake.interaction_calls(data)] == ["POST", "PATCH", "POST"]

    run(body)


def test_message_context_menu() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        target = w.guild_message("we should regulate frontier labs")
        data = w.message_context_menu("Triage this message", target)
        await fake.dispatch("INTERACTION_CREATE", data)
        cb = await fake.wait_for_callback(data)
        assert cb.callback_type == 4 and cb.ephemeral
        assert cb.embeds[0]["description"] == "we should regulate frontier labs"
        assert cb.embeds[0]["color"] == COLOURS["societal"]

    run(body)


def test_persistent_view_and_dynamic_item_dispatch_by_custom_id() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        # No earlier REST message: as after a restart, only the registered persistent view can answer.
        click = w.button_click("demo:fb:up")
        await fake.dispatch("INTERACTION_CREATE", click)
        cb = await fake.wait_for_callback(click)
        assert cb.callback_type == 4 and cb.ephemeral and cb.content == "thanks for the feedback"

        vote = w.button_click("demo:vote:abc123")
        await fake.dispatch("INTERACTION_CREATE", vote)
        assert (await fake.wait_for_callback(vote)).content == "vote recorded for abc123"

        unknown = w.button_click("nobody:handles:this")
        await fake.dispatch("INTERACTION_CREATE", unknown)
        await asyncio.sleep(0.1)
        assert not fake.interaction_calls(unknown)

    run(body)


def test_mentions_dms_and_bot_filtering() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        await fake.dispatch("MESSAGE_CREATE", w.guild_message(""))  # no intent: content blank, not for us
        await fake.dispatch("MESSAGE_CREATE", w.own_message("my own reply"))
        await fake.dispatch("MESSAGE_CREATE", w.bot_message("bot chatter"))
        await fake.dispatch("MESSAGE_CREATE", w.mention_message("is RLHF enough?"))
        reply = await fake.wait_for_call("POST", CHANNEL_MESSAGES)
        assert reply.path == f"/channels/{w.channel_id}/messages"
        assert reply.allowed_mentions == {"parse": []}  # client-wide AllowedMentions.none()
        assert str(reply.json["message_reference"]["channel_id"]) == w.channel_id
        assert reply.content.startswith(f"triaged: <@{w.bot_id}> is RLHF enough?")
        assert reply.embeds[0]["color"] == COLOURS["technical"]

        await fake.dispatch("MESSAGE_CREATE", w.bot_message("hey triage", mention_bot=True))
        await fake.dispatch("MESSAGE_CREATE", w.dm_message("privacy question"))
        replies = await fake.wait_for_calls("POST", CHANNEL_MESSAGES, n=3)
        assert replies[2].path == f"/channels/{w.dm_channel_id}/messages"
        assert replies[2].content == "triaged: privacy question"
        assert len(client.seen_messages) == 6
        await asyncio.sleep(0.05)
        assert len(fake.calls_matching("POST", CHANNEL_MESSAGES)) == 3

    run(body)


def test_command_sync_only_when_asked() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        guild = discord.Object(id=int(w.guild_id))
        client.tree.copy_global_to(guild=guild)
        synced = await client.tree.sync(guild=guild)
        put = await fake.wait_for_call("PUT", rf"/applications/{w.application_id}/guilds/{w.guild_id}/commands")
        names = sorted((c["name"], c.get("type", 1)) for c in put.json)
        assert names == [("Triage this message", 3), ("triage", 1)]
        assert {c.name for c in synced} == {"triage", "Triage this message"}

    run(body)


def test_interaction_deadline_and_limits_are_enforced() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        w = fake.world
        # Late answer: Discord says 10062 Unknown interaction.
        data = w.slash("triage", [P.subcommand("concern", [P.option("text", "late")])])
        fake.register_interaction(data)
        fake.interactions[data["id"]].dispatched_at = time.perf_counter() - 10
        client._connection.parsers["INTERACTION_CREATE"](data)  # parser-injection path also works
        cb = await fake.wait_for_callback(data)
        assert cb.status == 404 and cb.response["code"] == 10062
        for _ in range(100):  # discord.NotFound reaches the tree error handler just after the call
            if client.errors:
                break
            await asyncio.sleep(0.01)
        assert isinstance(client.errors[0].__cause__ or client.errors[0], discord.NotFound), client.errors
        client.errors.clear()
        fake.errors.clear()

        # Oversized embed: 400 Invalid Form Body.
        channel = client.get_channel(int(w.channel_id))
        try:
            await channel.send(embed=discord.Embed(description="x" * 4097))
        except discord.HTTPException as exc:
            assert exc.status == 400 and exc.code == 50035
        else:
            raise AssertionError("limit not enforced")

    run(body)


def test_gateway_resume_after_server_close() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        await fake.close_gateway(4000)
        deadline = time.monotonic() + 5
        while not any(f.get("op") == 6 for f in fake.gateway_frames):
            assert time.monotonic() < deadline, fake.gateway_frames
            await asyncio.sleep(0.01)
        await fake.wait_identified()
        data = fake.world.slash("triage", [P.subcommand_group("feedback", P.subcommand("export"))])
        await fake.dispatch("INTERACTION_CREATE", data)
        assert (await fake.wait_for_callback(data)).content == "exported"
        assert len(fake.identifies) == 1  # resumed, not re-identified

    run(body)


def test_auto_sharded_client_uses_gateway_bot() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        assert fake.calls_matching("GET", r"/gateway/bot")
        assert fake.identifies[0]["shard"] == [0, 1]
        data = fake.world.slash("triage", [P.subcommand("concern", [P.option("text", "sharded")])])
        await fake.dispatch("INTERACTION_CREATE", data)
        assert (await fake.wait_for_callback(data)).ephemeral

    run(body, sharded=True)


def test_latency_payload_in_to_callback_out() -> None:
    async def body(fake: FakeDiscord, client: DemoClient) -> None:
        samples = []
        for i in range(30):
            data = fake.world.slash("triage", [P.subcommand("concern", [P.option("text", f"q{i}")])])
            t0 = await fake.dispatch("INTERACTION_CREATE", data)
            cb = await fake.wait_for_callback(data)
            samples.append(cb.at - t0)
        samples.sort()
        p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]
        assert p99 < 1.0, (p50, p99)

    run(body)
