"""Outgoing -> Slack messages (Block Kit + a plain `text` fallback), within Slack's limits.

The triage layout follows `bot.render.sections`, so Slack shows the same parts in the same
order as the console and Discord. Every dynamic string is escaped (`text.esc`); every
message carries a `text` fallback; a section never exceeds 3,000 characters and a message
never exceeds 50 blocks (long replies are shortened with a note, long plain answers are
split over several messages).

Button identifiers (the adapter parses them back):
  * feedback: action_id ``fb|<choice>|<record_id>``
  * more:     action_id ``more|<record_id>``: the details, ephemerally (adapters/slack/more.py)
  * share:    action_id ``share|<record_id>`` (post in channel) or ``thread|<record_id>``
    (post in the thread of the message a shortcut was used on)
  * on ephemeral replies every button's value is a small JSON context (record, original
    text, where to share), because Slack sends no copy of an ephemeral message back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.chart import text_bars
from bot.messages import Outgoing
from bot.render import has_details, plain, sections
from bot.reply import Reply
from bot.vocabulary import CATEGORY_TABLE, FEEDBACK

from .text import chunks, cut, esc, link

MAX_BLOCKS = 50
SECTION_CHARS = 3000
CONTEXT_CHARS = 2000
FALLBACK_CHARS = 3000
BUTTON_VALUE_CHARS = 2000
MESSAGE_CHARS = 12000  # per message, well under what chat.postMessage accepts
EXPORT_SECTIONS = 6
MAX_MESSAGES = 5  # a response_url accepts five posts; more is never useful in chat

CATEGORY_CUE = {c.name: (c.emoji, c.title) for c in CATEGORY_TABLE}
FEEDBACK_BUTTONS = tuple((c.name, c.button) for c in FEEDBACK)
FEEDBACK_BLOCK, ACK_BLOCK, SHARE_BLOCK = "feedback", "feedback_ack", "share"


@dataclass(frozen=True)
class Share:
    """Where a private (ephemeral) triage can be made public, and what it was about."""

    mode: str  # "channel" (slash command) | "thread" (message shortcut)
    text: str  # the triaged text, to re-render the reply on another worker
    channel: str = ""
    thread_ts: str = ""

    def value(self, record_id: str) -> str:
        ctx = {"r": record_id, "m": self.mode, "c": self.channel, "ts": self.thread_ts, "t": self.text}
        raw = _json(ctx)
        if len(raw) > BUTTON_VALUE_CHARS:  # too long to carry: the adapter's memory must do
            ctx.pop("t")
            raw = _json(ctx)
        return raw

    @staticmethod
    def parse(value: str | None) -> dict:
        try:
            ctx = json.loads(value or "")
        except ValueError:
            return {}
        return ctx if isinstance(ctx, dict) else {}


def _json(obj) -> str:
    """Compact JSON with <, > and & as \\u escapes: a button value never holds markup."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def mrkdwn(text: str) -> dict:
    # verbatim: no auto-linking of bare URLs, #channels or @words; explicit <url|x> still works
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": mrkdwn(cut(text, SECTION_CHARS))}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str, block_id: str | None = None) -> dict:
    block = {"type": "context", "elements": [mrkdwn(cut(text, CONTEXT_CHARS))]}
    if block_id:
        block["block_id"] = block_id
    return block


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": {"type": "plain_text", "text": label[:75], "emoji": True}, "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def fallback(text: str) -> str:
    return cut(esc(text), FALLBACK_CHARS)


# -- triage ------------------------------------------------------------------------------


def triage_message(reply: Reply, record_id: str | None, *, share: Share | None = None, ack: str | None = None) -> dict:
    """One message for a triage reply: headline, content, feedback (and share) buttons."""
    emoji, label = CATEGORY_CUE.get(reply.category, CATEGORY_CUE["unclear"])
    head = [section(f"{emoji} *{esc(reply.headline)}*", "verdict"), context(f"Category: *{esc(label)}*")]
    content = _content_blocks(reply)
    tail: list[dict] = []
    if record_id:
        value = share.value(record_id) if share else record_id
        tail.append({"type": "divider"})
        tail.append(context("Was this triage right? Your rating helps the moderators tune the rules."))
        tail.append({
            "type": "actions",
            "block_id": FEEDBACK_BLOCK,
            "elements": [button(text, f"fb|{choice}|{record_id}", value) for choice, text in FEEDBACK_BUTTONS],
        })  # fmt: skip
        if ack:
            tail.append(context(ack, ACK_BLOCK))
        extra = []
        if has_details(reply):
            extra.append(button("More", f"more|{record_id}", value))
        if share:
            verb = "Share in channel" if share.mode == "channel" else "Post in thread"
            extra.append(button(verb, f"{'share' if share.mode == 'channel' else 'thread'}|{record_id}", value, "primary"))
        if extra:
            tail.append({"type": "actions", "block_id": SHARE_BLOCK, "elements": extra})
    room = MAX_BLOCKS - len(head) - len(tail) - 1  # keep one for the "shortened" note
    if len(content) > room:
        content = content[:room] + [context(":scissors: Shortened to fit in a Slack message; ask me `reading <id>` for more.")]
    return {"text": fallback(plain(reply)), "blocks": head + content + tail}


