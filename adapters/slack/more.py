"""The "More" button under a Slack triage: the details, shown only to the person who clicked.

Kept out of app.py so the listener there stays one line: the details are rendered from the
reply the adapter (or the service) still remembers, and posted ephemerally through the
click's response_url, in the thread or channel the triage sits in.
"""
from __future__ import annotations

import asyncio

from bot.render import plain_details

from . import blocks
from .blocks import Share

MORE_PREFIX = "more|"


async def show_more(bot, body: dict, action: dict) -> None:
    record_id = action["action_id"][len(MORE_PREFIX):]
    reply = bot._recall(record_id, Share.parse(action.get("value")))
    if reply is not None:
        messages = blocks.text_messages(plain_details(reply))
    else:
        out = await asyncio.to_thread(bot.service.details, record_id)
        messages = blocks.text_messages(out.text)
    for msg in messages:
        await tell_clicker(bot, body, msg)


async def tell_clicker(bot, body: dict, msg: dict) -> None:
    """A message only the person who clicked sees, next to the message they clicked on."""
    url = body.get("response_url")
    user = (body.get("user") or {}).get("id") or ""
    channel = (body.get("channel") or {}).get("id") or ""
    thread = (body.get("message") or {}).get("thread_ts")
    if url:
        await bot._respond(url, {"response_type": "ephemeral", "replace_original": False, **msg})
    elif channel:
        await bot.app.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, **msg)
