"""The Slack front end: bolt listeners that translate Slack payloads into `Incoming` and
render each `Outgoing` back, in HTTP mode (see `web.py`) or Socket Mode (`socket_mode.py`).

Every listener follows one pattern: acknowledge at once, then start a tracked task that
calls the (synchronous) Service in a worker thread and talks to Slack. Bolt runs with
``process_before_response=True``, so the HTTP answer (the ack) goes out as soon as the
listener returns, and the tracked tasks are drained on shutdown. No lazy listeners.

Surfaces:
  * app_mention      -> reply in the message's thread
  * message.im       -> reply in the DM
  * /triage          -> ephemeral reply via response_url, with "Share in channel"
  * message shortcut -> ephemeral reply to the invoker, with "Post in thread"
  * buttons          -> feedback (Service.feedback), share / post in thread
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import traceback
from collections import OrderedDict
from dataclasses import replace

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.messages import DM, MENTION, Incoming, Outgoing
from bot.reply import Reply
from bot.service import Service

from . import blocks, keep
from .blocks import Share
from .more import show_more
from .payloads import from_command, from_event, from_shortcut
from .settings import Settings, sdk_logger  # noqa: F401 - Settings is part of this module's API
from .text import SLACK, esc

log = logging.getLogger("adapters.slack")

SHORTCUT_ID = "triage_message"
# message subtypes that carry something a person said (or a flag the Service decides on)
_ANSWERABLE = {None, "bot_message", "file_share", "thread_broadcast", "me_message", "message_changed", "message_deleted"}
_REMEMBER = 2048  # recent replies kept per process for share/feedback re-rendering
_REMEMBER_S = 3600.0
_GROUP_TTL_S = 300.0


class SlackAdapter:
    """One bolt AsyncApp wired to one Service (an `adapters.contract.ChatAdapter`). Call (and
    await) `start()` on the event loop that will serve requests; `aclose()` drains in-flight
    replies and closes the Service."""

    platform = SLACK

    def __init__(self, service: Service, settings: Settings, *, owns_service: bool = True) -> None:
        self.service = service
        self.settings = settings
        self.owns_service = owns_service
        self.app: AsyncApp | None = None
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task] = set()
        self.draining = False
        self._closed = False
        self._replies: OrderedDict[str, tuple[float, Reply]] = OrderedDict()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._quiet = sdk_logger()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> AsyncApp:
        if self.app is not None:
            return self.app
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        client = AsyncWebClient(token=self.settings.bot_token, base_url=self.settings.base_url, session=self.session, logger=self._quiet)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        app = AsyncApp(
            client=client,
            signing_secret=self.settings.signing_secret,
            process_before_response=True,
            logger=self._quiet,
        )
        self._register(app)
        self.app = app
        return app

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(self._guard(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float) -> int:
        """Wait for in-flight replies (up to `timeout` s); cancel the rest. Returns how many
        were abandoned."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self.tasks), timeout=remaining)
        left = list(self.tasks)
        if left:
            log.warning("shutdown: abandoning unfinished replies", extra={"count": len(left)})
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
        return len(left)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.draining = True
        abandoned = await self.drain(self.settings.drain_seconds)
        if self.session is not None:
            await self.session.close()
        if self.owns_service:
            await asyncio.to_thread(self.service.close)
        log.info("slack adapter stopped", extra={"abandoned": abandoned})

    async def health(self) -> tuple[int, dict]:
        report = await asyncio.to_thread(self.service.health, True)  # public: no hosts or paths
        ok = bool(report.get("ok")) and not self.draining and self.app is not None
        report = {**report, "ok": ok, "platform": SLACK.name, "pid": os.getpid(), "in_flight": len(self.tasks), "draining": self.draining}
        return (200 if ok else 503), report

    def render(self, out: Outgoing, *, share: Share | None = None) -> list[dict]:
        return blocks.render(out, share=share)

    # -- listeners --------------------------------------------------------------------------

    def _register(self, app: AsyncApp) -> None:
        @app.event("app_mention")
        async def on_mention(event, body, context):
            channel = event.get("channel") or ""
            if channel.startswith("D"):
                return  # in a DM the same words also arrive as message.im, which answers them
            incoming = from_event(event, body, context, MENTION)
            self.spawn(self._converse(incoming, channel, event.get("thread_ts") or event.get("ts")))

        @app.event("message")
        async def on_message(event, body, context):
            if event.get("channel_type") != "im" or event.get("subtype") not in _ANSWERABLE:
                return  # only DMs (message.im); joins, topic changes etc. carry no concern
            incoming = from_event(event, body, context, DM)
            self.spawn(self._converse(incoming, event.get("channel") or "", event.get("thread_ts")))

        @app.event(re.compile(".*"))
        async def on_other_event():
            return None  # acknowledged (a 404 would make Slack retry), otherwise ignored

        @app.command(re.compile(r"^/"))  # /triage, or whatever an admin renamed it to
        async def on_command(ack, command, context):
            await ack()
            incoming = from_command(command, context)
            self.spawn(self._answer_privately(incoming, command.get("response_url"), Share("channel", _triaged_text(self.service, incoming))))

        @app.shortcut(SHORTCUT_ID)
        async def on_shortcut(ack, shortcut, context):
            await ack()
            incoming = from_shortcut(shortcut, context)
            share = Share("thread", incoming.text, incoming.channel, incoming.thread or "")
            self.spawn(self._answer_privately(incoming, shortcut.get("response_url"), share))

        @app.action(re.compile(r"^fb\|"))
        async def on_feedback(ack, body, action):
            await ack()
            self.spawn(self._feedback(body, action))

        @app.action(re.compile(r"^more\|"))
        async def on_more(ack, body, action):
            await ack()
            self.spawn(show_more(self, body, action))

        @app.action(re.compile(r"^keep\|"))
        async def on_keep(ack, body, action):
            await ack()
            self.spawn(keep.answer(self, body, action))

        @app.action(re.compile(r"^(share|thread)\|"))
        async def on_share(ack, body, action):
            await ack()
            self.spawn(self._share(body, action))

    # -- answering ------------------------------------------------------------------------

    async def _handle(self, incoming: Incoming) -> list[Outgoing]:
        if self.service.ignores(incoming):
            return []
        roles = await self._roles(incoming)
        if roles:
            incoming = replace(incoming, user_roles=roles)
        return await asyncio.to_thread(self.service.handle, incoming, SLACK.limits)

    async def _converse(self, incoming: Incoming, channel: str, thread_ts: str | None) -> None:
        """Mentions and DMs: answer in the conversation (thread); private answers (refusals,
        rate limits, exports) as an ephemeral message outside DMs."""
        client = self.app.client
        for out in await self._handle(incoming):
            self._remember(out)
            if await self._upload(out, channel, thread_ts):
                continue
            private = out.private and not channel.startswith("D")
            for msg in self.render(out):
                if private:
                    await client.chat_postEphemeral(channel=channel, user=incoming.user, thread_ts=thread_ts, **msg)
                else:
                    await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **msg)

    async def _answer_privately(self, incoming: Incoming, response_url: str | None, share: Share) -> None:
        """Slash command and message shortcut: ephemeral to the invoker (response_url)."""
        for out in await self._handle(incoming):
            self._remember(out)
            for msg in self.render(out, share=share if out.reply is not None else None):
                await self._ephemeral(response_url, incoming, msg)

    async def _ephemeral(self, response_url: str | None, incoming: Incoming, msg: dict, **fields) -> None:
        if response_url:
            await self._respond(response_url, {"response_type": "ephemeral", **fields, **msg})
        else:
            await self.app.client.chat_postEphemeral(channel=incoming.channel, user=incoming.user, thread_ts=incoming.thread, **msg)

    async def _respond(self, url: str, payload: dict) -> bool:
        hook = AsyncWebhookClient(url, session=self.session, logger=self._quiet,
                                  retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])  # fmt: skip
        resp = await hook.send_dict(payload)
        if resp.status_code != 200:
            log.warning("response_url post failed", extra={"status": resp.status_code})
            return False
        return True

    async def _upload(self, out: Outgoing, channel: str, thread_ts: str | None) -> bool:
        """Stats as a PNG, an export as a YAML file in a DM: only with --upload-charts (the
        files:write scope). False means "send it as text instead"."""
        if not self.settings.upload_charts:
            return False
        try:
            if out.chart is not None and not out.private:
                from bot.chart import png

                content = await asyncio.to_thread(png, out.chart)
                comment = out.chart.title + (f"\n{out.chart.footer}" if out.chart.footer else "")
                await self.app.client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=content, filename="triage-stats.png",
                                                      title=out.chart.title, alt_txt=out.chart.title, initial_comment=esc(comment))  # fmt: skip
                return True
            if out.attachment is not None and channel.startswith("D"):
                a = out.attachment
                await self.app.client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=a.content, filename=a.filename,
                                                      title=a.filename, initial_comment=esc(out.text))  # fmt: skip
                return True
        except SlackApiError as exc:
            log.warning("file upload failed; sending text instead", extra={"error": exc.response.get("error")})
        return False

    # -- buttons --------------------------------------------------------------------------

    async def _feedback(self, body: dict, action: dict) -> None:
        try:
            _, choice, record_id = action["action_id"].split("|", 2)
        except ValueError:
            return
        user = (body.get("user") or {}).get("id") or ""
        roles = await self._member_of(user, self.service.roles_to_look_up_for_rating(SLACK.name, user))
        out = await asyncio.to_thread(self.service.feedback, SLACK.name, user, record_id, choice, SLACK.limits, roles)
        ack = ":white_check_mark: " + esc(out.text) if out.rating else esc(out.text)
        message = body.get("message")
        url = body.get("response_url")
        if out.rating is None:  # not recorded (refused, unknown record): tell the clicker alone
            payload = {"response_type": "ephemeral", "replace_original": False, "text": ack}
        elif message and message.get("blocks"):  # a message everyone sees: keep it, note the rating
            payload = {"replace_original": True, "text": message.get("text") or "Triage", "blocks": blocks.with_ack(message["blocks"], ack)}
        else:  # ephemeral: Slack sent no copy, so render it again from what the buttons carry
            ctx = Share.parse(action.get("value"))
            reply = self._recall(record_id, ctx)
            if reply is None:
                payload = {"response_type": "ephemeral", "replace_original": False, "text": ack}
            else:
                share = Share(ctx["m"], ctx.get("t", ""), ctx.get("c", ""), ctx.get("ts", "")) if ctx.get("m") in ("channel", "thread") else None
                payload = {"replace_original": True, **blocks.triage_message(reply, record_id, share=share, ack=ack)}
        if url:
            await self._respond(url, payload)
        elif message and body.get("channel"):
            await self.app.client.chat_update(channel=body["channel"]["id"], ts=message["ts"], text=payload["text"], blocks=payload.get("blocks"))
        if out.rating is not None and out.rating.keep_question:  # the author disagreed: may their message be kept?
            await keep.ask(self, body, out.rating)

    async def _share(self, body: dict, action: dict) -> None:
        kind, _, record_id = action["action_id"].partition("|")
        ctx = Share.parse(action.get("value"))
        url = body.get("response_url")
        reply = self._recall(record_id, ctx)
        if reply is None:
            if url:
                await self._respond(url, {"response_type": "ephemeral", "replace_original": False,
                                          "text": "Sorry, I no longer have that reply to share. Please ask again."})  # fmt: skip
            return
        msg = blocks.triage_message(reply, record_id)  # the public version: feedback, no share button
        if kind == "thread":
            channel = ctx.get("c") or (body.get("channel") or {}).get("id") or ""
            thread_ts = ctx.get("ts") or None
            try:
                await self.app.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **msg)
            except SlackApiError as exc:  # e.g. not_in_channel: the response_url still works
                log.info("thread post failed; posting through response_url", extra={"error": exc.response.get("error")})
                if not url or not await self._respond(url, {"response_type": "in_channel", "replace_original": False, "thread_ts": thread_ts, **msg}):
                    return
        elif not url or not await self._respond(url, {"response_type": "in_channel", "replace_original": False, **msg}):
            return
        if url:
            await self._respond(url, {"delete_original": True})

    # -- helpers --------------------------------------------------------------------------

    def _remember(self, out: Outgoing) -> None:
        if out.reply is None or not out.record_id:
            return
        self._replies[out.record_id] = (time.monotonic(), out.reply)
        self._replies.move_to_end(out.record_id)
        while len(self._replies) > _REMEMBER:
            self._replies.popitem(last=False)

    def _recall(self, record_id: str, ctx: dict) -> Reply | None:
        """The reply for a record: from this process's memory, else re-rendered (not
        recorded again) from the text the button carries, e.g. when another worker sent it."""
        hit = self._replies.get(record_id)
        if hit and time.monotonic() - hit[0] < _REMEMBER_S:
            return hit[1]
        text = ctx.get("t")
        if not isinstance(text, str) or ctx.get("r") != record_id:
            return None
        return self.service.preview(text)

    async def _roles(self, incoming: Incoming) -> frozenset[str]:
        """Slack sends no roles with a message: of the user groups (ids "S...") the service
        says decide this message's command, the ones the user is in (needs usergroups:read;
        cached 5 minutes). Which command needs which role is the service's policy."""
        return await self._member_of(incoming.user, self.service.roles_to_look_up(incoming))

    async def _member_of(self, user: str, ids: frozenset[str]) -> frozenset[str]:
        """Of the configured ids, the user groups ("S...") the user is in."""
        found = set()
        for group in sorted(g for g in ids if g.startswith("S")):
            if user in await self._group_members(group):
                found.add(group)
        return frozenset(found)

    async def _group_members(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        hit = self._groups.get(group)
        if hit and hit[0] > now:
            return hit[1]
        try:
            resp = await self.app.client.usergroups_users_list(usergroup=group)
            members = frozenset(resp.get("users") or ())
        except SlackApiError as exc:
            log.warning("user group lookup failed", extra={"group": group, "error": exc.response.get("error")})
            members = frozenset()
        self._groups[group] = (now + _GROUP_TTL_S, members)
        return members

    async def _guard(self, coro) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except SlackApiError as exc:
            log.warning("slack call failed", extra={"error": exc.response.get("error")})
        except Exception as exc:  # noqa: BLE001 - a reply task must never take the loop down
            # type and place only: an exception's message may quote what someone wrote
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            log.error("reply failed", extra={"error": type(exc).__name__, "at": f"{where.filename}:{where.lineno}" if where else "?"})


def _triaged_text(service: Service, incoming: Incoming) -> str:
    """What a slash command triages: the concern without a leading `triage` word."""
    command = service.command(incoming)
    return command.arg if command.name == "triage" else incoming.text
