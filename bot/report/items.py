"""What the readers hand the pipeline: messages, reasons to skip, and problems.

Readers yield these instead of raising, so that one broken day file or line costs only
itself: the pipeline counts and reports it and goes on with the rest of the export.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, NamedTuple

# Reasons a message is read but not triaged (summary.json's counts.skipped keys).
BOT, SYSTEM, EMPTY, OUTSIDE_DATES, OTHER_CHANNEL = "bot", "system", "empty", "outside-dates", "other-channel"

Progress = Callable[[int], None]  # called with the number of bytes just read


class Message(NamedTuple):
    """A person's message, as every export format reduces to it. A tuple pickles cheaply
    on its way to a worker process."""

    source: str  # slack | discord | jsonl
    channel: str
    id: str  # Slack ts, Discord message id, JSONL id
    user: str  # the platform's user id; only ever written out hashed
    ts: float | None  # seconds since the epoch, UTC
    text: str
    thread: str | None = None  # the parent message of a thread reply or Discord reply


class Skip(NamedTuple):
    reason: str
    channel: str = ""


class Problem(NamedTuple):
    """Something that could not be read: summary.json's errors and one stderr line."""

    file: str
    line: int | None
    error: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.error}"

    def to_dict(self) -> dict:
        out: dict = {"file": self.file}
        if self.line:
            out["line"] = self.line
        out["error"] = self.error
        return out


def parse_time(value) -> float | None:
    """Seconds since the epoch from a number, a Slack "1700000000.000100" string or an ISO 8601
    timestamp (DiscordChatExporter, JSONL). A naive ISO time is taken as UTC."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()
