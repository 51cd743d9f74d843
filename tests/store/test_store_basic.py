"""Behaviour of both backends against real databases."""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest

from bot.store import Feedback, StoreError, default_data_dir, open_store
from bot.vocabulary import FEEDBACK_CHOICES
from bot.store import migrate
from store_helpers import fb, rec


def utc(y, m, d, h=12) -> float:
    return dt.datetime(y, m, d, h, tzinfo=dt.timezone.utc).timestamp()


# --- round trip -------------------------------------------------------------------------

def test_round_trip_all_fields(store, target):
    full = rec(event_id="Ev1", topics=("alignment", "evals"), pitfalls=("p1",),
               signal_ids=("s.a", "s.b"), text="Is RLHF enough? — naïve question 🤖")
    bare = rec(topics=(), pitfalls=(), signal_ids=(), text=None, event_id=None)
    store.add_triage(full)
    store.add_triage(bare)
    assert store.flush(10)
    assert store.get_record(full.record_id) == full
    assert store.get_record(bare.record_id) == bare
    assert sorted(target.record_ids()) == sorted([full.record_id, bare.record_id])


def test_add_is_idempotent_on_record_id(store, target):
    r = rec()
    for _ in range(3):
        store.add_triage(r)
    assert store.flush(10)
    store.add_triage(r)
    assert store.flush(10)
    assert target.record_ids() == [r.record_id]


def test_nul_in_text_does_not_wedge_the_writer(store, target):
    # PostgreSQL text cannot hold NUL; the record must still be stored, not retried forever.
    r = rec(text="a\x00b", user="U\x00X")
    store.add_triage(r)
    assert store.flush(10)
    assert target.record_ids() == [r.record_id]
    assert store.health()["spooled"] == 0


def test_add_triage_never_raises_on_garbage(store):
    store.add_triage("not a record")  # type: ignore[arg-type]
    assert store.flush(5)


# --- stats --------------------------------------------------------------------------------

def test_stats_window_topics_and_weekly_trend(store):
    # Records in the buckets starting 2024-01-01, 01-04, 01-18 (01-11 and 01-25 stay empty)
    rows = [
        rec(ts=utc(2024, 1, 1, 0), category="technical", topics=("alignment", "evals"), pitfalls=("hype",)),
        rec(ts=utc(2024, 1, 3), category="technical", topics=("alignment",)),
        rec(ts=utc(2024, 1, 7, 23), category="societal", topics=("labour",), pitfalls=("hype", "doom")),
        rec(ts=utc(2024, 1, 8), category="both", topics=("alignment", "labour")),
        rec(ts=utc(2024, 1, 23), category="unclear", topics=()),
        rec(ts=utc(2023, 12, 31), category="technical", topics=("old",)),  # before window
        rec(ts=utc(2024, 2, 1), category="technical", topics=("late",)),  # at/after until
    ]
    for r in rows:
        store.add_triage(r)
    assert store.flush(10)

    s = store.stats(since=utc(2024, 1, 1, 0), until=utc(2024, 2, 1))
    assert s.total == 5
    assert s.by_category == {"technical": 2, "societal": 1, "both": 1, "unclear": 1}
    assert s.top_topics == [("alignment", 3), ("labour", 2), ("evals", 1)]
    assert s.top_pitfalls == [("hype", 2), ("doom", 1)]
    # 7-day buckets ending at `until` (Feb 1 12:00), the oldest cut at `since`: 31.5 days, 5 rows
    assert [w for w, _ in s.weekly] == ["2024-01-01", "2024-01-04", "2024-01-11", "2024-01-18", "2024-01-25"]
    weekly = dict(s.weekly)
    assert weekly["2024-01-01"] == {"technical": 2, "societal": 0, "both": 0, "unclear": 0}
    assert weekly["2024-01-04"] == {"technical": 0, "societal": 1, "both": 1, "unclear": 0}
    assert weekly["2024-01-11"] == {"technical": 0, "societal": 0, "both": 0, "unclear": 0}
    assert weekly["2024-01-18"]["unclear"] == 1
    assert s.feedback_total == 0 and s.agreement_rate is None

    # top= limits; since is inclusive, until exclusive
    assert store.stats(since=utc(2024, 1, 1, 0), until=utc(2024, 2, 1), top=1).top_topics == [("alignment", 3)]
    assert store.stats(since=utc(2024, 2, 1), until=utc(2024, 2, 1, 13)).total == 1
    assert store.stats(since=utc(2024, 2, 2)).total == 0
    # all-time window: weekly starts at the first week with data, not 1970
    all_time = store.stats(since=0)
    assert all_time.total == 7
    first, counts = all_time.weekly[0]
    assert "2023-12-24" <= first <= "2023-12-31" and counts["technical"] >= 1  # holds the oldest record


