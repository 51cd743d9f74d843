"""Slack text in both directions: markup -> plain text for the core, plain text -> safe mrkdwn.

Inbound, Slack encodes mentions and links as ``<@U123>``, ``<!here>``, ``<https://x|label>``
and escapes ``&``, ``<``, ``>`` as entities; the core wants the words a person typed.

Outbound, every dynamic string we put into ``text`` or a mrkdwn field goes through
:func:`esc`: after ``<`` is escaped no control sequence (``<!channel>``, ``<@U123>``,
``<url|label>``) can form, and the bare words ``@channel``/``@here``/``@everyone`` get an
invisible word joiner so no client setting can turn them into a broadcast either.

Escaped text is cut by `bot.render` like every platform's, with one Slack rule: never
inside an entity (``&amp;`` cut to ``&am`` would show as garbage).
"""
from __future__ import annotations

import re

from adapters.contract import Platform
from bot import render

# The service splits plain answers to one section's worth (Block Kit sections hold 3,000).
SLACK = Platform("slack", message_chars=3000, mass_mentions=("channel", "here", "everyone"), mention_breaker="\u2060")

_CONTROL = re.compile(r"<([^<>]*)>")
_ENTITY_TAIL = re.compile(r"&[a-z#0-9]{0,6}$")


def esc(text: str) -> str:
    """Escape a string for Slack ``text``/mrkdwn so it can never ping or link anyone."""
    return SLACK.defuse(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def link(url: str, label: str) -> str:
    """An explicit mrkdwn link; anything that is not http(s) becomes plain escaped text."""
    if not url.lower().startswith(("https://", "http://")):
        return esc(f"{label}: {url}")
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe_url}|{esc(label)}>"


def cut(text: str, limit: int) -> str:
    """Shorten escaped text to at most ``limit`` chars without splitting an entity."""
    return render.cut(text, limit, unbreakable=_ENTITY_TAIL)


def chunks(text: str, limit: int) -> tuple[str, ...]:
    """Split escaped text into pieces of at most ``limit`` chars, never inside an entity."""
    return render.split_text(text, limit, unbreakable=_ENTITY_TAIL)


def to_plain(text: str | None, bot_user_id: str | None = None) -> str:
    """Slack message markup -> the plain words, for triage.

    Our own mention is dropped; other mentions become ``@name`` (or ``@U123``), links
    their label (or URL), and entities are unescaped last so a typed ``&lt;`` survives.
    """
    if not text:
        return ""

    def replace(m: re.Match) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            if bot_user_id and uid == bot_user_id:
                return ""
            return "@" + (label or uid)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!"):
            word = target[1:].split("^", 1)[0]
            return label or ("@" + word)
        return label or target

    plain = _CONTROL.sub(replace, text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", plain).strip()

