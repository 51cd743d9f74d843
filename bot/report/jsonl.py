"""JSON Lines, `{"id", "text", optional "channel", "user", "ts"}`: the format for anything
else (another platform, a spreadsheet export), one message a line.

A bad line is one problem with its line number; the lines around it are still read.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from .items import EMPTY, Message, Problem, Progress, Skip, parse_time


def read_jsonl(path: Path, progress: Progress | None = None) -> Iterator:
    try:
        with path.open("rb") as raw:
            for n, line in enumerate(raw, 1):
                if progress:
                    progress(len(line))
                if line.strip():
                    yield _item(str(path), n, line)
    except OSError as exc:
        yield Problem(str(path), None, f"cannot read: {exc.strerror or exc}")


def _item(label: str, n: int, line: bytes) -> Message | Skip | Problem:
    try:
        obj = json.loads(line.decode("utf-8-sig" if n == 1 else "utf-8"))
    except UnicodeDecodeError:
        return Problem(label, n, "not UTF-8 text; save the file as UTF-8")
    except ValueError as exc:
        return Problem(label, n, f"malformed JSON: {getattr(exc, 'msg', exc)}")
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return Problem(label, n, 'each line must be a JSON object with a "text" string')
    channel = str(obj.get("channel") or "")
    if not obj["text"].strip():
        return Skip(EMPTY, channel)
    ident = obj.get("id")
    return Message("jsonl", channel, str(n if ident is None else ident), str(obj.get("user") or ""),
                   parse_time(obj.get("ts")), obj["text"])
