"""The Discord bot: gateway events and interactions in, the service's answers out.

Translation only: every decision (ignore, dedupe, rate limit, command, role check, record)
is the service's. This module turns Discord objects into `Incoming`, runs the synchronous
service in a worker thread, and sends its `Outgoing` back the Discord way: interaction
callbacks (deferring when the 3-second window is at risk), message replies, DMs for
answers only the caller should see.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.messages import DM, MENTION, Incoming, Outgoing
from bot.service import Service

from . import embeds as E
from . import shim
from .embeds import DISCORD
from .replies import Post, render
from .views import DYNAMIC_ITEMS

log = logging.getLogger("adapters.discord")

EXTENSION = "adapters.discord.commands"
DEFER_AFTER_S = 2.0  # Discord drops an interaction not answered within 3 s; defer well before


def intents() -> discord.Intents:
    """Guilds (roles, channels), guild and DM messages. No privileged intent: Discord still
    gives message content for messages that mention the bot and for DMs, which are the only
    messages the bot reads; slash commands and context menus carry their own data."""
    out = discord.Intents.none()
    out.guilds = True
    out.guild_messages = True
    out.dm_messages = True
    return out


class _TriageBot:
    """Behaviour shared by the plain and the auto-sharded bot (see `make_bot`); the Discord
    `adapters.contract.ChatAdapter`."""

    platform = DISCORD

    def __init__(
        self,
        service: Service | None,
        *,
        defer_after: float = DEFER_AFTER_S,
        guild_ready_timeout: float = 2.0,
        gateway_url: str | None = None,
        discover_gateway: bool = False,
        charts_as_png: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            command_prefix=commands.when_mentioned,  # unused: there are no prefix commands
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            chunk_guilds_at_startup=False,
            max_messages=None,  # the bot never looks up earlier messages
            **options,
        )
        self.service = service
        self.defer_after = defer_after
        self.gateway_url = gateway_url
        self.discover_gateway = discover_gateway
        self.charts_as_png = charts_as_png
        self.errors: list[BaseException] = []  # unexpected failures, for tests and health
        self.gateway_failures = 0  # connections ended by an event discord.py could not parse
        self.restart_delay = 1.0
        self.tree.error(self._on_app_command_error)

    # -- lifecycle ------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        if self.gateway_url:
            shim.set_gateway(self.gateway_url)
        elif self.discover_gateway and self.shard_count is None and not isinstance(self, discord.AutoShardedClient):
            # A REST override (tests, proxies) means the default gateway is wrong too: ask
            # that API where its gateway is, as Discord documents (GET /gateway/bot).
            _, url, _ = await self.http.get_bot_gateway()
            shim.set_gateway(url)
        await self.load_extension(EXTENSION)
        # Persistent buttons: registered before the gateway connects, so clicks on messages
        # sent before a restart are answered.
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        """discord.py's start(), except that one malformed gateway payload does not end the
        bot. The library parses each event inside connect(), and an error there (a member
        without `user`, an id that is not a number) ends connect() and so the client.
        Discord's own failures (bad token, closed by Discord) still end it as before; any
        other error is logged, counted for /healthz, and the connection starts again."""
        await self.login(token)
        while not self.is_closed():
            try:
                await self.connect(reconnect=reconnect)
                return
            except (discord.DiscordException, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001 - see the docstring
                if self.is_closed():
                    return
                self.gateway_failures += 1
                log.error("discord gateway event could not be handled; reconnecting", extra={
                    "error": type(exc).__name__, "gateway_failures": self.gateway_failures,
                })  # fmt: skip
                if self.ws is not None:
                    await self.ws.close(code=4000)  # 4000: not a clean close, so the session can resume
                await asyncio.sleep(self.restart_delay)

    async def on_ready(self) -> None:
        log.info("discord ready", extra={
            "bot_user_id": str(self.user.id) if self.user else None,
            "guilds": len(self.guilds), "shards": self.shard_count or 1,
        })  # fmt: skip

    async def health(self) -> tuple[int, dict]:
        """200 when on_ready has fired and the gateway socket(s) are open, else 503. The
        service's own health (knowledge, record store) is reported but does not fail the
        probe: with the store down the bot keeps answering (records are spooled), and
        restarting it would not bring the database back."""
        discord_status = self.status()
        service_status = await asyncio.to_thread(self.service.health, True) if self.service is not None else None
        ok = discord_status["ready"] and discord_status["connected"]
        return (200 if ok else 503), {"ok": ok, "discord": discord_status, "service": service_status}

    async def aclose(self) -> None:
        await self.close()

    def status(self) -> dict:
        """Readiness for /healthz: on_ready has fired and the gateway socket(s) are open."""
        ready = self.is_ready() and not self.is_closed()
        if isinstance(self, discord.AutoShardedClient):
            shards = list(self.shards.values())
            connected = bool(shards) and all(not s.is_closed() for s in shards)
        else:
            ws = self.ws
            connected = ws is not None and ws.open
        latency = self.latency
        return {
            "ready": ready,
            "connected": bool(connected),
            "guilds": len(self.guilds) if ready else 0,
            "shards": self.shard_count or 1,
            "latency_ms": round(latency * 1000, 1) if latency == latency and latency != float("inf") else None,
            "gateway_failures": self.gateway_failures,
        }

    # -- messages: mentions and DMs ---------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        me = self.user
        if me is None or message.author.id == me.id:
            return  # never answer ourselves (our own replies come back as MESSAGE_CREATE)
        is_dm = message.guild is None
        mentions_us = any(u.id == me.id for u in message.mentions)
        if not (is_dm or mentions_us):
            return  # not addressed to us (and without the content intent we can't read it)
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins, thread starters...
        incoming = Incoming(
            platform=DISCORD.name,
            workspace=str(message.guild.id) if message.guild else "",
            channel=str(message.channel.id),
            user=str(message.author.id),
            text=strip_mention(message.content, me.id),
            via=DM if is_dm else MENTION,
            thread=str(message.channel.id) if isinstance(message.channel, discord.Thread) else None,
            user_roles=shim.role_ids(message.author),
            event_id=str(message.id),
            is_bot=message.author.bot,
            from_us=False,
        )
        def work() -> list[Post]:
            # The service answers a flood of mentions with one "slow down" notice, not a flood.
            return self._render(self.service.handle(incoming, DISCORD.limits), True)

        try:
            posts = await asyncio.to_thread(work)
            await self._deliver_to_message(message, posts, is_dm)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the bot
            self._failed("message", exc, event_id=incoming.event_id)

    async def _deliver_to_message(self, message: discord.Message, posts: list[Post], is_dm: bool) -> None:
        """Answers go to the channel as replies; in a guild channel, answers meant for the
        caller alone (refusals, exports) go by DM, with a short note in the channel."""
        private = [p for p in posts if p.private and not is_dm]
        public = [p for p in posts if not (p.private and not is_dm)]
        for i, post in enumerate(public):
            if i == 0:
                try:
                    await message.reply(**post.kwargs(offer_public=False))
                    continue
                except discord.HTTPException as exc:  # e.g. no Read Message History: plain send
                    log.warning("reply failed; sending without reference", extra={"status": exc.status, "code": exc.code})
            await message.channel.send(**post.kwargs(offer_public=False))  # fresh kwargs: files are single-use
        if private:
            # In a channel there is no "only you can see this": send it by DM.
            try:
                for post in private:
                    await message.author.send(**post.kwargs(offer_public=False))
            except discord.HTTPException as exc:
                log.info("could not DM a private answer", extra={"status": exc.status, "code": exc.code})
                note = ("That answer is only for you, but I can't send you a direct message. "
                        "Use `/triage` instead: its answers are visible only to you.")
            else:
                note = "I've answered you in a direct message (that answer is only for you)."
            if not public:
                await message.reply(content=note)

    # -- interactions -----------------------------------------------------------------------

    async def answer(self, interaction: discord.Interaction, text: str, via: str, *, public: bool = False) -> None:
        """Run a command for an interaction and answer it: directly if the service answers
        within `defer_after`, else defer (type 5, "thinking") and edit the answer in."""
        incoming = self.incoming(interaction, text, via)

        def work() -> list[Post]:
            return self._render(self.service.handle(incoming, DISCORD.limits), public)

        await self._respond(interaction, work, public=public)

    async def answer_feedback(self, interaction: discord.Interaction, record_id: str, choice: str) -> None:
        user = str(interaction.user.id)

        def work() -> list[Post]:
            out = self.service.feedback(DISCORD.name, user, record_id, choice, DISCORD.limits, shim.role_ids(interaction.user))
            return self._render([out], False)

        await self._respond(interaction, work, public=False)

    async def answer_keep(self, interaction: discord.Interaction, record_id: str, choice: str, yes: bool) -> None:
        """The answer replaces the question (and its buttons), so it is given once."""
        try:
            out = await asyncio.to_thread(self.service.keep_text, DISCORD.name, str(interaction.user.id), record_id, choice, yes, DISCORD.limits)
            await interaction.response.edit_message(content=E.content(out.text), view=None)
        except Exception as exc:  # noqa: BLE001
            await self._apologise(interaction, exc)

    async def answer_more(self, interaction: discord.Interaction, record_id: str) -> None:
        """The "More" button: the verdict's details, for the clicker only."""
        await self._respond(interaction, lambda: self._render([self.service.details(record_id, DISCORD.limits)], False), public=False)

    async def answer_post_publicly(self, interaction: discord.Interaction, record_id: str | None) -> None:
        """Re-post the private verdict the button sits under, for the whole channel."""
        source = interaction.message.embeds if interaction.message else []
        try:
            if not source:
                await interaction.response.send_message("There's nothing here to post.", ephemeral=True)
                return
            post = Post(record_id=record_id, verdict=True, private=False)
            kw = post.kwargs(offer_public=False)
            await interaction.response.send_message(embeds=source[:10], **kw)
        except Exception as exc:  # noqa: BLE001
            await self._apologise(interaction, exc)

    def incoming(self, interaction: discord.Interaction, text: str, via: str) -> Incoming:
        user = interaction.user
        channel = interaction.channel
        return Incoming(
            platform=DISCORD.name,
            workspace=str(interaction.guild_id or ""),
            channel=str(interaction.channel_id or ""),
            user=str(user.id),
            text=text,
            via=via,
            thread=str(channel.id) if isinstance(channel, discord.Thread) else None,
            user_roles=shim.role_ids(user),
            event_id=str(interaction.id),
            is_bot=user.bot,
        )

    async def _respond(self, interaction: discord.Interaction, work: Callable[[], list[Post]], *, public: bool) -> None:
        try:
            job = asyncio.ensure_future(asyncio.to_thread(work))
            deferred: bool | None = None  # None: not deferred; else the deferral's ephemerality
            done, _ = await asyncio.wait({job}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(ephemeral=not public, thinking=True)
                deferred = not public
            posts = await job
            await self._deliver_to_interaction(interaction, posts, deferred)
        except Exception as exc:  # noqa: BLE001
            await self._apologise(interaction, exc)

    async def _deliver_to_interaction(self, interaction: discord.Interaction, posts: list[Post], deferred: bool | None) -> None:
        if not posts:  # a duplicate delivery the service ignored: the first one was answered
            return
        for i, post in enumerate(posts):
            if i == 0 and not interaction.response.is_done():
                await interaction.response.send_message(**post.kwargs(), ephemeral=post.private)
            elif i == 0 and deferred is not None and post.private == deferred:
                view = post.view(offer_public=True)
                await interaction.edit_original_response(
                    content=post.content,
                    embeds=[e.to_embed() for e in post.embeds],
                    attachments=post.discord_files(),
                    view=view,
                )
            elif i == 0 and deferred is not None:
                # Deferred in public but the answer is private (a refusal, a rate limit):
                # drop the public "thinking..." message and answer privately.
                await interaction.delete_original_response()
                await interaction.followup.send(**post.kwargs(), ephemeral=True)
            else:
                await interaction.followup.send(**post.kwargs(), ephemeral=post.private)

    async def _on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await self._apologise(interaction, error.__cause__ or error)

    async def _apologise(self, interaction: discord.Interaction, exc: BaseException) -> None:
        self._failed("interaction", exc, event_id=str(interaction.id))
        if isinstance(exc, discord.NotFound) and exc.code == 10062:
            return  # the interaction expired: nothing can be sent any more
        text = "Sorry, something went wrong while answering. Please try again in a moment."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            pass

    # -- helpers --------------------------------------------------------------------------

    def render(self, out: Outgoing, *, public: bool = False) -> list[Post]:
        return render(out, public=public, charts_as_png=self.charts_as_png)

    def _render(self, outs: list[Outgoing], public: bool) -> list[Post]:
        return [post for out in outs for post in self.render(out, public=public)]

    def _failed(self, where: str, exc: BaseException, **fields: Any) -> None:
        self.errors.append(exc)
        # No message text and no payload: the exception type and Discord's error code only.
        log.error("discord %s failed", where, extra={
            "error": type(exc).__name__, "status": getattr(exc, "status", None), "code": getattr(exc, "code", None), **fields,
        })  # fmt: skip


class TriageBot(_TriageBot, commands.Bot):
    """One gateway connection: fine up to roughly 1,000 guilds (`--sharded` above that)."""


class ShardedTriageBot(_TriageBot, commands.AutoShardedBot):
    """Asks Discord how many shards to run (GET /gateway/bot) and runs them all."""


def make_bot(service: Service | None, *, sharded: bool = False, **options: Any) -> _TriageBot:
    shim.no_voice_warnings()  # the bot never joins voice
    return (ShardedTriageBot if sharded else TriageBot)(service, **options)


_MENTION = "<@!?{}>"


def strip_mention(text: str, user_id: int) -> str:
    """The message without our mention(s): "@bot the model lies" -> "the model lies"."""
    return re.sub(_MENTION.format(user_id), "", text).strip()
