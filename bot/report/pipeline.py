"""Inputs -> batches -> worker processes -> verdicts.jsonl and one merged tally.

The parent reads and filters; workers triage. At most a few batches per worker are in flight
at any time, so a slow worker holds the reader back instead of letting batches pile up in
memory (`Pool.imap` would read the whole input ahead). Results are written in input order,
so the same export always gives the same verdicts.jsonl.
"""
from __future__ import annotations

import os
import time
from collections import deque
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from . import work
from .detect import sources
from .items import OTHER_CHANNEL, OUTSIDE_DATES, Message, Problem, Skip
from .tally import Tally

BATCH = 500
IN_FLIGHT_PER_WORKER = 3


@dataclass(frozen=True)
class Options:
    knowledge_dir: Path
    salt: bytes
    since: float | None = None
    until: float | None = None  # exclusive
    channels: frozenset[str] = frozenset()  # case-folded names without '#'; empty = all
    include_text: bool = False
    workers: int = 1


@dataclass
class Outcome:
    tally: Tally = field(default_factory=Tally)
    errors: list[Problem] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)


class _Progress:
    """Bytes read against the inputs' total, redrawn on stderr when it is a terminal."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self._clock = time.monotonic
        self.stream, self.total, self.done, self.messages = stream, max(1, total), 0, 0
        self._start = self._last = self._clock()

    def __call__(self, n: int) -> None:
        self.done += n
        if self.stream is not None and self._clock() - self._last >= 0.2:
            self.draw()

    def draw(self, end: str = "") -> None:
        self._last = now = self._clock()
        share = min(1.0, self.done / self.total)
        rate = self.messages / max(1e-6, now - self._start)
        bar = "#" * int(30 * share)
        self.stream.write(f"\r[{bar:<30}] {share:4.0%}  {self.messages:,} messages  {rate:,.0f}/s\x1b[K{end}")
        self.stream.flush()

    def clear(self) -> None:
        if self.stream is not None:
            self.stream.write("\r\x1b[K")


def run(paths: list[str], options: Options, out: TextIO, on_error: Callable[[Problem], None],
        progress_stream: TextIO | None = None, knowledge=None) -> Outcome:
    """Read every input, triage the people's messages, write their verdict lines to `out`."""
    outcome = Outcome()
    found = list(sources(paths))
    progress = _Progress(progress_stream, sum(s.size for s in found))
    initargs = (str(options.knowledge_dir), options.salt, options.include_text)
    pool = None
    if options.workers > 1:
        if knowledge is not None and multiprocessing.get_start_method() == "fork":
            work.share(knowledge)
        pool = ProcessPoolExecutor(options.workers, initializer=work.init, initargs=initargs)
    else:
        work.init(*initargs, knowledge=knowledge)
    pending: deque = deque()

    def collect(result) -> None:
        lines, tally = result
        out.write(lines)
        outcome.tally.merge(tally)

    def submit(batch: list[Message]) -> None:
        progress.messages += len(batch)
        if pool is None:
            collect(work.run_batch(batch))
            return
        pending.append(pool.submit(work.run_batch, batch))
        while len(pending) >= options.workers * IN_FLIGHT_PER_WORKER:
            collect(pending.popleft().result())

    try:
        for source in found:
            before = outcome.tally.read
            batch: list[Message] = []
            for item in source.read(progress):
                if isinstance(item, Problem):
                    progress.clear()
                    outcome.errors.append(item)
                    on_error(item)
                    continue
                outcome.tally.read += 1
                reason = _filtered(item, options)
                if reason:
                    outcome.tally.skipped[reason] += 1
                elif isinstance(item, Skip):
                    outcome.tally.skipped[item.reason] += 1
                else:
                    batch.append(item)
                    if len(batch) >= BATCH:
                        submit(batch)
                        batch = []
            if batch:
                submit(batch)
            outcome.inputs.append({"path": source.label, "format": source.format, "messages": outcome.tally.read - before})
        while pending:
            collect(pending.popleft().result())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if progress.stream is not None:
        progress.done = progress.total
        progress.draw("\n")
    return outcome


def _filtered(item: Message | Skip, options: Options) -> str | None:
    if options.channels and item.channel.lstrip("#").casefold() not in options.channels:
        return OTHER_CHANNEL
    if isinstance(item, Message) and (options.since is not None or options.until is not None):
        if item.ts is None:
            return OUTSIDE_DATES
        if options.since is not None and item.ts < options.since:
            return OUTSIDE_DATES
        if options.until is not None and item.ts >= options.until:
            return OUTSIDE_DATES
    return None


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
