"""kill -9 right after answering: every triage that got an answer is in the database
once the next process on the same store has started (the journal is replayed).

While the child runs, the test holds a write lock on the records table, so the child's
writer thread is certainly behind its replies when it dies: the crash window, every time.
"""
from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys

import pytest

from bot.store import open_store
from store_helpers import FAST, PG_URL

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]

# The child answers as fast as it can, prints each record id once its reply exists, and
# kills itself the moment the last one is printed: the writer thread is still behind.
CHILD = r"""
import os, signal, sys
from bot.config import Config
from bot.messages import DM, Incoming
from bot.reload import KnowledgeHolder
from bot.service import Service
from bot.store import open_store

knowledge, data, url, schema, n = sys.argv[1:6]
store = open_store(url or None, data, **({"schema": schema} if schema else {}))
service = Service(KnowledgeHolder(knowledge), store, Config(rate_per_minute=0))
print("open", flush=True)
sys.stdin.readline()  # the test now blocks the database's writes
for i in range(int(n)):
    (out,) = service.handle(Incoming("slack", "T1", "C1", f"U{i % 7}", "the chatbot made up a citation", DM))
    sys.stdout.write(out.record_id + "\n")
    sys.stdout.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def _answered_then_killed(backend, mini_dir, data_dir, url="", schema="", n=400) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(mini_dir), str(data_dir), url, schema, str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert proc.stdout.readline() == "open\n", proc.stderr.read()
    with _writes_blocked(backend, data_dir, schema):
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == -9, err
    ids = out.split()
    assert len(ids) == n
    return ids


@contextlib.contextmanager
def _writes_blocked(backend: str, data_dir, schema: str):
    if backend == "sqlite":
        conn = sqlite3.connect(data_dir / "triage.sqlite3", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        from store_helpers import pg_admin

        conn = pg_admin()
        conn.execute("BEGIN")
        conn.execute(f'LOCK TABLE "{schema}".triage_records IN EXCLUSIVE MODE')
    try:
        yield
    finally:
        conn.rollback() if backend == "postgres" else conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_answered_triages_survive_kill_9(backend, mini_dir, tmp_path, request):
    url, schema = "", ""
    if backend == "postgres":
        url, schema = PG_URL, request.getfixturevalue("pg_schema")
    answered = _answered_then_killed(backend, mini_dir, tmp_path / "data", url, schema)
    store = open_store(url or None, tmp_path / "data", **({"schema": schema} if schema else {}), **FAST)
    try:
        assert store.flush(20)  # start-up replays what the killed process journaled
        missing = [i for i in answered if store.get_record(i) is None]
        assert not missing, f"{len(missing)} of {len(answered)} answered triages lost"
    finally:
        store.close()
