"""The store both backends share: the reply path, operator actions and lifecycle.

It is assembled from parts, each replaceable on its own: a `Dialect` (spelling), the
`Queries` (SQL), a `Writer` (queue, spool, replay) and a `Breaker`, plus per-process
event claims so ``claim_event`` keeps working during outages. A backend subclass owns only
its connections. Logging goes to the "bot.store" logger and never includes message text.
"""
from __future__ import annotations

import atexit
import logging
import os
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
from .claims import LocalClaims
from .dialect import Dialect
from .queries import Queries
from ..vocabulary import FEEDBACK_CHOICES
from .records import Disagreement, Feedback, FeedbackStats, ForgetRequest, Stats, TriageRecord
from .writer import Breaker, Item, RateLimitedLog, Writer, describe

log = logging.getLogger("bot.store")


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


class SQLStore(Store):
    """A backend calls ``super().__init__`` once its connections work; the writer thread
    starts there and may use them at once."""

    unavailable_errors: tuple[type[BaseException], ...] = ()

    # what a backend provides -----------------------------------------------------------
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

    def _describe_location(self) -> str:
        raise NotImplementedError

    # construction ----------------------------------------------------------------------
    def __init__(
        self,
        dialect: Dialect,
        spool_dir: Path,
        *,
        breaker_seconds: float = 5.0,
        event_ttl: float = 2 * 86400,
        lru_size: int = 10_000,
        queue_size: int = 100_000,
        **writer_options,
    ) -> None:
        self.dialect = dialect
        self.sql = Queries(dialect)
        self._event_ttl = event_ttl
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, None] = OrderedDict()  # record ids not yet in the DB
        self._pending_max = max(queue_size * 2, 200_000)
        self._lru = _LRU(lru_size)
        self._breaker = Breaker(breaker_seconds)
        self._warn = RateLimitedLog()
        self._closed = False
        self._local_claims = LocalClaims(spool_dir, ttl=event_ttl)
        self._writer = Writer(self, self._breaker, spool_dir, name=f"triage-store-{self.backend}",
                              queue_size=queue_size, **writer_options)
        ref = weakref.ref(self)
        self._atexit = lambda: (s := ref()) is not None and s.close(timeout=2.0)
        atexit.register(self._atexit)

    # helpers ---------------------------------------------------------------------------
    def is_unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, (StoreUnavailable, *self.unavailable_errors))

    @contextmanager
    def _op(self, what: str) -> Iterator[Any]:
        """Connection for an operator action; outages become StoreUnavailable."""
        try:
            with self._acquire() as conn:
                yield conn
        except self.unavailable_errors as exc:
            self._breaker.failure(exc)
            raise StoreUnavailable(f"{what}: database unavailable ({describe(exc)})") from exc

    # reply path ------------------------------------------------------------------------
    def claim_event(self, platform: str, event_id: str) -> bool:
        if not event_id:
            return True  # nothing to dedupe on
        key = (platform, event_id)
        with self._lock:
            if key in self._lru:
                return False
        if self._breaker.closed:
            try:
                with self._acquire() as conn, self._tx(conn, write=True):
                    s = self.dialect.str
                    cur = conn.execute(self.sql.claim, (s(platform), s(event_id), time.time()))
                    claimed = cur.rowcount == 1
                if claimed and self._local_claims.claimed_during_outage(platform, event_id):
                    claimed = False  # answered on this host while the database was down
                self._breaker.success()
                with self._lock:  # the database decided; remember it locally either way
                    self._lru.add(key)
                return claimed
            except Exception as exc:  # keep serving: fall back to per-process dedupe
                self._breaker.failure(exc)
                if self.is_unavailable(exc):
                    self._warn.warning("claim", 60, "claim_event: database unavailable (%s); "
                                       "deduplicating events on this host only", describe(exc))
                else:
                    log.exception("claim_event failed; deduplicating on this host only")
        try:  # fallback: first claimer on this host wins
            claimed = self._local_claims.claim(platform, event_id)
            with self._lock:
                self._lru.add(key)
            return claimed
        except (OSError, sqlite3.Error) as exc:
            self._warn.warning("localclaim", 60, "local event claims unusable (%s); "
                               "deduplicating in this process only", describe(exc))
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
                self._writer.dropped += 1
                log.error("add_triage after close(); record %s dropped", rec.record_id)
                return
            with self._lock:
                self._pending[rec.record_id] = None
                while len(self._pending) > self._pending_max:
                    self._pending.popitem(last=False)
            if not self._writer.enqueue("triage", rec):
                with self._lock:
                    self._pending.pop(rec.record_id, None)
        except Exception:  # never let bookkeeping break the reply
            log.exception("add_triage failed; record dropped")

    def forget_later(self, platform: str, user: str) -> None:
        self._writer.enqueue("forget", ForgetRequest(platform, user, time.time()))

    def add_feedback(self, fb: Feedback) -> bool:
        if fb.choice not in FEEDBACK_CHOICES:
            raise ValueError(f"feedback choice must be one of {FEEDBACK_CHOICES}, got {fb.choice!r}")
        with self._lock:
            pending = fb.record_id in self._pending
        if not pending and self._breaker.closed:
            try:
                with self._acquire() as conn, self._tx(conn, write=True):
                    cur = conn.execute(self.sql.upsert_feedback, self.sql.feedback_row(fb))
                    if cur.rowcount == 1:
                        return True
                    # not inserted: unknown record, a newer answer already stored, or forgotten
                    row = conn.execute(self.sql.record_exists, (self.dialect.str(fb.record_id),)).fetchone()
                    return row is not None
            except Exception as exc:
                self._breaker.failure(exc)
                if not self.is_unavailable(exc):
                    log.exception("add_feedback failed; queueing it for the writer")
        # The record is still on its way (queue/spool) or the DB is down: hand the feedback
        # to the writer, which keeps it behind the record and applies it when it can.
        return self._writer.enqueue("feedback", fb)

    # operator actions ------------------------------------------------------------------
    def forget_user(self, platform: str, user: str) -> int:
        # A triage answered a moment ago may still be in the writer's queue: let it land
        # first, or "forget me" right after a triage deletes 0 records and the record
        # arrives afterwards (the tombstone would stop it, but the count would be wrong).
        self.flush(5.0)
        with self._op("forget_user") as conn, self._tx(conn, write=True):
            return self.sql.forget(conn, ForgetRequest(platform, user, time.time()))

    def purge_older_than(self, ts: float) -> int:
        with self._op("purge_older_than") as conn, self._tx(conn, write=True):
            n = self.sql.purge(conn, ts)
        log.info("purge: deleted %d record(s) older than %s", n, ts)
        return n

    def stats(self, since: float, until: float | None = None, *, top: int = 10) -> Stats:
        until = time.time() if until is None else float(until)
        with self._op("stats") as conn, self._tx(conn, write=False):
            return self.sql.stats(conn, float(since), until, top)

    def feedback_stats(self, since: float | None = None) -> FeedbackStats:
        with self._op("feedback_stats") as conn:
            return self.sql.feedback_stats(conn, float("-inf") if since is None else float(since))

    def disagreements(self, since: float | None = None, *, limit: int = 100) -> list[Disagreement]:
        with self._op("disagreements") as conn:
            return self.sql.disagreements(conn, float("-inf") if since is None else float(since), limit)

    def get_record(self, record_id: str) -> TriageRecord | None:
        """Look one record up (committed records only)."""
        with self._op("get_record") as conn:
            return self.sql.record(conn, record_id)

    # the writer's side (Sink) ----------------------------------------------------------
    def commit_items(self, items: list[Item]) -> None:
        """Write items in one transaction (records first: feedback refers to them)."""
        recs = [self.sql.record_row(o) for k, o in items if k == "triage"]
        fbs = [self.sql.feedback_row(o) for k, o in items if k == "feedback"]
        forgets = [o for k, o in items if k == "forget"]
        try:
            conn = self._writer_conn()
        except Exception as exc:  # cannot connect (or migrate): an outage, not a bad row
            raise StoreUnavailable(f"writer cannot connect: {describe(exc)}") from exc
        try:
            with self._tx(conn, write=True):
                if recs:
                    self.dialect.executemany(conn, self.sql.insert_record, recs)
                if fbs:
                    self.dialect.executemany(conn, self.sql.upsert_feedback, fbs)
                for req in forgets:  # last: what the person asked to forget includes this batch
                    n = self.sql.forget(conn, req)
                    log.info("queued forget_user carried out: %d row(s) deleted", n)
        except BaseException as exc:
            if self.is_unavailable(exc):
                self._writer_conn_broken()
            raise

    def committed(self, items: list[Item]) -> None:
        with self._lock:
            for kind, obj in items:
                if kind == "triage":
                    self._pending.pop(obj.record_id, None)

    def maintenance(self) -> None:
        try:
            conn = self._writer_conn()
            with self._tx(conn, write=True):
                conn.execute(self.sql.expire_events, (time.time() - self._event_ttl,))
        except Exception as exc:
            if self.is_unavailable(exc):
                self._writer_conn_broken()
            self._warn.warning("maint", 3600, "event-dedupe cleanup failed: %s", describe(exc))

    # lifecycle -------------------------------------------------------------------------
    def health(self) -> dict:
        ok = False
        try:
            with self._acquire() as conn:
                conn.execute("SELECT 1 FROM schema_version LIMIT 1").fetchone()
            ok = True
        except Exception as exc:
            self._breaker.last_error = describe(exc)
        return {
            "backend": self.backend,
            "ok": ok,
            "spooled": self._writer.spooled,
            "queue_depth": self._writer.unfinished,
            "dropped": self._writer.dropped,
            "writer_alive": self._writer.alive,
            "last_error": self._breaker.last_error,
            "location": self._describe_location(),
            "spool_dir": str(self._writer.spool_dir),
        }

    def flush(self, timeout: float = 10.0) -> bool:
        return self._writer.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        self.flush(timeout=timeout)
        self._closed = True
        self._writer.stop(deadline, timeout)
        self._local_claims.close()
        self._close_connections()
        try:
            atexit.unregister(self._atexit)
        except Exception:
            pass


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
