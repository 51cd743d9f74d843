"""The per-message work, run in worker processes: triage, hash, count, write the line.

This is the only place the report calls the decision (`bot.classify.triage`), so a new
decision drops in without touching the readers or the report. Everything per message happens
here rather than in the parent, which only reads input and merges counts: that way the
workers, not the one reading process, set the pace.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from ..classify import triage
from ..knowledge import Knowledge, load_knowledge
from ..normalise import clean
from ..store._engine import week_start
from .items import EMPTY, Message
from .tally import Tally

_LETTER = re.compile(r"[^\W\d_]")
_state: dict = {}


def init(knowledge_dir: str, salt: bytes, include_text: bool, knowledge: Knowledge | None = None) -> None:
    """Worker start-up: load the knowledge once per process (or reuse the parent's)."""
    if knowledge is None:
        knowledge, problems = load_knowledge(Path(knowledge_dir))
        if knowledge is None:
            raise RuntimeError("; ".join(str(p) for p in problems if p.level == "error"))
    _state.update(knowledge=knowledge, salt=salt, include_text=include_text)


def user_hash(user: str, salt: bytes) -> str | None:
    """Keyed BLAKE2b: the same person gets the same hash within a report (so people can be
    counted), but without the salt the hash cannot be matched to an id, even by trying every
    id in the workspace."""
    if not user:
        return None
    return hashlib.blake2b(user.encode("utf-8"), key=salt, digest_size=12).hexdigest()


def run_batch(batch: list[Message]) -> tuple[str, Tally]:
    """verdicts.jsonl lines and the batch's counts."""
    knowledge, salt, include_text = _state["knowledge"], _state["salt"], _state["include_text"]
    tally = Tally()
    lines = []
    for msg in batch:
        if not _LETTER.search(clean(msg.text)):  # only mentions, emoji, links, numbers or code
            tally.skipped[EMPTY] += 1
            continue
        verdict = triage(knowledge, msg.text)
        when = dt.datetime.fromtimestamp(msg.ts, dt.timezone.utc) if msg.ts is not None else None
        iso = when.isoformat(timespec="seconds").replace("+00:00", "Z") if when else None
        person = user_hash(msg.user, salt)
        row = {
            "source": msg.source, "channel": msg.channel, "id": msg.id, "thread": msg.thread, "ts": iso,
            "user": person, "category": verdict.category, "confidence": round(verdict.confidence, 3),
            "topics": list(verdict.topics), "pitfalls": list(verdict.pitfalls),
            "signals": [s.rule_id for s in verdict.signals],
        }  # fmt: skip
        if include_text:
            row["text"] = msg.text
            tally.example(verdict.category, row["confidence"], msg.text, msg.channel, iso or "")
        lines.append(json.dumps(row, ensure_ascii=False))
        week = week_start(msg.ts).isoformat() if msg.ts is not None else None
        tally.count(verdict.category, msg.channel, week, msg.ts, verdict.topics, verdict.pitfalls)
        if msg.thread:
            tally.thread_replies += 1
        if person:
            tally.people.add(person)
    return ("\n".join(lines) + "\n") if lines else "", tally
