"""The platform-neutral reply: what the bot says, before any platform renders it.

Adapters render this one structure as Block Kit, embeds or plain text; keeping the
content here means every front end says the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """The whole answer to a concern, by section, so each front end lays out the same parts
    (bot.render.sections) and only the "More" details are held back."""

    category: str  # technical | societal | both | unclear
    headline: str
    why: tuple[str, ...] = ()
    framing: str = ""
    questions: tuple[str, ...] = ()
    involve: tuple[str, ...] = ()
    oversight: str = ""
    interventions: tuple[str, ...] = ()
    pitfalls: tuple[Note, ...] = ()
    intersection: tuple[Note, ...] = ()
    readings: tuple[Link, ...] = ()
    notices: tuple[str, ...] = ()
    confidence: float = 0.0
    # The concise default (see render.sections): the decisive evidence in one line, and for
    # `both` one line per side. Everything above that is not shown by default sits behind "More".
    gist: str = ""
    sides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """A reading: the platforms link the title (Block Kit, embeds) or print both."""

    title: str
    url: str


@dataclass(frozen=True)
class Note:
    """A titled explanation: a pitfall warning or an intersection topic."""

    id: str
    title: str
    text: str
