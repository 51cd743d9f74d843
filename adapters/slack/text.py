"""Slack text in both directions: markup -> plain text for the core, plain text -> safe mrkdwn.

Inbound, Slack encodes mentions and links as ``<@U123>``, ``<!here>``, ``<https://x|label>``
and escapes ``&``, ``<``, ``>`` as entities; the core wants the words a person typed.

Outbound, every dynamic string we put into ``text`` or a mrkdwn field goes through
:func:`esc`: after ``<`` is escaped no control sequence (``<!channel>``, ``<@U123>``,
``<url|label>``) can form, and the bare words ``@channel``/``@here``/``@everyone`` get an
invisible word joiner so no client setting can turn them into a broadcast either.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"<([^<>]*)>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_ENTITY_TAIL = re.compile(r"&[a-z#0-9]{0,6}$")


def esc(text: str) -> str:
    """Escape a string for Slack ``text``/mrkdwn so it can never ping or link anyone."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def link(url: str, label: str) -> str:
    """An explicit mrkdwn link; anything that is not http(s) becomes plain escaped text."""
    if not url.lower().startswith(("https://", "http://")):
        return esc(f"{label}: {url}")
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe_url}|{esc(label)}>"


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten escaped text to at most ``limit`` chars without splitting an ``&amp;`` entity."""
    if len(text) <= limit:
        return text
    head = text[: max(0, limit - len(ellipsis))]
    head = _ENTITY_TAIL.sub("", head)
    return head + ellipsis


def chunks(text: str, limit: int) -> list[str]:
    """Split (escaped) text into pieces of at most ``limit`` chars at line, then word
    boundaries, never inside an entity."""
    out: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        at = window.rfind("\n")
        if at < limit // 3:
            at = window.rfind(" ")
        if at < limit // 3:
            at = limit
            tail = _ENTITY_TAIL.search(window)
            if tail:
                at = tail.start()
        out.append(rest[:at].rstrip())
        rest = rest[at:].lstrip("\n ")
    if rest or not out:
        out.append(rest)
    return out


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

