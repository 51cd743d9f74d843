"""Database outages: the reply path keeps working, writes are spooled and replayed once.

PostgreSQL is reached through a TCP proxy (store_helpers.TcpProxy) that the tests kill
and restart; SQLite "outages" are a writer lock held by someone else.
"""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.store import open_store
from store_helpers import FAST, PG_URL, TcpProxy, fb, pg_admin, rec, require_pg, spool_then_die


def wait_for(pred, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


@pytest.fixture
def proxy():
    require_pg()
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(PG_URL)
    p = TcpProxy((params.get("host", "127.0.0.1"), int(params.get("port", 5432)))).start()
    auth = quote(params.get("user", "postgres"))
    if params.get("password"):
        auth += ":" + quote(params["password"])
    p.url = f"postgresql://{auth}@127.0.0.1:{p.port}/{params.get('dbname', 'test')}"
    yield p
    p.stop()


def pg_ids(schema: str) -> list[str]:
    with pg_admin() as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        return [r[0] for r in conn.execute("SELECT record_id FROM triage_records")]


def spool_files(data_dir: Path) -> list[Path]:
    """Spools proper, not the journal (which looks like one so that it is replayed like one)."""
    return sorted(p for p in data_dir.glob("spool*/spool-*.jsonl") if not p.name.startswith("spool-journal-"))


def store_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.store" and r.levelno >= logging.WARNING]


def test_postgres_down_spools_then_replays_exactly_once(pg_schema, proxy, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.store")
    data = tmp_path / "data"
    store = open_store(proxy.url, data, schema=pg_schema, batch_size=50, **FAST)  # replay in chunks
    try:
        before = [rec() for _ in range(5)]
        for r in before:
            store.add_triage(r)
        assert store.flush(10)

        proxy.stop()  # the database host vanishes; the writer's open connection is cut
        during = [rec(text=f"SECRET message {i}", user=f"U{i % 3}") for i in range(200)]
        slowest = 0.0
        for r in during:
            t = time.perf_counter()
            store.add_triage(r)  # must not raise, must not wait for the network
            slowest = max(slowest, time.perf_counter() - t)
        assert slowest < 0.05, f"add_triage blocked for {slowest:.3f}s"

        # feedback for a spooled record and for an already committed one: both accepted
        assert store.add_feedback(fb(during[0].record_id, "F1", "societal")) is True
        assert store.add_feedback(fb(before[0].record_id, "F2", "right")) is True
        # event dedupe falls back to this process
        t = time.perf_counter()
        assert store.claim_event("slack", "EvDown") is True
        assert store.claim_event("slack", "EvDown") is False
        assert time.perf_counter() - t < 1.0

        assert store.flush(5) is False  # nothing can be committed now...
        h = store.health()
        assert h["ok"] is False and h["queue_depth"] == 0
        assert h["spooled"] == 202  # ...but everything is safely on disk
        files = spool_files(data)
        assert len(files) == 1
        assert len(files[0].read_text().splitlines()) == 202
        assert any("spool" in m for m in store_warnings(caplog)), store_warnings(caplog)
        assert "SECRET" not in caplog.text  # message text never reaches the logs

        proxy.start()  # database is back: the writer replays on its own (no flush() here)
        assert wait_for(lambda: store.health()["spooled"] == 0), store.health()
        ids = pg_ids(pg_schema)
        expected = [r.record_id for r in before + during]
        assert len(ids) == len(expected) and sorted(ids) == sorted(expected)  # exactly once
        assert files[0].stat().st_size == 0  # truncated after commit
        with pg_admin() as conn:
            conn.execute(f'SET search_path TO "{pg_schema}"')
            assert sorted(conn.execute("SELECT user_id, choice FROM feedback").fetchall()) == [
                ("F1", "societal"), ("F2", "right")]
            assert conn.execute("SELECT text FROM triage_records WHERE record_id = %s",
                                (during[7].record_id,)).fetchone() == ("SECRET message 7",)
        assert any("replayed 202" in r.getMessage() for r in caplog.records)
        assert store.health()["ok"] is True
        assert store.claim_event("slack", "EvUp") is True
    finally:
        store.close()


def test_postgres_spool_of_killed_process_is_adopted(pg_schema, proxy, tmp_path):
    data = tmp_path / "data"
    open_store(proxy.url, data, schema=pg_schema).close()  # migrate while reachable
    proxy.stop()
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    child = ctx.Process(target=spool_then_die, args=(proxy.url, str(data), pg_schema, 40, ready))
    child.start()
    try:
        ids, spooled = ready.get(timeout=30)
        assert spooled == 40
    finally:
        child.kill()  # SIGKILL: no close(), no atexit, no chance to replay
        child.join(10)
    assert len(spool_files(data)) == 1

    proxy.start()
    survivor = open_store(proxy.url, data, schema=pg_schema, **FAST)
    try:
        assert wait_for(lambda: len(pg_ids(pg_schema)) == 40)
        assert sorted(pg_ids(pg_schema)) == sorted(ids)
        assert wait_for(lambda: spool_files(data) == [])
    finally:
        survivor.close()


def test_postgres_unreachable_at_startup(pg_schema, proxy, tmp_path, caplog):
    proxy.stop()
    data = tmp_path / "data"
    t = time.perf_counter()
    store = open_store(proxy.url, data, schema=pg_schema, **FAST)  # must not refuse to start
    try:
        assert time.perf_counter() - t < 5
        assert any("cannot reach PostgreSQL" in m for m in store_warnings(caplog))
        records = [rec() for _ in range(10)]
        for r in records:
            store.add_triage(r)
        assert store.claim_event("slack", "E1") is True
        assert store.flush(5) is False
        assert store.health()["spooled"] == 10
        proxy.start()  # first successful connection runs the migrations, then the replay
        assert wait_for(lambda: store.health()["spooled"] == 0)
        assert sorted(pg_ids(pg_schema)) == sorted(r.record_id for r in records)
    finally:
        store.close()


def test_postgres_schema_from_url_options(pg_schema, tmp_path):
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{pg_schema}"
    store = open_store(url, tmp_path / "data")
    try:
        r = rec()
        store.add_triage(r)
        assert store.flush(10)
        assert pg_ids(pg_schema) == [r.record_id]
    finally:
        store.close()


def test_sqlite_locked_database_spools_then_replays(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.store")
    data = tmp_path / "data"
    store = open_store(None, data, busy_timeout=0.1, **FAST)
    try:
        blocker = sqlite3.connect(data / "triage.sqlite3", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process hogs the write lock
        records = [rec(text=f"SECRET {i}") for i in range(50)]
        slowest = 0.0
        for r in records:
            t = time.perf_counter()
            store.add_triage(r)
            slowest = max(slowest, time.perf_counter() - t)
        assert slowest < 0.05
        assert store.flush(3) is False
        assert store.health()["spooled"] == 50
        assert any("spool" in m for m in store_warnings(caplog))
        assert "SECRET" not in caplog.text
        time.sleep(0.6)  # several background retries fail while the lock is held
        assert store.health()["spooled"] == 50
        blocker.execute("COMMIT")
        blocker.close()
        assert wait_for(lambda: store.health()["spooled"] == 0)
        conn = sqlite3.connect(data / "triage.sqlite3")
        ids = [row[0] for row in conn.execute("SELECT record_id FROM triage_records")]
        conn.close()
        assert sorted(ids) == sorted(r.record_id for r in records)
    finally:
        store.close()


def test_replay_is_idempotent(target):
    """A crash between commit and truncate leaves already-committed lines in a spool file;
    replaying them (plus a torn last line) must not duplicate anything."""
    first = target.open()
    committed = [rec() for _ in range(5)]
    for r in committed:
        first.add_triage(r)
    assert first.flush(10)
    spool_dir = Path(first.health()["spool_dir"])
    first.close()

    fresh = [rec() for _ in range(3)]
    lines = [{"v": 1, "kind": "triage", "data": r.to_dict()} for r in committed + fresh + committed]
    lines.append({"v": 1, "kind": "feedback", "data": fb(fresh[0].record_id, "U7", "both").to_dict()})
    spool_dir.mkdir(parents=True, exist_ok=True)
    orphan = spool_dir / "spool-99999-deadbeef.jsonl"
    orphan.write_text("".join(json.dumps(l) + "\n" for l in lines) + '{"v": 1, "kind": "tri')

    second = target.open()
    assert second.flush(10)
    ids = target.record_ids()
    assert sorted(ids) == sorted(r.record_id for r in committed + fresh)
    assert target.query("SELECT user_id, choice FROM feedback") == [("U7", "both")]
    assert not orphan.exists()


def test_operator_commands_during_a_postgres_outage_say_so_and_forget_me_is_carried_out_later(pg_schema, proxy, tmp_path, mini_dir):
    from bot.config import Config, Roles
    from bot.messages import DM, Incoming
    from bot.reload import KnowledgeHolder
    from bot.service import Service

    def say(text, user="U1"):
        (out,) = service.handle(Incoming("slack", "T1", "C1", user, text, DM))
        return out

    store = open_store(proxy.url, tmp_path / "data", schema=pg_schema, **FAST)
    service = Service(KnowledgeHolder(mini_dir), store, Config(roles=Roles(moderators={"slack": frozenset({"UMOD"})})))
    try:
        kept = say("who decides?", user="U2")
        say("the chatbot made up a citation")
        assert store.flush(10)
        proxy.stop()
        during = say("who decides about surveillance?")  # triage goes on; the record is spooled
        for text, user in (("stats 7d", "U1"), ("feedback export", "UMOD")):
            out = say(text, user)
            assert out.kind == "notice" and "store is unavailable" in out.text and "try again" in out.text
        forget = say("forget me")
        assert forget.kind == "forget" and "unavailable" in forget.text and "as soon as the store is back" in forget.text
        assert say("who decides?", user="U2").kind == "triage"  # still serving
        proxy.start()
        assert wait_for(lambda: store.flush(1))
        ids = pg_ids(pg_schema)
        assert kept.record_id in ids and during.record_id not in ids
        assert len(ids) == 2  # both of U2's; none of U1's
    finally:
        service.close()


def test_retry_during_an_outage_is_claimed_once_by_the_workers_of_one_host(pg_schema, proxy, tmp_path):
    """Two workers (two stores, as in two processes) on one data dir; PostgreSQL is down."""
    data = tmp_path / "data"
    a = open_store(proxy.url, data, schema=pg_schema, **FAST)
    b = open_store(proxy.url, data, schema=pg_schema, **FAST)
    try:
        assert a.claim_event("slack", "EvBefore") is True
        proxy.stop()
        results = [s.claim_event("slack", f"Ev{n}") for n in range(20) for s in (a, b)]
        assert results == [True, False] * 20  # each event: one worker answers, the other doesn't
        assert a.claim_event("slack", "EvBefore") is False  # claimed in the database before: remembered
        proxy.start()
        wait_for(lambda: a.health()["ok"])
        time.sleep(FAST["breaker_seconds"])
        c = open_store(proxy.url, data, schema=pg_schema, **FAST)  # a worker started after the outage
        try:
            assert c.claim_event("slack", "Ev3") is False  # answered during the outage on this host
            assert c.claim_event("slack", "EvNew") is True
            assert a.claim_event("slack", "EvNew") is False
        finally:
            c.close()
    finally:
        a.close()
        b.close()
