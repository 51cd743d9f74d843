"""Counts that add up across batches, workers and files: what summary.json and the HTML
report are made of.

Each worker counts its own batch and the pipeline merges the tallies, so nothing but counters
(and a few examples) ever travels back from a worker, and memory stays bounded by the number
of channels, weeks, topics and people, never by the number of messages.
"""
from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from dataclasses import dataclass, field

from ..vocabulary import LABELS

EXAMPLES_PER_CATEGORY = 3
TOP = 10


@dataclass
class Tally:
    read: int = 0  # every message seen, skipped ones included
    triaged: int = 0
    thread_replies: int = 0  # of the triaged
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    by_category: Counter = field(default_factory=Counter)
    by_channel: dict = field(default_factory=dict)  # channel -> Counter(category)
    by_week: dict = field(default_factory=dict)  # Monday (ISO date, UTC) -> Counter(category)
    topics: Counter = field(default_factory=Counter)
    pitfalls: Counter = field(default_factory=Counter)
    people: set = field(default_factory=set)  # salted user hashes
    # category -> min-heap of (confidence, text, channel, when): the most confident few
    examples: dict = field(default_factory=dict)
    first: float | None = None
    last: float | None = None

    def count(self, category: str, channel: str, week: str | None, ts: float | None, topics, pitfalls) -> None:
        self.triaged += 1
        self.by_category[category] += 1
        _bump(self.by_channel, channel, category)
        if week:
            _bump(self.by_week, week, category)
        if ts is not None:
            self.first = ts if self.first is None or ts < self.first else self.first
            self.last = ts if self.last is None or ts > self.last else self.last
        for t in topics:
            self.topics[t] += 1
        for p in pitfalls:
            self.pitfalls[p] += 1

    def example(self, category: str, confidence: float, text: str, channel: str, when: str) -> None:
        heap = self.examples.setdefault(category, [])
        item = (confidence, text[:600], channel, when)
        if len(heap) < EXAMPLES_PER_CATEGORY:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)

    def merge(self, other: Tally) -> None:
        self.read += other.read
        self.triaged += other.triaged
        self.thread_replies += other.thread_replies
        self.skipped.update(other.skipped)
        self.by_category.update(other.by_category)
        for table, theirs in ((self.by_channel, other.by_channel), (self.by_week, other.by_week)):
            for key, counts in theirs.items():
                table.setdefault(key, Counter()).update(counts)
        self.topics.update(other.topics)
        self.pitfalls.update(other.pitfalls)
        self.people |= other.people
        for category, heap in other.examples.items():
            for item in heap:
                self.example(category, *item)
        for ts in (other.first, other.last):
            if ts is not None:
                self.first = ts if self.first is None else min(self.first, ts)
                self.last = ts if self.last is None else max(self.last, ts)

    def summary(self, errors: list, meta: dict) -> dict:
        """summary.json: weeks oldest first, channels and topics most frequent first."""
        categories = {c: self.by_category.get(c, 0) for c in LABELS}
        return {
            **meta,
            "counts": {
                "read": self.read,
                "triaged": self.triaged,
                "skipped": dict(sorted(self.skipped.items())),
                "thread_replies": self.thread_replies,
                "people": len(self.people),
                "errors": len(errors),
            },
            "by_category": categories,
            "not_governance_share": round(categories["unclear"] / self.triaged, 4) if self.triaged else None,
            "by_channel": {
                ch: _labelled(c) for ch, c in sorted(self.by_channel.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
            },
            "by_week": [{"week": w, **_labelled(self.by_week.get(w, Counter()))} for w in _weeks(self.by_week)],
            "top_topics": [{"topic": t, "count": n} for t, n in _top(self.topics)],
            "top_pitfalls": [{"pitfall": p, "count": n} for p, n in _top(self.pitfalls)],
            "examples": {
                c: [{"confidence": conf, "text": text, "channel": ch, "ts": when} for conf, text, ch, when in sorted(heap, reverse=True)]
                for c, heap in sorted(self.examples.items())
            },
            "errors": [e.to_dict() for e in errors],
        }


def _bump(table: dict, key: str, category: str) -> None:
    counts = table.get(key)
    if counts is None:
        counts = table[key] = Counter()
    counts[category] += 1


def _labelled(counts: Counter) -> dict:
    return {c: counts.get(c, 0) for c in LABELS} | {"total": sum(counts.values())}


def _weeks(by_week: dict) -> list[str]:
    """Every week from the first to the last, so quiet weeks show as gaps, not as nothing."""
    if not by_week:
        return []
    week, last = (dt.date.fromisoformat(w) for w in (min(by_week), max(by_week)))
    out = []
    while week <= last:
        out.append(week.isoformat())
        week += dt.timedelta(days=7)
    return out


def _top(counter: Counter) -> list:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
