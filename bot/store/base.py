"""The store interface. Backends: sqlite.SQLiteStore (default) and postgres.PostgresStore.

Contract on the reply path:
  * ``add_triage`` never raises and never waits for the database, only for one line of
    the local journal to reach the disk (a background writer thread batches inserts; if the database is unreachable they go to a local spool file
    and are replayed, idempotently, when it is back).
  * ``claim_event`` never raises; if the database is unreachable it falls back to a
    SQLite file beside the spool, shared by the processes of this host (dedupe is then
    per host), and to an in-process LRU if even that fails.
  * ``add_feedback`` never raises for database outages (feedback is queued/spooled like
    records); it returns False only when the record is known not to exist.
Everything else (stats, forget_user, purge...) is an operator action and raises
``StoreUnavailable`` when the database cannot be reached.
"""
from __future__ import annotations

import abc

from .records import Disagreement, Feedback, FeedbackStats, Stats, TriageRecord


class StoreError(RuntimeError):
    """The store cannot be opened or used (bad URL, unwritable data dir, broken schema)."""


class StoreUnavailable(StoreError):
    """The database is unreachable right now; the operation may succeed later."""


class Store(abc.ABC):
    backend: str = "?"

    # --- reply path -------------------------------------------------------------------
    @abc.abstractmethod
    def claim_event(self, platform: str, event_id: str) -> bool:
        """True the first time (platform, event_id) is seen by any process, False after."""

    @abc.abstractmethod
    def add_triage(self, rec: TriageRecord) -> None:
        """Queue a record for writing. Never raises, never blocks on I/O."""

    @abc.abstractmethod
    def add_feedback(self, fb: Feedback) -> bool:
        """Record feedback (latest per (record, user) wins). False if the record is unknown.

        Raises ValueError for a choice outside FEEDBACK_CHOICES (a caller bug)."""

    # --- operator actions -------------------------------------------------------------
    @abc.abstractmethod
    def get_record(self, record_id: str) -> TriageRecord | None:
        """A committed record, or None."""

    @abc.abstractmethod
    def forget_user(self, platform: str, user: str) -> int:
        """Delete the user's records and feedback; return how many rows were deleted.

        Records of that user still queued or spooled (ts <= now) will not be written later."""

    @abc.abstractmethod
    def forget_later(self, platform: str, user: str) -> None:
        """forget_user, carried out by the writer once the database is reachable. The
        request is on disk (journal, then spool) when this returns."""

    @abc.abstractmethod
    def purge_older_than(self, ts: float) -> int:
        """Retention: delete records (and their feedback) with ts < ``ts``; return records deleted."""

    @abc.abstractmethod
    def stats(self, since: float, until: float | None = None, *, top: int = 10) -> Stats:
        """Aggregate records with since <= ts < until (default now), plus feedback on them."""

    @abc.abstractmethod
    def feedback_stats(self, since: float | None = None) -> FeedbackStats:
        """Per record category: (agreeing, total) feedback given at or after ``since``."""

    @abc.abstractmethod
    def disagreements(self, since: float | None = None, *, limit: int = 100) -> list[Disagreement]:
        """Feedback that contradicts the record's category, newest feedback first."""

    # --- lifecycle --------------------------------------------------------------------
    @abc.abstractmethod
    def health(self) -> dict:
        """{"backend", "ok", "spooled", "queue_depth", ...}. Never raises."""

    @abc.abstractmethod
    def flush(self, timeout: float = 10.0) -> bool:
        """Drain the write queue and try to replay the spool now.

        True when everything accepted so far is committed to the database."""

    @abc.abstractmethod
    def close(self, timeout: float = 5.0) -> None:
        """Flush (bounded by timeout), stop the writer, release connections. Idempotent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
