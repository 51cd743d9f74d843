"""Helpers for the store tests: record factory, a killable TCP proxy, a multiprocess worker.

Importable by spawned child processes (multiprocessing passes sys.path along).
"""
from __future__ import annotations

import os
import select
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from bot.store import Feedback, TriageRecord, open_store

PG_URL = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

_pg_state: dict[str, object] = {}


def _pg_reachable() -> str | None:
    """None if reachable, else the reason."""
    if "reason" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["reason"] = None
        except Exception as exc:  # ImportError included
            _pg_state["reason"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["reason"]  # type: ignore[return-value]


def require_pg() -> None:
    reason = _pg_reachable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL at {PG_URL} unreachable in CI: {reason}")
    pytest.skip(f"PostgreSQL at {PG_URL} unreachable: {reason}")


def pg_admin():
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True)


# Fast retry settings so outage tests finish quickly.
FAST = {"retry_initial": 0.05, "retry_max": 0.3, "breaker_seconds": 0.3}


def rec(**kw) -> TriageRecord:
    d = dict(
        record_id=uuid.uuid4().hex, ts=time.time(), platform="slack", workspace="W1",
        channel="C1", user="U1", event_id=None, category="technical", confidence=0.75,
        topics=("alignment",), pitfalls=(), signal_ids=("tech.alignment",),
        knowledge_version="k1", latency_ms=1.5, text=None,
    )
    d.update(kw)
    return TriageRecord(**d)


def fb(record_id: str, user: str = "U2", choice: str = "right", ts: float | None = None) -> Feedback:
    return Feedback(record_id=record_id, user=user, choice=choice, ts=time.time() if ts is None else ts)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. stop() closes the listener and cuts every
    live connection (as if the database host vanished); start() listens again on the
    same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "TcpProxy":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.port = ls.getsockname()[1]
        self._listener = ls
        self._stop = threading.Event()
        t = threading.Thread(target=self._accept_loop, args=(ls, self._stop), daemon=True)
        t.start()
        self._threads = [t]
        return self

    def _accept_loop(self, ls: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            r, _, _ = select.select([ls], [], [], 0.05)
            if not r or stop.is_set():
                continue
            try:
                client, _ = ls.accept()
            except OSError:
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(2)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def write_worker(url, data_dir, schema, worker_id, n, event_ids, barrier, results) -> None:
    """Child process: open the store, wait for the others, write n records, claim events."""
    opts = {"schema": schema} if schema else {}
    store = open_store(url, Path(data_dir), **opts)
    try:
        barrier.wait(60)
        claimed = 0
        for i in range(n):
            store.add_triage(rec(user=f"U{worker_id}", record_id=f"{worker_id:02d}-{i:06d}-{uuid.uuid4().hex[:8]}"))
            if i < len(event_ids) and store.claim_event("slack", event_ids[i]):
                claimed += 1
        ok = store.flush(60)
        results.put((worker_id, claimed, ok, store.health()["spooled"]))
    finally:
        store.close()


def spool_then_die(url, data_dir, schema, n, ready) -> None:
    """Child process: write n records while the database is unreachable, report, then
    wait to be SIGKILLed (no close(), no atexit) by the parent."""
    store = open_store(url, Path(data_dir), schema=schema, **FAST)
    ids = []
    for i in range(n):
        r = rec(text=f"private words {i}")
        ids.append(r.record_id)
        store.add_triage(r)
    store.flush(5)
    ready.put((ids, store.health()["spooled"]))
    time.sleep(600)
