"""The per-message work, run in worker processes: triage, hash, count, write the line.

This is the only place the report calls the decision (`bot.classify.triage`), so a new
decision drops in without touching the readers or the report. Everything per message happens
here rather than in the parent, which only reads input and merges counts: that way the
workers, not the one reading process, set the pace.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from pathlib import Path

from ..classify import triage
from ..knowledge import Knowledge, load_knowledge
from ..normalise import clean, strip_markup
from ..store.queries import week_start
from .items import EMPTY, Message
from .tally import Tally

_LETTER = re.compile(r"[^\W\d_]")
_state: dict = {}
_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps(**options) builds one per call


def share(knowledge: Knowledge) -> None:
    """Called in the parent before the pool starts: forked workers inherit this knowledge
    (and its trained model) instead of each loading a copy of their own, which kept three
    copies of the rules, word lists and vectors in memory for two workers."""
    _state["knowledge"] = knowledge


def init(knowledge_dir: str, salt: bytes, include_text: bool, knowledge: Knowledge | None = None) -> None:
    """Worker start-up: the knowledge the parent shared, else load it once per process."""
    knowledge = knowledge or _state.get("knowledge")
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


def _day(ts: float | None) -> tuple[int | None, str | None]:
    if ts is None:
        return None, None
    when = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return int(ts // 86400), when.isoformat(timespec="seconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)
def _week(day: int) -> str:
    """The Monday starting the week of a day since the epoch (the store's weeks, for the same charts)."""
    return week_start(day * 86400).isoformat()


def run_batch(batch: list[Message]) -> tuple[str, Tally]:
    """verdicts.jsonl lines and the batch's counts."""
    knowledge, salt, include_text = _state["knowledge"], _state["salt"], _state["include_text"]
    tally = Tally()
    lines = []
    for msg in batch:
        verdict = triage(knowledge, msg.text, explain=False)  # a report shows no "why"
        # Only a message without signals can be without words; most have signals, so the
        # extra clean() runs for few of them.
        if not verdict.signals and not _LETTER.search(clean(msg.text)):  # mentions, emoji, links, code
            tally.skipped[EMPTY] += 1
            continue
        day, iso = _day(msg.ts)
        person = user_hash(msg.user, salt)
        row = {
            "source": msg.source, "channel": msg.channel, "id": msg.id, "thread": msg.thread, "ts": iso,
            "user": person, "category": verdict.category, "confidence": round(verdict.confidence, 3),
            "topics": list(verdict.topics), "pitfalls": list(verdict.pitfalls),
            "signals": [s.rule_id for s in verdict.signals],
        }  # fmt: skip
        if include_text:
            row["text"] = msg.text
            shown = " ".join(strip_markup(msg.text).split())  # as a person reads it: no <@U123> ids
            tally.example(verdict.category, row["confidence"], shown, msg.channel, iso or "")
        lines.append(_encode(row))
        tally.count(verdict.category, msg.channel, _week(day) if day is not None else None, msg.ts, verdict.topics, verdict.pitfalls)
        if msg.thread:
            tally.thread_replies += 1
        if person:
            tally.people.add(person)
    return ("\n".join(lines) + "\n") if lines else "", tally
