"""Slack event payloads translated into `Incoming`: pure functions, no I/O and no policy.

What to answer (bots, edits, unfurls, our own echoes) is the Service's call; this module
only reports what the payload says, so it can be tested with recorded payloads alone.
"""
from __future__ import annotations

from bot.messages import ACTION, MENTION, SLASH, Incoming

from .text import SLACK, to_plain


def from_event(event: dict, body: dict, context, via: str) -> Incoming:
    subtype = event.get("subtype")
    inner = event
    if subtype == "message_changed":
        inner = event.get("message") or {}
    elif subtype == "message_deleted":
        inner = event.get("previous_message") or {}
    raw = inner.get("text") or ""
    bot_user, our_bot_id = context.bot_user_id, context.bot_id
    their_bot_id = inner.get("bot_id") or event.get("bot_id")
    user = inner.get("user") or event.get("user") or their_bot_id or ""
    unfurl = subtype == "message_changed" and not inner.get("edited") and any(
        isinstance(a, dict) and (a.get("from_url") or a.get("original_url")) for a in inner.get("attachments") or ()
    )
    return Incoming(
        platform=SLACK.name,
        workspace=body.get("team_id") or context.team_id or "",
        channel=event.get("channel") or "",
        user=user,
        text=to_plain(raw, bot_user),
        via=via,
        thread=event.get("thread_ts") or (event.get("ts") if via == MENTION else None),
        event_id=body.get("event_id"),
        is_bot=bool(their_bot_id) or subtype == "bot_message",
        from_us=bool((bot_user and user == bot_user) or (our_bot_id and their_bot_id == our_bot_id)),
        is_edit=(subtype in ("message_changed", "message_deleted") and not unfurl) or "edited" in event,
        is_unfurl=unfurl,
    )


def from_command(command: dict, context) -> Incoming:
    """A slash command (`/triage ...`, whatever an admin renamed it to)."""
    return Incoming(SLACK.name, command.get("team_id") or context.team_id or "", command.get("channel_id") or "",
                    command.get("user_id") or "", to_plain(command.get("text"), context.bot_user_id), SLASH)  # fmt: skip


def from_shortcut(shortcut: dict, context) -> Incoming:
    """The message shortcut: the message it was used on, asked about by the invoker (not the
    message's author), in that message's thread."""
    message = shortcut.get("message") or {}
    return Incoming(
        platform=SLACK.name,
        workspace=(shortcut.get("team") or {}).get("id") or context.team_id or "",
        channel=(shortcut.get("channel") or {}).get("id") or "",
        user=(shortcut.get("user") or {}).get("id") or "",
        text=to_plain(message.get("text"), context.bot_user_id),
        via=ACTION,
        thread=message.get("thread_ts") or message.get("ts") or shortcut.get("message_ts") or "",
    )
