"""The "may I keep your message?" question after a disagreeing rating, as Slack buttons.

Asked ephemerally, so only the author sees it; nothing is kept unless they click "Yes"
(ignoring the question is a no). action_id ``keep|<yes|no>|<choice>|<record_id>``: the
answer needs the rating it belongs to, and any worker can take the click.
"""
from __future__ import annotations

import asyncio

from bot.messages import Rating

from . import blocks
from .more import tell_clicker
from .text import SLACK, esc

KEEP_PREFIX = "keep|"
KEEP_BLOCK = "keep"


def question(text: str, record_id: str, choice: str) -> dict:
    ids = [f"{KEEP_PREFIX}{answer}|{choice}|{record_id}" for answer in ("yes", "no")]
    return {"text": esc(text), "blocks": [
        blocks.section(esc(text)),
        {"type": "actions", "block_id": KEEP_BLOCK, "elements": [
            blocks.button("Yes, keep it", ids[0], record_id), blocks.button("No", ids[1], record_id)]},
    ]}  # fmt: skip


async def ask(bot, body: dict, rating: Rating) -> None:
    await tell_clicker(bot, body, question(rating.keep_question, rating.record_id, rating.choice))


async def answer(bot, body: dict, action: dict) -> None:
    try:
        _, reply, choice, record_id = action["action_id"].split("|", 3)
    except ValueError:
        return
    user = (body.get("user") or {}).get("id") or ""
    out = await asyncio.to_thread(bot.service.keep_text, SLACK.name, user, record_id, choice, reply == "yes", SLACK.limits)
    url = body.get("response_url")
    if url:  # the answer replaces the question, so it cannot be clicked twice
        await bot._respond(url, {"response_type": "ephemeral", "replace_original": True, "text": esc(out.text)})
    else:
        await tell_clicker(bot, body, {"text": esc(out.text)})
