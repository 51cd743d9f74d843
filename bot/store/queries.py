"""The store's SQL and the mapping between rows and records, for any `Dialect`.

Kept apart from the store's machinery (connections, writer, breaker) so the statements a
reviewer must check against the migrations are in one short file.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math

from ..vocabulary import LABELS
from .dialect import Dialect
from .records import Disagreement, Feedback, FeedbackStats, ForgetRequest, Stats, TriageRecord

log = logging.getLogger("bot.store")

COLUMNS = (
    "record_id", "ts", "platform", "workspace", "channel", "user_id", "event_id", "category",
    "confidence", "topics", "pitfalls", "signal_ids", "knowledge_version", "latency_ms", "text",
)
_RECORD_COLS = ", ".join(f"r.{c}" for c in COLUMNS)
# Feedback agrees with a triage when the person said "right" or picked the category given:
# the one definition every report uses.
AGREES = "(f.choice = 'right' OR f.choice = r.category)"
_WEEK = 7 * 86400.0


def user_hash(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()


def week_start(ts: float) -> dt.date:
    day = dt.datetime.fromtimestamp(ts, dt.timezone.utc).date()
    return day - dt.timedelta(days=day.weekday())


class Queries:
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        q = dialect.q
        t, a, f = "TEXT", dialect.array_type, dialect.float_type
        types = (t, f, t, t, t, t, t, t, f, a, a, a, t, f, t)
        select = ", ".join(f"CAST(? AS {ty})" for ty in types)
        self.insert_record = q(
            f"INSERT INTO triage_records ({', '.join(COLUMNS)}) SELECT {select} "
            "WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f "
            "WHERE f.platform = ? AND f.user_hash = ? AND f.forgotten_at >= ?) "
            "ON CONFLICT (record_id) DO NOTHING"
        )
        self.upsert_feedback = q(
            "INSERT INTO feedback (record_id, user_id, choice, ts, text) "
            f"SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS {f}), CAST(? AS TEXT) "
            "WHERE EXISTS (SELECT 1 FROM triage_records WHERE record_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM forgotten_users f JOIN triage_records r "
            "ON r.platform = f.platform WHERE r.record_id = ? AND f.user_hash = ? "
            "AND f.forgotten_at >= ?) "
            "ON CONFLICT (record_id, user_id) DO UPDATE SET choice = excluded.choice, ts = excluded.ts, "
            # a kept text stays through a change of mind between categories, not through "right"
            "text = CASE WHEN excluded.choice = 'right' THEN NULL "
            "ELSE COALESCE(excluded.text, feedback.text) END "
            "WHERE excluded.ts >= feedback.ts"
        )
        self.claim = q("INSERT INTO processed_events (platform, event_id, claimed_at) "
                       "VALUES (?, ?, ?) ON CONFLICT (platform, event_id) DO NOTHING")
        self.record_exists = q("SELECT 1 FROM triage_records WHERE record_id = ?")
        self.expire_events = q("DELETE FROM processed_events WHERE claimed_at < ?")

    # rows ------------------------------------------------------------------------------
    def record_row(self, rec: TriageRecord) -> tuple:
        s, arr = self.d.str, self.d.encode_array
        return (
            s(rec.record_id), float(rec.ts), s(rec.platform), s(rec.workspace), s(rec.channel),
            s(rec.user), s(rec.event_id), s(rec.category), float(rec.confidence),
            arr(rec.topics), arr(rec.pitfalls), arr(rec.signal_ids), s(rec.knowledge_version),
            float(rec.latency_ms), s(rec.text),
            s(rec.platform), user_hash(rec.user), float(rec.ts),  # tombstone check
        )

    def row_record(self, row) -> TriageRecord:
        arr = self.d.decode_array
        return TriageRecord(
            record_id=row[0], ts=row[1], platform=row[2], workspace=row[3], channel=row[4],
            user=row[5], event_id=row[6], category=row[7], confidence=row[8],
            topics=arr(row[9]), pitfalls=arr(row[10]), signal_ids=arr(row[11]),
            knowledge_version=row[12], latency_ms=row[13], text=row[14],
        )

    def feedback_row(self, fb: Feedback) -> tuple:
        s = self.d.str
        return (
            s(fb.record_id), s(fb.user), fb.choice, float(fb.ts), s(fb.text),
            s(fb.record_id),  # EXISTS record
            s(fb.record_id), user_hash(fb.user), float(fb.ts),  # tombstone
        )

    # statements run inside the caller's transaction ------------------------------------
    def forget(self, conn, req: ForgetRequest) -> int:
        """Tombstone first (records of the user still on their way are not written later),
        then delete."""
        q = self.d.q
        platform, user, ts = self.d.str(req.platform), self.d.str(req.user), float(req.ts)
        conn.execute(
            q("INSERT INTO forgotten_users (platform, user_hash, forgotten_at) VALUES (?, ?, ?) "
              "ON CONFLICT (platform, user_hash) DO UPDATE SET forgotten_at = "
              f"{self.d.greatest}(forgotten_users.forgotten_at, excluded.forgotten_at)"),
            (platform, user_hash(req.user), ts))
        fb = conn.execute(
            q("DELETE FROM feedback WHERE user_id = ? AND ts <= ? AND record_id IN "
              "(SELECT record_id FROM triage_records WHERE platform = ?)"),
            (user, ts, platform)).rowcount
        recs = conn.execute(q("DELETE FROM triage_records WHERE platform = ? AND user_id = ? AND ts <= ?"),
                            (platform, user, ts)).rowcount
        log.info("forget_user: deleted %d record(s) and %d feedback row(s)", recs, fb)
        return recs + fb

    def purge(self, conn, ts: float) -> int:
        n = conn.execute(self.d.q("DELETE FROM triage_records WHERE ts < ?"), (float(ts),)).rowcount
        conn.execute(self.expire_events, (float(ts),))
        return n

    # reports ---------------------------------------------------------------------------
    def stats(self, conn, since: float, until: float, top: int) -> Stats:
        q = self.d.q
        window = (since, until)
        by_cat = {c: 0 for c in LABELS}
        for cat, n in conn.execute(q("SELECT category, COUNT(*) FROM triage_records WHERE ts >= ? AND ts < ? "
                                     "GROUP BY category"), window):
            by_cat[cat] = int(n)
        topics = [(t, int(n)) for t, n in conn.execute(self.d.topic_counts_sql("topics"), (*window, top))]
        pitfalls = [(t, int(n)) for t, n in conn.execute(self.d.topic_counts_sql("pitfalls"), (*window, top))]
        weeks: dict[int, dict[str, int]] = {}
        for week, cat, n in conn.execute(q(
                f"SELECT {self.d.week_sql()} AS week, category, COUNT(*) FROM triage_records "
                "WHERE ts >= ? AND ts < ? GROUP BY 1, 2"), (until, *window)):
            weeks.setdefault(int(week), {})[cat] = int(n)
        fb_total, fb_agree = conn.execute(q(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {AGREES} THEN 1 ELSE 0 END), 0) FROM feedback f "
            "JOIN triage_records r ON r.record_id = f.record_id WHERE r.ts >= ? AND r.ts < ?"), window).fetchone()
        fb_total, fb_agree = int(fb_total), int(fb_agree)
        return Stats(
            since=since, until=until, total=sum(by_cat.values()), by_category=by_cat,
            top_topics=topics, top_pitfalls=pitfalls, weekly=fill_weeks(weeks, since, until),
            feedback_total=fb_total, feedback_agree=fb_agree,
            agreement_rate=(fb_agree / fb_total) if fb_total else None,
        )

    def feedback_stats(self, conn, since: float) -> FeedbackStats:
        per: dict[str, tuple[int, int]] = {}
        for cat, agree, total in conn.execute(self.d.q(
                f"SELECT r.category, SUM(CASE WHEN {AGREES} THEN 1 ELSE 0 END), COUNT(*) FROM feedback f "
                "JOIN triage_records r ON r.record_id = f.record_id "
                "WHERE f.ts >= ? GROUP BY r.category"), (since,)):
            per[cat] = (int(agree), int(total))
        return FeedbackStats(per_category=per)

    def disagreements(self, conn, since: float, limit: int) -> list[Disagreement]:
        rows = conn.execute(self.d.q(
            f"SELECT {_RECORD_COLS}, f.user_id, f.choice, f.ts, f.text FROM feedback f "
            "JOIN triage_records r ON r.record_id = f.record_id "
            f"WHERE f.ts >= ? AND NOT {AGREES} "
            "ORDER BY f.ts DESC, r.record_id LIMIT ?"), (since, int(limit))).fetchall()
        out = []
        for row in rows:
            rec = self.row_record(row)
            fb = Feedback(record_id=rec.record_id, user=row[15], choice=row[16], ts=row[17], text=row[18])
            out.append(Disagreement(record=rec, feedback=fb))
        return out

    def record(self, conn, record_id: str) -> TriageRecord | None:
        row = conn.execute(self.d.q(f"SELECT {_RECORD_COLS} FROM triage_records r WHERE r.record_id = ?"),
                           (record_id,)).fetchone()
        return None if row is None else self.row_record(row)


def fill_weeks(weeks: dict[int, dict[str, int]], since: float, until: float,
               max_weeks: int = 520) -> list[tuple[str, dict[str, int]]]:
    """Every 7-day bucket of the window, oldest first, zero-filled, keyed by the date its
    first day falls on (the oldest is cut at `since`). Bucket i ends i weeks before `until`,
    so a 30-day window has 5 rows and 90 days 13; an all-time window starts at the oldest
    bucket with data instead of 1970."""
    if until <= since:
        return []
    count = math.ceil((until - max(since, 0.0)) / _WEEK)
    if count > max_weeks:
        if not weeks:
            return []
        count = max(weeks) + 1
    out = []
    for i in reversed(range(count)):
        start = max(since, until - (i + 1) * _WEEK)
        counts = {c: 0 for c in LABELS}
        counts.update(weeks.get(i, {}))
        out.append((dt.datetime.fromtimestamp(start, dt.timezone.utc).date().isoformat(), counts))
    return out
