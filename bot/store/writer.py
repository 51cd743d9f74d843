"""The write-behind half of a store: queue, writer thread, journal, spool and replay.

The reply path must never wait for the database, so every write is journaled, queued and
committed here in batches by one thread. Batches the database refuses go to a spool file
and are replayed with backoff (idempotent: records are keyed by record_id, ON CONFLICT DO
NOTHING) and truncated only after commit. The store it serves supplies what differs per
database through `Sink`; this module knows no SQL.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from .journal import Journal
from .records import Feedback, ForgetRequest, TriageRecord
from .spool import Spool

log = logging.getLogger("bot.store")

Item = tuple[str, Any]  # ("triage" | "feedback" | "forget", the object)


def describe(exc: BaseException) -> str:
    """Error summary for logs: type and first line only (no record data is ever logged)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


class RateLimitedLog:
    """An outage repeats the same warning thousands of times a minute; one a while is enough."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def warning(self, key: str, interval: float, msg: str, *args) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -1e9) >= interval:
            self._last[key] = now
            log.warning(msg, *args)


class Breaker:
    """After a failure, callers on the reply path skip the database for a few seconds
    instead of each waiting for its own timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = 0.0
        self.last_error: str | None = None

    @property
    def closed(self) -> bool:
        return time.monotonic() >= self.until

    def failure(self, exc: BaseException) -> None:
        self.last_error = describe(exc)
        self.until = time.monotonic() + self.seconds

    def success(self) -> None:
        self.until = 0.0


class Sink(Protocol):
    """What the writer needs from its store."""

    def commit_items(self, items: list[Item]) -> None: ...  # one transaction; raises on failure
    def committed(self, items: list[Item]) -> None: ...
    def is_unavailable(self, exc: BaseException) -> bool: ...
    def maintenance(self) -> None: ...


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


_STOP = object()


def serialise(item: Item) -> dict:
    kind, obj = item
    return {"v": 1, "kind": kind, "data": obj.to_dict()}


def deserialise(d: dict) -> Item | None:
    kind = d.get("kind")
    if kind == "triage":
        return ("triage", TriageRecord.from_dict(d["data"]))
    if kind == "feedback":
        return ("feedback", Feedback.from_dict(d["data"]))
    if kind == "forget":
        return ("forget", ForgetRequest.from_dict(d["data"]))
    return None