def _content_blocks(reply: Reply) -> list[dict]:
    blocks: list[dict] = []
    for heading, lines in sections(reply):
        if heading == "Further reading":
            items = [f"• {link(r.url, cut(r.title, 500))}" for r in reply.readings]
        else:
            items = [f"• {esc(line)}" for line in lines]
        title = f"*{esc(heading)}*"
        if len(items) == 1 and len(title) + len(items[0]) < SECTION_CHARS - 2:  # one line, as in the console
            blocks.append(section(f"{title}: {items[0][2:]}"))
            continue
        current = title
        for item in items:
            item = cut(item, SECTION_CHARS - len(title) - 1) if not item.startswith("• <") else item
            if len(current) + 1 + len(item) > SECTION_CHARS:
                blocks.append(section(current))
                current = item
            else:
                current += "\n" + item
        blocks.append(section(current))
    return blocks


def with_ack(blocks: list[dict], ack: str) -> list[dict]:
    """The same message with a feedback acknowledgement under the buttons (replacing an
    earlier one), so other people can still rate it."""
    out = [b for b in blocks if b.get("block_id") != ACK_BLOCK]
    at = next((i for i, b in enumerate(out) if b.get("block_id") == FEEDBACK_BLOCK), None)
    note = context(ack, ACK_BLOCK)
    if at is None:
        out.append(note)
    else:
        out.insert(at + 1, note)
    return out[:MAX_BLOCKS]


# -- everything else -----------------------------------------------------------------------


def text_messages(text: str, *, code: bool = False, head: str | None = None, max_sections: int | None = None) -> list[dict]:
    """Plain answers (help, topics, readings, notices): sections of escaped text, split over
    as many messages as needed (each <= 50 blocks and ~MESSAGE_CHARS), at most MAX_MESSAGES."""
    limit = SECTION_CHARS - (8 if code else 0)
    pieces = chunks(esc(text), limit)
    cap = max_sections or MAX_MESSAGES * (MAX_BLOCKS - 1)
    shortened = len(pieces) > cap
    blocks = [section(f"```\n{p}\n```" if code else p) for p in pieces[:cap]]
    if head:
        blocks.insert(0, section(esc(head)))
    messages: list[dict] = []
    current: list[dict] = []
    size = 0
    for block in blocks:
        n = len(_block_text(block))
        if current and (len(current) >= MAX_BLOCKS - 1 or size + n > MESSAGE_CHARS):
            messages.append({"blocks": current})
            current, size = [], 0
        current.append(block)
        size += n
    messages.append({"blocks": current})
    if len(messages) > MAX_MESSAGES:
        messages = messages[:MAX_MESSAGES]
        shortened = True
    if shortened:
        messages[-1]["blocks"] = messages[-1]["blocks"][: MAX_BLOCKS - 1] + [context(":scissors: Cut short to fit in Slack.")]
    full = (head + "\n\n" if head else "") + text
    for i, m in enumerate(messages):
        m["text"] = fallback(full) if i == 0 else f"(continued, part {i + 1})"
    return [{"text": m["text"], "blocks": m["blocks"]} for m in messages]


def _block_text(block: dict) -> str:
    if "text" in block:
        return block["text"]["text"]
    return "".join(e.get("text", "") for e in block.get("elements", ()))


def render(out: Outgoing, *, share: Share | None = None) -> list[dict]:
    """Every Outgoing as one or more message payloads ({"text", "blocks"})."""
    if out.reply is not None:
        return [triage_message(out.reply, out.record_id, share=share)]
    if out.chart is not None:
        return text_messages(text_bars(out.chart), code=True)
    if out.attachment is not None:
        body = out.attachment.content.decode("utf-8", errors="replace")
        note = f"{out.text} File: {out.attachment.filename} (the whole file: `triage-bot feedback export` on the server)."
        return text_messages(body, code=True, head=note, max_sections=EXPORT_SECTIONS)
    return text_messages(out.text)
