"""Reply -> text, for the console and for text fallbacks in chat.

The default reply is short (about a dozen lines): the call, the decisive evidence, what to
ask, who to involve, the oversight route and a reading or two. People skimmed the full
form letter; the framing, the intervention list and the intersection text are one click
away ("More"). Chat adapters build richer layouts (Block Kit, embeds) from the same
sections, so every front end shows the same parts in the same order.

Text is cut to a platform's limits here and nowhere else: `split_text` into several
messages (the service's `Outgoing.parts`, Slack's sections), `cut` to one field with an
ellipsis (Slack blocks, Discord embeds). Platform rules are arguments, not copies.
"""
from __future__ import annotations

import re

from .reply import Reply

MORE_HINT = "`more` for the framing, interventions and full evidence"


def sections(reply: Reply) -> list[tuple[str, list[str]]]:
    """The default (concise) reply as (heading, lines) pairs, in reading order."""
    out: list[tuple[str, list[str]]] = []
    if reply.notices:
        out.append(("Note", list(reply.notices)))
    why = reply.gist or (reply.why[0] if reply.why else "")
    if why:
        out.append(("Why", [why]))
    if reply.sides:
        out.append(("Two sides", list(reply.sides)))
    if reply.pitfalls:
        out.append(("Pitfall", [n.title for n in reply.pitfalls[:1]]))
    if reply.questions:
        out.append(("Ask next", list(reply.questions)))
    if reply.involve:
        out.append(("Involve", [", ".join(reply.involve)]))
    if reply.oversight:
        out.append(("Oversight", [reply.oversight]))
    if reply.readings:
        out.append(("Further reading", [f"{link.title}: {link.url}" for link in reply.readings]))
    return out


def detail_sections(reply: Reply) -> list[tuple[str, list[str]]]:
    """What "More" shows: the full evidence, the framing, the intersection and pitfall
    texts, and the category's interventions."""
    out: list[tuple[str, list[str]]] = []
    if reply.why:
        out.append(("Why, in full", list(reply.why)))
    if reply.framing:
        out.append(("Framing", [reply.framing]))
    if reply.intersection:
        out.append(("Where it intersects", [f"{n.title}: {n.text}" for n in reply.intersection]))
    if reply.pitfalls:
        out.append(("Pitfall", [f"{n.title}: {n.text}" for n in reply.pitfalls]))
    if reply.interventions:
        out.append(("Interventions", list(reply.interventions)))
    return out


def has_details(reply: Reply) -> bool:
    return bool(detail_sections(reply))


def plain(reply: Reply) -> str:
    """The concise reply: one-item sections on one line, lists as bullets, no blank lines."""
    return _plain(reply.headline, sections(reply))


def plain_details(reply: Reply) -> str:
    return _plain(f"More on: {reply.headline}", detail_sections(reply), spaced=True)


def _plain(headline: str, parts, spaced: bool = False) -> str:
    lines = [headline]
    for heading, items in parts:
        if spaced:
            lines.append("")
        if heading == "Two sides" or (len(items) == 1 and not spaced):
            lines.extend(items if heading == "Two sides" else [f"{heading}: {items[0]}"])
        else:
            lines.append(f"{heading}:")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)


def markdown(reply: Reply) -> str:
    lines = [f"**{reply.headline}**"]
    for heading, items in sections(reply):
        lines.append("")
        lines.append(f"__{heading}__")
        if heading == "Further reading":
            lines.extend(f"- [{link.title}]({link.url})" for link in reply.readings)
        else:
            lines.extend(f"- {item}" for item in items)
    return "\n".join(lines)


ELLIPSIS = "…"


def split_text(text: str, limit: int, *, unbreakable: re.Pattern[str] | None = None) -> tuple[str, ...]:
    """Cut text into pieces of at most `limit` characters, preferring paragraph, then line,
    then word boundaries, so a long reply arrives as several readable messages. Where a
    piece has to end mid-word, `unbreakable` (a pattern for an unfinished token at the end,
    such as Slack's `&amp;`) moves the cut before that token."""
    if limit <= 0 or len(text) <= limit:
        return (text,)
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        at = _boundary(window, ("\n\n", "\n", " "), limit // 3)
        if at is None:
            at = _before_unbreakable(window, unbreakable) or limit
        parts.append(rest[:at].rstrip())
        rest = rest[at:].lstrip("\n ")
    if rest:
        parts.append(rest)
    return tuple(parts)


def cut(text: str, limit: int, *, ellipsis: str = ELLIPSIS, unbreakable: re.Pattern[str] | None = None) -> str:
    """At most `limit` characters: the text when it fits, else its beginning up to a line or
    word boundary (in the last third) and an ellipsis, never inside an `unbreakable` token.
    Every front end shortens a field, a fallback or a title this one way."""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[: max(limit, 0)]
    window = text[: limit - len(ellipsis)]
    at = _boundary(window, ("\n", " "), len(window) * 2 // 3)
    if at is None:
        at = _before_unbreakable(window, unbreakable) or len(window)
    return window[:at].rstrip() + ellipsis


def _boundary(window: str, separators: tuple[str, ...], earliest: int) -> int | None:
    """Where the last of the first separator that occurs at or after `earliest` is."""
    for sep in separators:
        at = window.rfind(sep)
        if at >= earliest:
            return at
    return None


def _before_unbreakable(window: str, unbreakable: re.Pattern[str] | None) -> int | None:
    tail = unbreakable.search(window) if unbreakable is not None else None
    return tail.start() if tail is not None and tail.start() > 0 else None