# --- feedback -----------------------------------------------------------------------------

def test_feedback_agreement_latest_wins_and_disagreements(store):
    t0 = utc(2024, 3, 4)
    tech = rec(ts=t0, category="technical")
    soc = rec(ts=t0 + 1, category="societal")
    both = rec(ts=t0 + 2, category="both")
    for r in (tech, soc, both):
        store.add_triage(r)
    assert store.flush(10)

    assert store.add_feedback(fb(tech.record_id, "A", "right", t0 + 10))
    assert store.add_feedback(fb(tech.record_id, "B", "technical", t0 + 11))  # names same category: agrees
    assert store.add_feedback(fb(soc.record_id, "A", "technical", t0 + 12))  # disagrees
    assert store.add_feedback(fb(both.record_id, "A", "not-governance", t0 + 13))
    # latest per (record, user) wins: A changes their mind on `both`...
    assert store.add_feedback(fb(both.record_id, "A", "right", t0 + 20))
    # ...and a stale answer arriving late does not override it
    assert store.add_feedback(fb(both.record_id, "A", "societal", t0 + 15))

    assert store.add_feedback(fb(uuid.uuid4().hex, "A", "right")) is False
    with pytest.raises(ValueError):
        store.add_feedback(fb(tech.record_id, "A", "maybe"))

    s = store.stats(since=t0, until=t0 + 100)
    assert (s.feedback_total, s.feedback_agree) == (4, 3)
    assert s.agreement_rate == pytest.approx(0.75)

    fs = store.feedback_stats()
    assert fs.per_category == {"technical": (2, 2), "societal": (0, 1), "both": (1, 1)}
    assert store.feedback_stats(since=t0 + 12).per_category == {"societal": (0, 1), "both": (1, 1)}

    dis = store.disagreements()
    assert [(d.record.record_id, d.feedback.user, d.feedback.choice) for d in dis] == [
        (soc.record_id, "A", "technical")]
    assert dis[0].record == soc
    assert store.disagreements(since=t0 + 13) == []


def test_feedback_for_record_still_in_queue(store, target):
    r = rec()
    store.add_triage(r)
    # No flush: the record may not be committed yet; the feedback must not be lost.
    assert store.add_feedback(fb(r.record_id, "U9", "societal"))
    assert store.flush(10)
    assert target.query("SELECT user_id, choice FROM feedback") == [("U9", "societal")]


def test_feedback_choices_constant():
    assert FEEDBACK_CHOICES == ("right", "technical", "societal", "both", "not-governance")


# --- privacy & retention -------------------------------------------------------------------

