"""Slack workspace exports: the .zip an admin downloads, or the folder it unpacks to.

The export holds `channels.json`, `users.json` and one folder per channel with one
`YYYY-MM-DD.json` array of messages per day. A zip
is read member by member straight from the archive, so an export of any size is never
unpacked to disk and only one day file is open at a time. A corrupt member or a broken day
file is reported and the rest of the export is still read.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterator, NamedTuple

from .items import BOT, EMPTY, SYSTEM, Message, Problem, Progress, Skip, parse_time
from .jsonstream import InputError, JsonStream, iter_array

DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
# Subtypes a person writes; every other subtype (joins, leaves, topics, pins, ...) is the system's.
PEOPLE_SUBTYPES = frozenset({"thread_broadcast", "file_share", "me_message"})


class Member(NamedTuple):
    name: str  # path inside the export, with "/" separators
    size: int  # uncompressed bytes, for the progress bar
    open: Callable[[], BinaryIO]


def zip_members(path: Path) -> list[Member]:
    archive = zipfile.ZipFile(path)  # stays open while the members are read; closed with the process
    return [Member(i.filename, i.file_size, lambda i=i: archive.open(i)) for i in archive.infolist() if not i.is_dir()]


def folder_members(path: Path) -> list[Member]:
    return [
        Member(p.relative_to(path).as_posix(), p.stat().st_size, lambda p=p: p.open("rb"))
        for p in sorted(path.rglob("*.json")) if p.is_file()
    ]  # fmt: skip


def is_export(members: list[Member]) -> bool:
    return any(_is_day(m.name) or PurePosixPath(m.name).name == "channels.json" for m in members)


def total_size(members: list[Member]) -> int:
    return sum(m.size for m in members if _is_day(m.name))


def read_export(label: str, members: list[Member], progress: Progress | None = None) -> Iterator:
    """Messages, skips and problems of a whole export, conversation by conversation."""
    days = sorted((m for m in members if _is_day(m.name)), key=lambda m: m.name)
    if not days:
        yield Problem(label, None, "a Slack export, but it holds no YYYY-MM-DD.json day files")
    for member in days:
        channel = PurePosixPath(member.name).parent.name  # the folder is named after the channel
        yield from read_day(f"{label}:{member.name}", channel, member.open, progress)


def read_day(label: str, channel: str, opener: Callable[[], BinaryIO], progress: Progress | None = None) -> Iterator:
    try:
        with opener() as raw:
            for obj, line in iter_array(JsonStream(raw, progress)):
                yield slack_item(obj, channel)
    except InputError as exc:
        yield Problem(label, exc.line, exc.message)
    except (OSError, zipfile.BadZipFile, RuntimeError) as exc:  # RuntimeError: an encrypted member
        yield Problem(label, None, f"cannot read: {exc}")


def slack_item(obj, channel: str) -> Message | Skip:
    if not isinstance(obj, dict) or obj.get("type", "message") != "message":
        return Skip(SYSTEM, channel)
    subtype = obj.get("subtype")
    if obj.get("bot_id") or subtype == "bot_message" or obj.get("bot_profile"):
        return Skip(BOT, channel)
    if subtype and subtype not in PEOPLE_SUBTYPES:
        return Skip(SYSTEM, channel)
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skip(EMPTY, channel)
    ts = str(obj.get("ts", ""))
    thread = obj.get("thread_ts")
    reply = str(thread) if thread and str(thread) != ts else None
    return Message("slack", channel, ts, str(obj.get("user", "")), parse_time(ts), text, reply)


def _is_day(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(DAY_FILE.match(path.name)) and len(path.parts) >= 2 and not path.name.startswith("._")
