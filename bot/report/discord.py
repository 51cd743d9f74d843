"""DiscordChatExporter JSON: one file per channel, `guild`, `channel`, then `messages[]`.

A channel's whole history sits in one JSON object, often hundreds of megabytes, so the
`messages` array is decoded one message at a time (jsonstream) instead of loaded whole.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .items import BOT, EMPTY, SYSTEM, Message, Problem, Progress, Skip, parse_time
from .jsonstream import InputError, JsonStream, iter_object

# Message types a person writes; joins, pins, boosts, calls, renames ... are the system's.
PEOPLE_TYPES = frozenset({"Default", "Reply"})


def read_discord(path: Path, progress: Progress | None = None) -> Iterator:
    channel = path.stem
    try:
        with path.open("rb") as raw:
            for key, value in iter_object(JsonStream(raw, progress), "messages"):
                if key == "channel" and isinstance(value, dict) and value.get("name"):
                    channel = str(value["name"])
                elif key == "messages" and not isinstance(value, list):
                    for obj, _line in value:
                        yield discord_item(obj, channel)
    except InputError as exc:
        yield Problem(str(path), exc.line, exc.message)
    except OSError as exc:
        yield Problem(str(path), None, f"cannot read: {exc.strerror or exc}")


def discord_item(obj, channel: str) -> Message | Skip:
    if not isinstance(obj, dict):
        return Skip(SYSTEM, channel)
    author = obj.get("author") if isinstance(obj.get("author"), dict) else {}
    if author.get("isBot"):
        return Skip(BOT, channel)
    if obj.get("type", "Default") not in PEOPLE_TYPES:
        return Skip(SYSTEM, channel)
    text = obj.get("content")
    if not isinstance(text, str) or not text.strip():
        return Skip(EMPTY, channel)
    reference = obj.get("reference") if isinstance(obj.get("reference"), dict) else {}
    parent = reference.get("messageId") if obj.get("type") == "Reply" else None
    return Message(
        "discord", channel, str(obj.get("id", "")), str(author.get("id", "")),
        parse_time(obj.get("timestamp")), text, str(parent) if parent else None,
    )  # fmt: skip
