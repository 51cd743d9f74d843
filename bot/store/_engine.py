"""Backend-neutral machinery shared by the SQLite and PostgreSQL stores.

* a background writer thread that batches inserts from a queue;
* a spool file for batches the database refused, replayed with backoff (idempotent:
  records are keyed by record_id, ON CONFLICT DO NOTHING) and truncated only after commit;
* a circuit breaker plus in-process LRU so ``claim_event`` keeps working during outages;
* the SQL, written once with ``?`` placeholders (the PostgreSQL subclass rewrites them).

Logging goes to the "bot.store" logger and never includes message text.
"""
from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import logging
import os
import queue
import random
import secrets
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .base import Store, StoreError, StoreUnavailable
from .records import (
    CATEGORIES,
    FEEDBACK_CHOICES,
    Disagreement,
    Feedback,
    FeedbackStats,
    ForgetRequest,
    Stats,
    TriageRecord,
)
from .claims import LocalClaims
from .journal import Journal
from .spool import Spool

log = logging.getLogger("bot.store")

_COLUMNS = (
    "record_id", "ts", "platform", "workspace", "channel", "user_id", "event_id", "category",
    "confidence", "topics", "pitfalls", "signal_ids", "knowledge_version", "latency_ms", "text",
)
_RECORD_COLS = ", ".join(f"r.{c}" for c in _COLUMNS)


class _Flush:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


_STOP = object()


