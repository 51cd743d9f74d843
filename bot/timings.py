"""Per-message timing summaries and the naive baseline, shared by both benchmarks.

Apart from `bench` so the decision benchmark can use them without importing the command
that runs it (the two would otherwise import each other).
"""
from __future__ import annotations

import statistics
import time

from .schema import Knowledge


def summary(times_us: list[float], total_s: float | None = None) -> dict:
    """Median, p99 and (given the wall time) throughput of a list of per-message timings."""
    times = sorted(times_us)
    out = {
        "messages": len(times),
        "median_us": round(statistics.median(times), 1),
        "p99_us": round(times[max(0, int(len(times) * 0.99) - 1)], 1),
    }
    if total_s:
        out["per_second"] = round(len(times) / total_s)
    return out


def naive_baseline(knowledge: Knowledge, messages: list[str]) -> dict:
    """What a first attempt does: rapidfuzz partial_ratio of every phrase against the message."""
    from rapidfuzz import fuzz

    phrases = [p.text.lower() for r in knowledge.rules for p in r.phrases]
    times = []
    for m in messages:
        t0 = time.perf_counter_ns()
        low = m.lower()
        _ = [p for p in phrases if fuzz.partial_ratio(p, low) >= 90]
        times.append((time.perf_counter_ns() - t0) / 1000.0)
    return summary(times)
