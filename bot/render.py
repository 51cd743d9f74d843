"""Reply -> text, for the console and for text fallbacks in chat.

The default reply is short (about a dozen lines): the call, the decisive evidence, what to
ask, who to involve, the oversight route and a reading or two. People skimmed the full
form letter; the framing, the intervention list and the intersection text are one click
away ("More"). Chat adapters build richer layouts (Block Kit, embeds) from the same
sections, so every front end shows the same parts in the same order.
"""
from __future__ import annotations

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


def split_text(text: str, limit: int) -> tuple[str, ...]:
    """Cut text into pieces of at most `limit` characters, preferring paragraph, then line,
    then word boundaries, so a long reply arrives as several readable messages."""
    if limit <= 0 or len(text) <= limit:
        return (text,)
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0)
        if cut < limit // 3:
            cut = window.rfind("\n")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        parts.append(rest)
    return tuple(parts)