def user_hash(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()


def week_start(ts: float) -> dt.date:
    day = dt.datetime.fromtimestamp(ts, dt.timezone.utc).date()
    return day - dt.timedelta(days=day.weekday())


def _describe(exc: BaseException) -> str:
    """Error summary for logs: type and first line only (no record data is ever logged)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict[Any, None] = OrderedDict()

    def __contains__(self, key) -> bool:
        if key in self._d:
            self._d.move_to_end(key)
            return True
        return False

    def add(self, key) -> None:
        self._d[key] = None
        self._d.move_to_end(key)
        while len(self._d) > self.size:
            self._d.popitem(last=False)

    def discard(self, key) -> None:
        self._d.pop(key, None)

    def __len__(self) -> int:
        return len(self._d)


class SQLStore(Store):
    """Shared implementation; subclasses provide connections and dialect details."""

    # dialect hooks ---------------------------------------------------------------------
    ARRAY_TYPE = "TEXT"
    FLOAT_TYPE = "REAL"
    GREATEST = "max"
    unavailable_errors: tuple[type[BaseException], ...] = ()

    def _acquire(self):  # contextmanager -> connection for the calling thread
        raise NotImplementedError

    def _writer_conn(self):
        raise NotImplementedError

    def _writer_conn_broken(self) -> None:
        raise NotImplementedError

    def _close_connections(self) -> None:
        raise NotImplementedError

    def _tx(self, conn, write: bool):  # contextmanager: one transaction
        raise NotImplementedError

    def _q(self, sql: str) -> str:
        return sql

    def _executemany(self, conn, sql: str, rows: list[tuple]) -> None:
        conn.executemany(sql, rows)

    def _encode_array(self, values: tuple[str, ...]):
        raise NotImplementedError

    def _decode_array(self, value) -> tuple[str, ...]:
        raise NotImplementedError

    def _str(self, value: str | None) -> str | None:
        return value

    def _topic_counts_sql(self, column: str) -> str:
        raise NotImplementedError

    def _week_sql(self) -> str:
        raise NotImplementedError

    def _describe_location(self) -> str:
        raise NotImplementedError

    # construction ----------------------------------------------------------------------
    def _start(
        self,
        spool_dir: Path,
        *,
        batch_size: int = 500,
        queue_size: int = 100_000,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        breaker_seconds: float = 5.0,
        event_ttl: float = 2 * 86400,
        lru_size: int = 10_000,
        orphan_scan_interval: float = 60.0,
        journal_sync: bool = True,
    ) -> None:
        self._batch_size = batch_size
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._breaker_seconds = breaker_seconds
        self._event_ttl = event_ttl
        self._orphan_scan_interval = orphan_scan_interval

        self._q_items: queue.Queue = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unfinished = 0  # items accepted but not yet committed-or-spooled
        self._pending: OrderedDict[str, None] = OrderedDict()  # record ids not yet in the DB
        self._pending_max = max(queue_size * 2, 200_000)
        self._lru = _LRU(lru_size)
        self._breaker_until = 0.0
        self._last_error: str | None = None
        self._dropped = 0
        self._closed = False
        self._last_warn: dict[str, float] = {}

        # writer-thread state
        self._spool = Spool(spool_dir)
        self._journal = Journal(spool_dir, sync=journal_sync)
        self._local_claims = LocalClaims(spool_dir, ttl=event_ttl)
        self._backlog: list[dict] = []  # items neither the DB nor the spool file took
        self._backlog_max = queue_size
        self._retry_delay = retry_initial
        self._next_retry = 0.0
        self._next_orphan_scan = 0.0
        self._next_maintenance = time.monotonic() + 60.0
        self._spooling_since: float | None = None

        self._writer = threading.Thread(target=self._run, name=f"triage-store-{self.backend}", daemon=True)
        self._writer.start()
        ref = weakref.ref(self)
        self._atexit = lambda: (s := ref()) is not None and s.close(timeout=2.0)
        atexit.register(self._atexit)

    # helpers ---------------------------------------------------------------------------
    def _warn_rate_limited(self, key: str, interval: float, msg: str, *args) -> None:
        now = time.monotonic()
        if now - self._last_warn.get(key, -1e9) >= interval:
            self._last_warn[key] = now
            log.warning(msg, *args)

    def _is_unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, (StoreUnavailable, *self.unavailable_errors))

    def _note_failure(self, exc: BaseException) -> None:
        self._last_error = _describe(exc)
        self._breaker_until = time.monotonic() + self._breaker_seconds

    def _note_success(self) -> None:
        self._breaker_until = 0.0

    @contextmanager
    def _op(self, what: str) -> Iterator[Any]:
        """Connection for an operator action; outages become StoreUnavailable."""
        try:
            with self._acquire() as conn:
                yield conn
        except self.unavailable_errors as exc:
            self._note_failure(exc)
            raise StoreUnavailable(f"{what}: database unavailable ({_describe(exc)})") from exc

    def _record_row(self, rec: TriageRecord) -> tuple:
        return (
            self._str(rec.record_id), float(rec.ts), self._str(rec.platform),
            self._str(rec.workspace), self._str(rec.channel), self._str(rec.user),
            self._str(rec.event_id), self._str(rec.category), float(rec.confidence),
            self._encode_array(rec.topics), self._encode_array(rec.pitfalls),
            self._encode_array(rec.signal_ids), self._str(rec.knowledge_version),
            float(rec.latency_ms), self._str(rec.text),
            # tombstone check
            self._str(rec.platform), user_hash(rec.user), float(rec.ts),
        )

    def _row_record(self, row) -> TriageRecord:
        return TriageRecord(
            record_id=row[0], ts=row[1], platform=row[2], workspace=row[3], channel=row[4],
            user=row[5], event_id=row[6], category=row[7], confidence=row[8],
            topics=self._decode_array(row[9]), pitfalls=self._decode_array(row[10]),
            signal_ids=self._decode_array(row[11]), knowledge_version=row[12],
            latency_ms=row[13], text=row[14],
        )

    def _feedback_row(self, fb: Feedback) -> tuple:
        return (
            self._str(fb.record_id), self._str(fb.user), fb.choice, float(fb.ts),
            self._str(fb.record_id),  # EXISTS record
            self._str(fb.record_id), user_hash(fb.user), float(fb.ts),  # tombstone
        )

    @property
    def _insert_record_sql(self) -> str:
        t, a, f = "TEXT", self.ARRAY_TYPE, self.FLOAT_TYPE
        types = (t, f, t, t, t, t, t, t, f, a, a, a, t, f, t)
        select = ", ".join(f"CAST(? AS {ty})" for ty in types)
        return self._q(
            f"INSERT INTO triage_records ({', '.join(_COLUMNS)}) SELECT {select} "
            "WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f "
            "WHERE f.platform = ? AND f.user_hash = ? AND f.forgotten_at >= ?) "
            "ON CONFLICT (record_id) DO NOTHING"
        )

    @property
    def _upsert_feedback_sql(self) -> str:
        return self._q(
            "INSERT INTO feedback (record_id, user_id, choice, ts) "
            f"SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS {self.FLOAT_TYPE}) "
            "WHERE EXISTS (SELECT 1 FROM triage_records WHERE record_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM forgotten_users f JOIN triage_records r "
            "ON r.platform = f.platform WHERE r.record_id = ? AND f.user_hash = ? "
            "AND f.forgotten_at >= ?) "
            "ON CONFLICT (record_id, user_id) DO UPDATE SET choice = excluded.choice, "
            "ts = excluded.ts WHERE excluded.ts >= feedback.ts"
        )

    # reply path ------------------------------------------------------------------------
    def claim_event(self, platform: str, event_id: str) -> bool:
        if not event_id:
            return True  # nothing to dedupe on
        key = (platform, event_id)
        with self._lock:
            if key in self._lru:
                return False
        if time.monotonic() >= self._breaker_until:
            try:
                with self._acquire() as conn, self._tx(conn, write=True):
                    cur = conn.execute(
                        self._q("INSERT INTO processed_events (platform, event_id, claimed_at) "
                                "VALUES (?, ?, ?) ON CONFLICT (platform, event_id) DO NOTHING"),
                        (self._str(platform), self._str(event_id), time.time()))
                    claimed = cur.rowcount == 1
                if claimed and self._local_claims.claimed_during_outage(platform, event_id):
                    claimed = False  # answered on this host while the database was down
                self._note_success()
                with self._lock:  # the database decided; remember it locally either way
                    self._lru.add(key)
                return claimed
            except Exception as exc:  # keep serving: fall back to per-process dedupe
                self._note_failure(exc)
                if self._is_unavailable(exc):
                    self._warn_rate_limited("claim", 60, "claim_event: database unavailable (%s); "
                                            "deduplicating events on this host only", _describe(exc))
                else:
                    log.exception("claim_event failed; deduplicating on this host only")
        try:  # fallback: first claimer on this host wins
            claimed = self._local_claims.claim(platform, event_id)
            with self._lock:
                self._lru.add(key)
            return claimed
        except (OSError, sqlite3.Error) as exc:
            self._warn_rate_limited("localclaim", 60, "local event claims unusable (%s); "
                                    "deduplicating in this process only", _describe(exc))
        with self._lock:  # last resort: first claimer in this process wins
            if key in self._lru:
                return False
            self._lru.add(key)
        return True

    def add_triage(self, rec: TriageRecord) -> None:
        try:
            if not isinstance(rec, TriageRecord):
                raise TypeError(f"expected TriageRecord, got {type(rec).__name__}")
            if self._closed:
                self._dropped += 1
                log.error("add_triage after close(); record %s dropped", rec.record_id)
                return
            with self._lock:
                self._pending[rec.record_id] = None
                while len(self._pending) > self._pending_max:
                    self._pending.popitem(last=False)
            if not self._enqueue("triage", rec):
                with self._lock:
                    self._pending.pop(rec.record_id, None)
        except Exception:  # never let bookkeeping break the reply
            log.exception("add_triage failed; record dropped")

    def forget_later(self, platform: str, user: str) -> None:
        self._enqueue("forget", ForgetRequest(platform, user, time.time()))

    def _enqueue(self, kind: str, obj) -> bool:
        """Journal the item (on disk before the caller answers anyone), then queue it for
        the writer. False when the queue is full and the item was dropped."""
        with self._lock:
            self._unfinished += 1  # before the journal line: the writer never drops a live segment
        segment = None
        try:
            segment = self._journal.append(self._serialise((kind, obj)))
        except OSError as exc:
            self._warn_rate_limited("journal", 30, "cannot write the journal in %s (%s); queued items "
                                    "are in memory only until written", self._journal.directory, exc)
        try:
            self._q_items.put_nowait((kind, obj, segment))
            return True
        except queue.Full:
            self._journal.release([segment])
            with self._lock:
                self._unfinished -= 1
                self._dropped += 1
            self._warn_rate_limited("full", 10, "write queue full; %s dropped (%d dropped so far)",
                                    kind, self._dropped)
            return False

    def add_feedback(self, fb: Feedback) -> bool:
        if fb.choice not in FEEDBACK_CHOICES:
            raise ValueError(f"feedback choice must be one of {FEEDBACK_CHOICES}, got {fb.choice!r}")
        with self._lock:
            pending = fb.record_id in self._pending
        if not pending and time.monotonic() >= self._breaker_until:
            try:
                with self._acquire() as conn, self._tx(conn, write=True):
                    cur = conn.execute(self._upsert_feedback_sql, self._feedback_row(fb))
                    if cur.rowcount == 1:
                        return True
                    # not inserted: unknown record, a newer answer already stored, or forgotten
                    row = conn.execute(self._q("SELECT 1 FROM triage_records WHERE record_id = ?"),
                                       (self._str(fb.record_id),)).fetchone()
                    return row is not None
            except Exception as exc:
                self._note_failure(exc)
                if not self._is_unavailable(exc):
                    log.exception("add_feedback failed; queueing it for the writer")
        # The record is still on its way (queue/spool) or the DB is down: hand the feedback
        # to the writer, which keeps it behind the record and applies it when it can.
        return self._enqueue("feedback", fb)

    # operator actions ------------------------------------------------------------------
    def forget_user(self, platform: str, user: str) -> int:
        with self._op("forget_user") as conn, self._tx(conn, write=True):
            return self._forget(conn, ForgetRequest(platform, user, time.time()))

    def _forget(self, conn, req: ForgetRequest) -> int:
        """Tombstone first (records of the user still on their way are not written later),
        then delete; in the caller's transaction."""
        platform, user, ts = self._str(req.platform), self._str(req.user), float(req.ts)
        conn.execute(
            self._q("INSERT INTO forgotten_users (platform, user_hash, forgotten_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (platform, user_hash) DO UPDATE SET forgotten_at = "
                    f"{self.GREATEST}(forgotten_users.forgotten_at, excluded.forgotten_at)"),
            (platform, user_hash(req.user), ts))
        fb = conn.execute(
            self._q("DELETE FROM feedback WHERE user_id = ? AND ts <= ? AND record_id IN "
                    "(SELECT record_id FROM triage_records WHERE platform = ?)"),
            (user, ts, platform)).rowcount
        recs = conn.execute(self._q("DELETE FROM triage_records WHERE platform = ? AND user_id = ? AND ts <= ?"),
                            (platform, user, ts)).rowcount
        log.info("forget_user: deleted %d record(s) and %d feedback row(s)", recs, fb)
        return recs + fb

    def purge_older_than(self, ts: float) -> int:
        with self._op("purge_older_than") as conn, self._tx(conn, write=True):
            n = conn.execute(self._q("DELETE FROM triage_records WHERE ts < ?"), (float(ts),)).rowcount
            conn.execute(self._q("DELETE FROM processed_events WHERE claimed_at < ?"), (float(ts),))
        log.info("purge: deleted %d record(s) older than %s", n, ts)
        return n

    def stats(self, since: float, until: float | None = None, *, top: int = 10) -> Stats:
        since = float(since)
        until = time.time() if until is None else float(until)
        window = (since, until)
        with self._op("stats") as conn, self._tx(conn, write=False):
            by_cat = {c: 0 for c in CATEGORIES}
            for cat, n in conn.execute(self._q(
                    "SELECT category, COUNT(*) FROM triage_records WHERE ts >= ? AND ts < ? "
                    "GROUP BY category"), window):
                by_cat[cat] = int(n)
            topics = [(t, int(n)) for t, n in conn.execute(self._topic_counts_sql("topics"), (*window, top))]
            pitfalls = [(t, int(n)) for t, n in conn.execute(self._topic_counts_sql("pitfalls"), (*window, top))]
            weeks: dict[str, dict[str, int]] = {}
            for week, cat, n in conn.execute(self._q(
                    f"SELECT {self._week_sql()} AS week, category, COUNT(*) FROM triage_records "
                    "WHERE ts >= ? AND ts < ? GROUP BY 1, 2"), window):
                weeks.setdefault(week, {})[cat] = int(n)
            fb_total, fb_agree = conn.execute(self._q(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN f.choice = 'right' OR f.choice = r.category "
                "THEN 1 ELSE 0 END), 0) FROM feedback f JOIN triage_records r ON r.record_id = f.record_id "
                "WHERE r.ts >= ? AND r.ts < ?"), window).fetchone()
        fb_total, fb_agree = int(fb_total), int(fb_agree)
        return Stats(
            since=since, until=until, total=sum(by_cat.values()), by_category=by_cat,
            top_topics=topics, top_pitfalls=pitfalls, weekly=self._fill_weeks(weeks, since, until),
            feedback_total=fb_total, feedback_agree=fb_agree,
            agreement_rate=(fb_agree / fb_total) if fb_total else None,
        )

    @staticmethod
    def _fill_weeks(weeks: dict[str, dict[str, int]], since: float, until: float,
                    max_weeks: int = 520) -> list[tuple[str, dict[str, int]]]:
        """Every week of the window, oldest first, zero-filled (capped for all-time windows)."""
        if until <= since:
            return []
        since = max(since, 0.0)
        first, last = week_start(since), week_start(max(since, until - 1e-3))
        if (last - first).days // 7 + 1 > max_weeks:
            if not weeks:
                return []
            first = max(first, min(dt.date.fromisoformat(w) for w in weeks))
        out = []
        day = first
        while day <= last:
            key = day.isoformat()
            counts = {c: 0 for c in CATEGORIES}
            counts.update(weeks.get(key, {}))
            out.append((key, counts))
            day += dt.timedelta(days=7)
        return out

    def feedback_stats(self, since: float | None = None) -> FeedbackStats:
        since_v = float("-inf") if since is None else float(since)
        per: dict[str, tuple[int, int]] = {}
        with self._op("feedback_stats") as conn:
            for cat, agree, total in conn.execute(self._q(
                    "SELECT r.category, SUM(CASE WHEN f.choice = 'right' OR f.choice = r.category "
                    "THEN 1 ELSE 0 END), COUNT(*) FROM feedback f "
                    "JOIN triage_records r ON r.record_id = f.record_id "
                    "WHERE f.ts >= ? GROUP BY r.category"), (since_v,)):
                per[cat] = (int(agree), int(total))
        return FeedbackStats(per_category=per)

    def disagreements(self, since: float | None = None, *, limit: int = 100) -> list[Disagreement]:
        since_v = float("-inf") if since is None else float(since)
        out = []
        with self._op("disagreements") as conn:
            rows = conn.execute(self._q(
                f"SELECT {_RECORD_COLS}, f.user_id, f.choice, f.ts FROM feedback f "
                "JOIN triage_records r ON r.record_id = f.record_id "
                "WHERE f.ts >= ? AND f.choice <> 'right' AND f.choice <> r.category "
                "ORDER BY f.ts DESC, r.record_id LIMIT ?"), (since_v, int(limit))).fetchall()
        for row in rows:
            rec = self._row_record(row)
            fb = Feedback(record_id=rec.record_id, user=row[15], choice=row[16], ts=row[17])
            out.append(Disagreement(record=rec, feedback=fb))
        return out

    def get_record(self, record_id: str) -> TriageRecord | None:
        """Look one record up (committed records only)."""
        with self._op("get_record") as conn:
            row = conn.execute(self._q(f"SELECT {_RECORD_COLS} FROM triage_records r WHERE r.record_id = ?"),
                               (record_id,)).fetchone()
        return None if row is None else self._row_record(row)

    # lifecycle -------------------------------------------------------------------------
    def health(self) -> dict:
        ok = False
        try:
            with self._acquire() as conn:
                conn.execute("SELECT 1 FROM schema_version LIMIT 1").fetchone()
            ok = True
        except Exception as exc:
            self._last_error = _describe(exc)
        with self._lock:
            depth = self._unfinished
        return {
            "backend": self.backend,
            "ok": ok,
            "spooled": self._spool.count + len(self._backlog),
            "queue_depth": depth,
            "dropped": self._dropped,
            "writer_alive": self._writer.is_alive(),
            "last_error": self._last_error,
            "location": self._describe_location(),
            "spool_dir": str(self._spool.directory),
        }

    def flush(self, timeout: float = 10.0) -> bool:
        if self._writer.is_alive():
            deadline = time.monotonic() + timeout
            token = _Flush()
            try:
                self._q_items.put(token, timeout=timeout)
            except queue.Full:
                return False
            if not token.event.wait(max(0.0, deadline - time.monotonic())):
                return False
        with self._lock:
            drained = self._unfinished == 0
        return drained and self._spool.count == 0 and not self._backlog

    def close(self, timeout: float = 5.0) -> None:
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        self.flush(timeout=timeout)
        self._closed = True
        try:
            self._q_items.put(_STOP, timeout=max(0.1, deadline - time.monotonic()))
        except queue.Full:
            pass
        self._writer.join(max(0.1, deadline - time.monotonic()))
        if self._writer.is_alive():
            log.error("store writer did not stop within %.1fs; %d item(s) may be lost",
                      timeout, self._unfinished)
        else:
            self._spool.close()
            self._journal.close()
        self._local_claims.close()
        self._close_connections()
        try:
            atexit.unregister(self._atexit)
        except Exception:
            pass

    # writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                if self._writer_step():
                    return
            except Exception:  # the writer must not die; items stay counted until handled
                log.exception("store writer: unexpected error")
                time.sleep(0.5)

    def _spooling(self) -> bool:
        return self._spool.count > 0 or bool(self._backlog)

    def _writer_step(self) -> bool:
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
        batch: list[tuple[str, Any]] = []
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
                self._maintenance()
            self._journal.release(segments)  # committed or spooled: durable without the journal
        finally:  # whatever happened, the batch was handled: don't leave flush() hanging
            if batch:
                with self._idle:
                    self._unfinished -= len(batch)
                    self._idle.notify_all()
            for f in flushes:
                f.event.set()
        return stop

    def _serialise_all(self, items: list[tuple[str, Any]]) -> list[dict]:
        out = []
        for item in items:
            try:
                d = self._serialise(item)
                json.dumps(d)
                out.append(d)
            except (TypeError, ValueError) as exc:  # a caller bug; nothing we could replay
                self._dropped += 1
                log.error("store writer: %s %s cannot be serialised (%s); dropped",
                          item[0], getattr(item[1], "record_id", "?"), _describe(exc))
        return out

    @staticmethod
    def _serialise(item: tuple[str, Any]) -> dict:
        kind, obj = item
        return {"v": 1, "kind": kind, "data": obj.to_dict()}

    @staticmethod
    def _deserialise(d: dict) -> tuple[str, Any] | None:
        kind = d.get("kind")
        if kind == "triage":
            return ("triage", TriageRecord.from_dict(d["data"]))
        if kind == "feedback":
            return ("feedback", Feedback.from_dict(d["data"]))
        if kind == "forget":
            return ("forget", ForgetRequest.from_dict(d["data"]))
        return None

    def _commit_items(self, items: list[tuple[str, Any]]) -> None:
        """Write items in one transaction (records first: feedback refers to them)."""
        recs = [self._record_row(o) for k, o in items if k == "triage"]
        fbs = [self._feedback_row(o) for k, o in items if k == "feedback"]
        forgets = [o for k, o in items if k == "forget"]
        try:
            conn = self._writer_conn()
        except Exception as exc:  # cannot connect (or migrate): an outage, not a bad row
            raise StoreUnavailable(f"writer cannot connect: {_describe(exc)}") from exc
        try:
            with self._tx(conn, write=True):
                if recs:
                    self._executemany(conn, self._insert_record_sql, recs)
                if fbs:
                    self._executemany(conn, self._upsert_feedback_sql, fbs)
                for req in forgets:  # last: what the person asked to forget includes this batch
                    n = self._forget(conn, req)
                    log.info("queued forget_user carried out: %d row(s) deleted", n)
        except BaseException as exc:
            if self._is_unavailable(exc):
                self._writer_conn_broken()
            raise

    def _committed(self, items: list[tuple[str, Any]]) -> None:
        with self._lock:
            for kind, obj in items:
                if kind == "triage":
                    self._pending.pop(obj.record_id, None)
        self._note_success()

    def _write_resilient(self, items: list[tuple[str, Any]], chunk: int) -> None:
        """Commit items in chunks; isolate rows the database rejects as invalid.

        Raises the first "unavailable" error, leaving the caller to spool/retry.
        """
        for i in range(0, len(items), chunk):
            part = items[i:i + chunk]
            try:
                self._commit_items(part)
            except Exception as exc:
                if self._is_unavailable(exc):
                    raise
                # A bad row (not an outage): commit the rest one by one, set the bad ones aside.
                log.error("store writer: batch rejected (%s); retrying row by row", _describe(exc))
                for one in part:
                    try:
                        self._commit_items([one])
                    except Exception as exc1:
                        if self._is_unavailable(exc1):
                            raise
                        self._reject(one, exc1)
            self._committed(part)

    def _reject(self, item: tuple[str, Any], exc: BaseException) -> None:
        path = self._spool.directory / "rejected.jsonl"
        try:
            self._spool.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, json.dumps({**self._serialise(item), "error": _describe(exc)},
                                        ensure_ascii=False, default=repr).encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            log.error("store writer: %s %s rejected by the database (%s); kept in %s",
                      item[0], getattr(item[1], "record_id", "?"), _describe(exc), path)
        except OSError as oexc:
            log.error("store writer: %s rejected (%s) and could not be kept (%s)",
                      item[0], _describe(exc), oexc)

    def _write_live(self, batch: list[tuple[str, Any]]) -> None:
        try:
            self._write_resilient(batch, chunk=len(batch))
        except Exception as exc:
            # partially committed chunks are harmless to spool again (idempotent replay)
            self._go_down(exc)
            self._to_spool(self._serialise_all(batch))

    def _go_down(self, exc: BaseException) -> None:
        self._note_failure(exc)
        self._schedule_retry()
        if self._spooling_since is None:
            self._spooling_since = time.monotonic()
            log.warning("database unavailable (%s); spooling writes to %s and retrying in the background",
                        _describe(exc), self._spool.path or self._spool.directory)

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
            self._warn_rate_limited("spooled", 30, "spooled %d item(s) to %s (%d waiting for the database)",
                                    len(lines), self._spool.path, self._spool.count)
        except OSError as exc:
            self._backlog = lines
            if len(self._backlog) > self._backlog_max:
                lost = len(self._backlog) - self._backlog_max
                del self._backlog[:lost]
                self._dropped += lost
                log.error("store: %d item(s) dropped: database and spool both unavailable", lost)
            self._warn_rate_limited("spoolfail", 30, "cannot write spool in %s (%s); keeping %d item(s) "
                                    "in memory", self._spool.directory, exc, len(self._backlog))

    def _replay(self, lines: list[dict]) -> int:
        items = [i for i in (self._deserialise(d) for d in lines) if i is not None]
        self._write_resilient(items, chunk=self._batch_size)
        return len(items)

    def _replay_own(self) -> None:
        lines = list(self._backlog)
        try:
            lines = self._spool.read() + lines
            n = self._replay(lines)
        except Exception as exc:
            self._note_failure(exc)
            self._schedule_retry()
            if isinstance(exc, OSError):
                self._warn_rate_limited("spoolread", 60, "cannot read spool %s: %s", self._spool.path, exc)
            elif not self._is_unavailable(exc):
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
                    self._note_failure(exc)
                    if not self._is_unavailable(exc):
                        log.exception("replaying orphan spool %s failed", orphan.path)
                    return
                orphan.remove()
                log.info("replayed %d item(s) from spool %s left by an earlier process", n, orphan.path)
        except OSError as exc:
            log.warning("cannot scan spool directory %s: %s", self._spool.directory, exc)

    def _maintenance(self) -> None:
        self._next_maintenance = time.monotonic() + 3600.0
        try:
            conn = self._writer_conn()
            with self._tx(conn, write=True):
                conn.execute(self._q("DELETE FROM processed_events WHERE claimed_at < ?"),
                             (time.time() - self._event_ttl,))
        except Exception as exc:
            if self._is_unavailable(exc):
                self._writer_conn_broken()
            self._warn_rate_limited("maint", 3600, "event-dedupe cleanup failed: %s", _describe(exc))


def check_data_dir(data_dir: Path) -> Path:
    """Create the data directory (0700) or fail at startup with a message that says what to do."""
    data_dir = Path(data_dir).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = data_dir / f".write-test-{os.getpid()}-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            f"data directory {data_dir} is not usable ({exc.strerror or exc}); "
            "point TRIAGE_DATA_DIR at a writable directory"
        ) from exc
    return data_dir