def test_forget_user(store, target):
    mine1, mine2 = rec(user="U1"), rec(user="U1", category="societal")
    theirs = rec(user="U2")
    other_platform = rec(user="U1", platform="discord")
    for r in (mine1, mine2, theirs, other_platform):
        store.add_triage(r)
    assert store.flush(10)
    store.add_feedback(fb(theirs.record_id, "U1", "both"))  # U1's feedback on U2's record
    store.add_feedback(fb(mine1.record_id, "U2", "right"))  # U2's feedback on U1's record

    assert store.forget_user("slack", "U1") == 3  # two records + one feedback row
    assert sorted(target.record_ids()) == sorted([theirs.record_id, other_platform.record_id])
    assert target.query("SELECT COUNT(*) FROM feedback") == [(0,)]
    assert store.forget_user("slack", "U1") == 0

    # A record of theirs from before the request that was still queued/spooled somewhere
    # must not reappear; a new one after the request is stored normally.
    late_old = rec(user="U1", ts=time.time() - 60)
    fresh = rec(user="U1", ts=time.time() + 1)
    store.add_triage(late_old)
    store.add_triage(fresh)
    assert store.flush(10)
    ids = target.record_ids()
    assert late_old.record_id not in ids and fresh.record_id in ids
    # only a hash of the user id is kept
    assert all("U1" not in str(row) for row in target.query("SELECT * FROM forgotten_users"))


def test_purge_older_than(store, target):
    old = [rec(ts=1000.0 + i) for i in range(3)]
    new = rec(ts=5000.0)
    for r in (*old, new):
        store.add_triage(r)
    assert store.flush(10)
    store.add_feedback(fb(old[0].record_id))
    store.add_feedback(fb(new.record_id))
    assert store.purge_older_than(5000.0) == 3
    assert target.record_ids() == [new.record_id]
    assert target.query("SELECT record_id FROM feedback") == [(new.record_id,)]
    assert store.purge_older_than(5000.0) == 0


# --- event dedupe ---------------------------------------------------------------------------

def test_claim_event_across_two_instances(target):
    a, b = target.open(), target.open()
    assert a.claim_event("slack", "Ev1") is True
    assert b.claim_event("slack", "Ev1") is False
    assert a.claim_event("slack", "Ev1") is False
    assert b.claim_event("discord", "Ev1") is True  # namespaced by platform
    assert b.claim_event("slack", "") is True  # no id: nothing to dedupe


def test_claim_event_threads_race(target):
    stores = [target.open(), target.open()]
    wins = []
    barrier = threading.Barrier(8)

    def claim(i):
        barrier.wait()
        for n in range(20):
            if stores[i % 2].claim_event("slack", f"E{n}"):
                wins.append(n)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == list(range(20))


# --- migrations & opening ---------------------------------------------------------------------

def test_migrations_idempotent(target):
    n = len(migrate.load("sqlite" if target.backend == "sqlite" else "postgres"))
    target.open().close()
    target.open().close()
    rows = target.query("SELECT version FROM schema_version ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, n + 1))


def test_migrations_concurrent_open(target):
    errors, stores = [], []
    barrier = threading.Barrier(6)

    def opener():
        try:
            barrier.wait()
            stores.append(target.open())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(stores) == 6
    assert target.query("SELECT COUNT(*) FROM schema_version") == [(len(migrate.load(
        "sqlite" if target.backend == "sqlite" else "postgres")),)]


def test_migration_files_are_consistent():
    sqlite_m, pg_m = migrate.load("sqlite"), migrate.load("postgres")
    assert [m.version for m in sqlite_m] == [m.version for m in pg_m]
    assert [m.name for m in sqlite_m] == [m.name for m in pg_m]


def test_each_database_gets_its_own_spelling_of_the_shared_scripts(target):
    target.open().close()
    if target.backend == "sqlite":
        types = {row[1]: row[2] for row in target.query("PRAGMA table_info(triage_records)")}
        assert (types["ts"], types["topics"]) == ("REAL", "TEXT")
    else:
        types = dict(target.query("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_schema = ? AND table_name = 'triage_records'", (target.schema,)))
        assert (types["ts"], types["topics"]) == ("double precision", "ARRAY")


def test_a_database_from_before_the_last_migration_is_brought_up_to_date(target):
    """What an existing database meets when newer code opens it: the versions it has are
    kept (they are recorded by number and name only), the missing one runs."""
    first = target.open()
    first.add_triage(kept := rec())
    assert first.flush(10)
    first.close()
    target.execute("ALTER TABLE feedback DROP COLUMN text")
    target.execute("DELETE FROM schema_version WHERE version = 2")
    store = target.open()
    assert store.add_feedback(Feedback(kept.record_id, "U2", "societal", time.time(), text="kept for the moderators"))
    assert target.query("SELECT version, name FROM schema_version ORDER BY version") == [(1, "init"), (2, "feedback_text")]
    assert target.query("SELECT text FROM feedback") == [("kept for the moderators",)]
    assert target.record_ids() == [kept.record_id]


def test_health(store):
    h = store.health()
    assert h["ok"] is True
    assert h["backend"] in ("sqlite", "postgresql")
    assert h["spooled"] == 0 and h["queue_depth"] == 0


def test_close_is_idempotent_and_drains(target):
    s = target.open()
    ids = [rec() for _ in range(50)]
    for r in ids:
        s.add_triage(r)
    s.close()
    s.close()
    assert len(target.record_ids()) == 50


def test_open_store_dispatch_and_errors(tmp_path, monkeypatch):
    s = open_store(None, tmp_path / "d")
    try:
        assert s.backend == "sqlite"
        assert (tmp_path / "d" / "triage.sqlite3").exists()
    finally:
        s.close()
    with pytest.raises(StoreError, match="unsupported database URL"):
        open_store("mysql://x/y", tmp_path / "d")


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "explicit"))
    assert default_data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("TRIAGE_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "triage-bot"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "triage-bot"


def test_unusable_data_dir_is_a_clear_startup_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=r"data directory .*not usable.*TRIAGE_DATA_DIR"):
        open_store(None, blocker / "data")


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_data_dir_is_a_clear_startup_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="TRIAGE_DATA_DIR"):
            open_store(None, ro)
    finally:
        ro.chmod(0o700)