class Writer:
    def __init__(
        self,
        sink: Sink,
        breaker: Breaker,
        spool_dir: Path,
        *,
        name: str,
        batch_size: int = 500,
        queue_size: int = 100_000,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        orphan_scan_interval: float = 60.0,
        journal_sync: bool = True,
    ) -> None:
        self._sink = sink
        self._breaker = breaker
        self._batch_size = batch_size
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._orphan_scan_interval = orphan_scan_interval
        self._q_items: queue.Queue = queue.Queue(maxsize=queue_size)
        self._idle = threading.Condition()
        self.unfinished = 0  # items accepted but not yet committed-or-spooled
        self.dropped = 0
        self._warn = RateLimitedLog()

        self._spool = Spool(spool_dir)
        self._journal = Journal(spool_dir, sync=journal_sync)
        self._backlog: list[dict] = []  # items neither the DB nor the spool file took
        self._backlog_max = queue_size
        self._retry_delay = retry_initial
        self._next_retry = 0.0
        self._next_orphan_scan = 0.0
        self._next_maintenance = time.monotonic() + 60.0
        self._spooling_since: float | None = None

        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # caller side -----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def spooled(self) -> int:
        return self._spool.count + len(self._backlog)

    @property
    def spool_dir(self) -> Path:
        return self._spool.directory

    def enqueue(self, kind: str, obj) -> bool:
        """Journal the item (on disk before the caller answers anyone), then queue it for
        the writer. False when the queue is full and the item was dropped."""
        with self._idle:
            self.unfinished += 1  # before the journal line: the writer never drops a live segment
        segment = None
        try:
            segment = self._journal.append(serialise((kind, obj)))
        except OSError as exc:
            self._warn.warning("journal", 30, "cannot write the journal in %s (%s); queued items "
                               "are in memory only until written", self._journal.directory, exc)
        try:
            self._q_items.put_nowait((kind, obj, segment))
            return True
        except queue.Full:
            self._journal.release([segment])
            with self._idle:
                self.unfinished -= 1
                self.dropped += 1
            self._warn.warning("full", 10, "write queue full; %s dropped (%d dropped so far)",
                               kind, self.dropped)
            return False

    def flush(self, timeout: float = 10.0) -> bool:
        if self._thread.is_alive():
            deadline = time.monotonic() + timeout
            token = _Flush()
            try:
                self._q_items.put(token, timeout=timeout)
            except queue.Full:
                return False
            if not token.event.wait(max(0.0, deadline - time.monotonic())):
                return False
        with self._idle:
            drained = self.unfinished == 0
        return drained and self._spool.count == 0 and not self._backlog

    def stop(self, deadline: float, timeout: float) -> bool:
        """Ask the thread to stop and wait until `deadline`; True when it stopped."""
        try:
            self._q_items.put(_STOP, timeout=max(0.1, deadline - time.monotonic()))
        except queue.Full:
            pass
        self._thread.join(max(0.1, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.error("store writer did not stop within %.1fs; %d item(s) may be lost",
                      timeout, self.unfinished)
            return False
        self._spool.close()
        self._journal.close()
        return True

    # writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                if self._step():
                    return
            except Exception:  # the writer must not die; items stay counted until handled
                log.exception("store writer: unexpected error")
                time.sleep(0.5)

    def _spooling(self) -> bool:
        return self._spool.count > 0 or bool(self._backlog)

    def _step(self) -> bool:
        """One loop turn. Returns True when asked to stop."""
        now = time.monotonic()
        if self._spooling():
            wait = self._next_retry - now
        else:
            wait = min(self._next_orphan_scan, self._next_maintenance) - now
        try:
            first = self._q_items.get(timeout=max(0.01, wait))
        except queue.Empty:
            first = None
        batch: list[Item] = []
        segments: list[int | None] = []  # journal segment of each batch item
        flushes: list[_Flush] = []
        stop = False
        item = first
        while item is not None:
            if item is _STOP:
                stop = True
            elif isinstance(item, _Flush):
                flushes.append(item)
            else:
                batch.append(item[:2])
                segments.append(item[2])
            if len(batch) >= self._batch_size:
                break
            try:
                item = self._q_items.get_nowait()
            except queue.Empty:
                item = None

        urgent = bool(flushes) or stop
        try:
            if self._spooling() and (urgent or time.monotonic() >= self._next_retry):
                self._replay_own()
            if batch:
                if self._spooling():  # DB still refusing: keep order, append behind the spool
                    self._to_spool(self._serialise_all(batch))
                else:
                    self._write_live(batch)
            if not self._spooling() and (urgent or time.monotonic() >= self._next_orphan_scan):
                self._replay_orphans()
            if not self._spooling() and time.monotonic() >= self._next_maintenance:
                self._next_maintenance = time.monotonic() + 3600.0
                self._sink.maintenance()
            self._journal.release(segments)  # committed or spooled: durable without the journal
        finally:  # whatever happened, the batch was handled: don't leave flush() hanging
            if batch:
                with self._idle:
                    self.unfinished -= len(batch)
                    self._idle.notify_all()
            for f in flushes:
                f.event.set()
        return stop

    def _serialise_all(self, items: list[Item]) -> list[dict]:
        out = []
        for item in items:
            try:
                d = serialise(item)
                json.dumps(d)
                out.append(d)
            except (TypeError, ValueError) as exc:  # a caller bug; nothing we could replay
                self.dropped += 1
                log.error("store writer: %s %s cannot be serialised (%s); dropped",
                          item[0], getattr(item[1], "record_id", "?"), describe(exc))
        return out

    def _write_resilient(self, items: list[Item], chunk: int) -> None:
        """Commit items in chunks; isolate rows the database rejects as invalid.

        Raises the first "unavailable" error, leaving the caller to spool/retry.
        """
        unavailable = self._sink.is_unavailable
        for i in range(0, len(items), chunk):
            part = items[i:i + chunk]
            try:
                self._sink.commit_items(part)
            except Exception as exc:
                if unavailable(exc):
                    raise
                # A bad row (not an outage): commit the rest one by one, set the bad ones aside.
                log.error("store writer: batch rejected (%s); retrying row by row", describe(exc))
                for one in part:
                    try:
                        self._sink.commit_items([one])
                    except Exception as exc1:
                        if unavailable(exc1):
                            raise
                        self._reject(one, exc1)
            self._sink.committed(part)
            self._breaker.success()

    def _reject(self, item: Item, exc: BaseException) -> None:
        path = self._spool.directory / "rejected.jsonl"
        try:
            self._spool.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, json.dumps({**serialise(item), "error": describe(exc)},
                                        ensure_ascii=False, default=repr).encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            log.error("store writer: %s %s rejected by the database (%s); kept in %s",
                      item[0], getattr(item[1], "record_id", "?"), describe(exc), path)
        except OSError as oexc:
            log.error("store writer: %s rejected (%s) and could not be kept (%s)",
                      item[0], describe(exc), oexc)

    def _write_live(self, batch: list[Item]) -> None:
        try:
            self._write_resilient(batch, chunk=len(batch))
        except Exception as exc:
            # partially committed chunks are harmless to spool again (idempotent replay)
            self._go_down(exc)
            self._to_spool(self._serialise_all(batch))

    def _go_down(self, exc: BaseException) -> None:
        self._breaker.failure(exc)
        self._schedule_retry()
        if self._spooling_since is None:
            self._spooling_since = time.monotonic()
            log.warning("database unavailable (%s); spooling writes to %s and retrying in the background",
                        describe(exc), self._spool.path or self._spool.directory)

    def _schedule_retry(self) -> None:
        delay = self._retry_delay * random.uniform(0.8, 1.2)
        self._next_retry = time.monotonic() + delay
        self._retry_delay = min(self._retry_max, self._retry_delay * 2)

    def _to_spool(self, lines: list[dict]) -> None:
        if self._backlog:  # an earlier spool write failed: keep order
            lines = self._backlog + lines
            self._backlog = []
        try:
            self._spool.append(lines)
            self._warn.warning("spooled", 30, "spooled %d item(s) to %s (%d waiting for the database)",
                               len(lines), self._spool.path, self._spool.count)
        except OSError as exc:
            self._backlog = lines
            if len(self._backlog) > self._backlog_max:
                lost = len(self._backlog) - self._backlog_max
                del self._backlog[:lost]
                self.dropped += lost
                log.error("store: %d item(s) dropped: database and spool both unavailable", lost)
            self._warn.warning("spoolfail", 30, "cannot write spool in %s (%s); keeping %d item(s) "
                               "in memory", self._spool.directory, exc, len(self._backlog))

    def _replay(self, lines: list[dict]) -> int:
        items = [i for i in (deserialise(d) for d in lines) if i is not None]
        self._write_resilient(items, chunk=self._batch_size)
        return len(items)

    def _replay_own(self) -> None:
        lines = list(self._backlog)
        try:
            lines = self._spool.read() + lines
            n = self._replay(lines)
        except Exception as exc:
            self._breaker.failure(exc)
            self._schedule_retry()
            if isinstance(exc, OSError):
                self._warn.warning("spoolread", 60, "cannot read spool %s: %s", self._spool.path, exc)
            elif not self._sink.is_unavailable(exc):
                log.exception("store writer: spool replay failed")
            return
        # committed: only now drop the spool
        self._backlog = []
        try:
            self._spool.clear()
        except OSError as exc:  # replay is idempotent; worst case it runs again
            log.error("cannot truncate spool %s: %s", self._spool.path, exc)
        self._retry_delay = self._retry_initial
        outage = time.monotonic() - (self._spooling_since or time.monotonic())
        self._spooling_since = None
        log.info("database available again; replayed %d spooled item(s) (outage %.1fs)", n, outage)

    def _replay_orphans(self) -> None:
        self._next_orphan_scan = time.monotonic() + self._orphan_scan_interval
        try:
            for orphan in self._spool.orphans():
                try:
                    n = self._replay(orphan.read())
                except Exception as exc:
                    orphan.release()
                    self._breaker.failure(exc)
                    if not self._sink.is_unavailable(exc):
                        log.exception("replaying orphan spool %s failed", orphan.path)
                    return
                orphan.remove()
                log.info("replayed %d item(s) from spool %s left by an earlier process", n, orphan.path)
        except OSError as exc:
            log.warning("cannot scan spool directory %s: %s", self._spool.directory, exc)
