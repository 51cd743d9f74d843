"""Which reader a path needs, decided by what is inside it, not by its name.

People rename exports ("slack-2024.zip", "general.json", "dump.txt"); the content is what a
reader depends on. A folder that is not a Slack export is read file by file, since
DiscordChatExporter writes one file per channel into a folder.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from . import slack
from .discord import read_discord
from .items import Problem, Progress
from .jsonl import read_jsonl

UNKNOWN = "unknown format: not a Slack export (zip or folder), DiscordChatExporter JSON or JSON Lines"
_PEEK = 8192


class Source(NamedTuple):
    label: str  # the path as the user gave it, for errors and summary.json
    format: str  # slack | discord | jsonl | unknown
    size: int  # bytes the reader will read, for the progress bar
    read: Callable[[Progress | None], Iterator]  # yields Message, Skip and Problem


def sources(paths: list[str]) -> Iterator[Source]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _folder(path)
        elif path.is_file():
            yield _file(path)
        else:
            yield _failed(raw, "no such file or folder")


def _folder(path: Path) -> Iterator[Source]:
    members = slack.folder_members(path)
    if slack.is_export(members):
        yield Source(str(path), "slack", slack.total_size(members), lambda p: slack.read_export(str(path), members, p))
        return
    files = sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith("."))
    if not files:
        yield _failed(str(path), "an empty folder")
    for f in files:
        yield _file(f)


def _file(path: Path) -> Source:
    label = str(path)
    try:
        if zipfile.is_zipfile(path):
            try:
                members = slack.zip_members(path)
            except (zipfile.BadZipFile, OSError) as exc:
                return _failed(label, f"a damaged zip archive ({exc})")
            if not slack.is_export(members):
                return _failed(label, UNKNOWN + " (a zip without Slack day files)")
            return Source(label, "slack", slack.total_size(members), lambda p: slack.read_export(label, members, p))
        with path.open("rb") as f:
            head = f.read(_PEEK)
        size = path.stat().st_size
    except OSError as exc:
        return _failed(label, f"cannot read: {exc.strerror or exc}")
    kind = sniff(head, path.name)
    if kind == "discord":
        return Source(label, kind, size, lambda p: read_discord(path, p))
    if kind == "jsonl":
        return Source(label, kind, size, lambda p: read_jsonl(path, p))
    if kind == "slack-day":
        return Source(label, "slack", size, lambda p: slack.read_day(label, path.parent.name, path.open, p))
    if kind == "binary":
        return _failed(label, "not UTF-8 text; " + UNKNOWN)
    return _failed(label, UNKNOWN)


def sniff(head: bytes, name: str) -> str:
    """discord | jsonl | slack-day | binary | unknown, from the first few kilobytes."""
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if "\ufffd" in text[: len(text) - 4] and not text.startswith(("{", "[")):
        return "binary"
    if text.startswith("["):
        return "slack-day" if slack.DAY_FILE.match(name) else "unknown"
    if not text.startswith("{"):
        return "unknown"
    first = text.split("\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and "text" in obj and "messages" not in obj:
        return "jsonl"
    if '"messages"' in text or ('"guild"' in text and '"channel"' in text):
        return "discord"
    return "unknown"


def _failed(label: str, error: str) -> Source:
    def read(_progress):
        yield Problem(label, None, error)

    return Source(label, "unknown", 0, read)
