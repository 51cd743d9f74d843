"""Several processes on one database: nothing lost, each event claimed once, migrations safe."""
from __future__ import annotations

import multiprocessing as mp

from bot.store import migrate
from store_helpers import write_worker

PROCS = 8
PER_PROC = 250
EVENTS = 60


def test_eight_processes_write_concurrently(target):
    # The schema/database is fresh: the 8 openers also race to run the migrations.
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCS)
    results = ctx.Queue()
    event_ids = [f"Ev{i}" for i in range(EVENTS)]
    procs = [
        ctx.Process(target=write_worker, args=(target.url, str(target.data_dir), target.schema,
                                                w, PER_PROC, event_ids, barrier, results))
        for w in range(PROCS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(90)
    assert [p.exitcode for p in procs] == [0] * PROCS

    out = [results.get(timeout=5) for _ in range(PROCS)]
    assert all(ok for _, _, ok, _ in out), out  # every worker's flush committed everything
    assert sum(claimed for _, claimed, _, _ in out) == EVENTS  # each event claimed exactly once

    ids = target.record_ids()
    assert len(ids) == PROCS * PER_PROC
    assert len(set(ids)) == len(ids)
    per_worker = {}
    for i in ids:
        per_worker[i[:2]] = per_worker.get(i[:2], 0) + 1
    assert per_worker == {f"{w:02d}": PER_PROC for w in range(PROCS)}
    dialect = "sqlite" if target.backend == "sqlite" else "postgres"
    assert target.query("SELECT COUNT(*) FROM schema_version") == [(len(migrate.load(dialect)),)]
    assert target.query("SELECT COUNT(*) FROM processed_events") == [(EVENTS,)]