def test_bad_record_is_set_aside_without_blocking_others(store, target, caplog):
    good = [rec() for _ in range(10)]
    bad = rec(ts="yesterday")  # type: ignore[arg-type]  # a caller bug
    for r in good[:5] + [bad] + good[5:]:
        store.add_triage(r)
    assert store.flush(10)
    assert sorted(target.record_ids()) == sorted(r.record_id for r in good)
    assert store.health()["spooled"] == 0
    rejected = target.data_dir.glob("spool*/rejected.jsonl")
    lines = [l for f in rejected for l in f.read_text().splitlines()]
    assert len(lines) == 1 and bad.record_id in lines[0]


def test_close_waits_for_a_call_in_another_thread(tmp_path):
    """close() must not pull a connection out from under a running query (it used to crash
    the process when the service's retention purge overlapped shutdown)."""
    import threading

    from bot.store import open_store

    for attempt in range(5):
        store = open_store(None, tmp_path / str(attempt))
        for _ in range(3000):
            store.add_triage(rec())
        store.flush()
        started, results = threading.Event(), []

        def query_repeatedly():
            started.set()
            while True:
                try:
                    results.append(store.stats(0).total)
                except Exception as exc:  # StoreError once closed: expected, and not a crash
                    results.append(type(exc).__name__)
                    return

        worker = threading.Thread(target=query_repeatedly)
        worker.start()
        started.wait()
        store.close()
        worker.join(10)
        assert not worker.is_alive()
        assert set(results) <= {3000, "StoreError"} and results[-1] == "StoreError"


@pytest.mark.parametrize("days, rows", [(7, (1,)), (30, (5,)), (90, (13,))])
def test_weekly_rows_match_the_window(store, days, rows):
    """Issue 10: a 30-day window showed 6 weekly rows and 90 days 14, mostly zeros."""
    until = utc(2024, 3, 6, 15)  # a Wednesday afternoon: calendar weeks would add a partial row
    store.add_triage(rec(ts=until - 3600))
    store.add_triage(rec(ts=until - days * 86400 + 60))  # the window's first minute
    assert store.flush(10)
    weekly = store.stats(since=until - days * 86400, until=until).weekly
    assert len(weekly) in rows
    assert sum(sum(c.values()) for _, c in weekly) == 2 and sum(weekly[0][1].values()) >= 1
