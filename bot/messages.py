"""The service's vocabulary: what arrives from a front end and what goes back.

Adapters translate platform payloads into `Incoming` and render `Outgoing`; nothing
platform-specific crosses this line, which is what keeps each adapter thin. Each type
comes before the parts it is made of (Outgoing, then its attachment, rating and chart).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .reply import Reply


class Via(StrEnum):
    """How a message reached us. A `StrEnum`: members equal their strings and print as them."""

    MENTION = "mention"
    DM = "dm"
    SLASH = "slash"
    ACTION = "action"  # message shortcut / context menu
    CONSOLE = "console"


MENTION, DM, SLASH, ACTION, CONSOLE = Via


class Kind(StrEnum):
    """What an answer is, so a front end can pick its idiom (embed, Block Kit, a file)."""

    TRIAGE = "triage"
    HELP = "help"
    TOPICS = "topics"
    READING = "reading"
    STATS = "stats"
    NOTICE = "notice"
    REFUSED = "refused"
    RATE_LIMITED = "rate-limited"
    EXPORT = "export"
    FORGET = "forget"
    SMALL_TALK = "small-talk"
    DETAILS = "details"


@dataclass(frozen=True)
class Limits:
    """A platform's message limits, declared by its adapter."""

    message_chars: int = 3000


@dataclass(frozen=True)
class Incoming:
    """One message as every front end hands it over; the service decides what to do with it."""

    platform: str  # console | slack | discord
    workspace: str  # Slack team id, Discord guild id ("" in DMs)
    channel: str
    user: str
    text: str
    via: Via | str  # a Via member (plain strings compare equal)
    thread: str | None = None
    user_roles: frozenset[str] = frozenset()  # Slack user-group ids, Discord role ids
    event_id: str | None = None
    is_bot: bool = False
    from_us: bool = False
    is_edit: bool = False
    is_unfurl: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One answer, in every form a front end may want: plain text (split to its limit),
    the structured reply, a chart, a file, and what to offer next (buttons, a question)."""

    kind: Kind
    text: str  # the whole answer as plain text: the fallback every platform can show
    parts: tuple[str, ...] = ()  # `text` split to the platform's limit
    reply: Reply | None = None  # structured triage reply, for Block Kit and embeds
    record_id: str | None = None  # feedback buttons refer to this record
    chart: Chart | None = None
    attachment: Attachment | None = None
    private: bool = False  # only the caller should see it (refusals, rate limits, data exports)
    rating: Rating | None = None  # set when this answers a rating that was recorded
    kept: bool = False  # the author said yes and their message was kept


@dataclass(frozen=True)
class Attachment:
    """A file for the caller (the feedback export): Slack uploads it or shows it as text,
    Discord attaches it, the console prints it."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Rating:
    """Feedback the service recorded. Its presence is the front end's "done" (Slack marks the
    message rated); without it the rating was refused or not found, and the text says why."""

    record_id: str
    choice: str
    # The author disagreed and their text is still at hand: ask this yes/no question
    # (default no) before the message may be kept; empty: ask nothing.
    keep_question: str = ""


@dataclass(frozen=True)
class Chart:
    """Stats as data, so each front end can draw it in its own idiom (text bars, an image)."""

    title: str
    groups: tuple[tuple[str, tuple[Bar, ...]], ...]  # (heading, bars)
    footer: str = ""


@dataclass(frozen=True)
class Bar:
    """One counted thing of a chart ("technical", 12): every front end draws bars alike."""

    label: str
    value: int
