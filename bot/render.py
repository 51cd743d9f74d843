"""Reply -> text, for the console and for text fallbacks in chat.

Two idioms: plain text (terminal, notifications) and Markdown (Discord content, logs that
render). Chat adapters build richer layouts (Block Kit, embeds) from the same Reply.
"""
from __future__ import annotations

from .reply import Reply


def sections(reply: Reply) -> list[tuple[str, list[str]]]:
    """The reply's content as (heading, lines) pairs, in reading order.

    Shared by every renderer so that all front ends show the same parts in the same order.
    """
    out: list[tuple[str, list[str]]] = []
    if reply.notices:
        out.append(("Note", list(reply.notices)))
    if reply.why:
        out.append(("Why", list(reply.why)))
    if reply.framing:
        out.append(("Framing", [reply.framing]))
    if reply.intersection:
        out.append(("Where it intersects", [f"{n.title}: {n.text}" for n in reply.intersection]))
    if reply.pitfalls:
        out.append(("Pitfall", [f"{n.title}: {n.text}" for n in reply.pitfalls]))
    if reply.questions:
        out.append(("Ask next", list(reply.questions)))
    if reply.involve:
        out.append(("Involve", [", ".join(reply.involve)]))
    if reply.oversight or reply.interventions:
        out.append(("Oversight and interventions", ([reply.oversight] if reply.oversight else []) + list(reply.interventions)))
    if reply.readings:
        out.append(("Further reading", [f"{link.title}: {link.url}" for link in reply.readings]))
    return out


def plain(reply: Reply) -> str:
    lines = [reply.headline]
    for heading, items in sections(reply):
        lines.append("")
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
