"""The console on a real terminal (a pseudo-terminal): a long paste is read whole.

A terminal in canonical mode cuts a line at 4,095 bytes, so a 5.7k paste ending in the
concern used to come back unclear; with readline the console reads the line itself."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.conftest import REPO


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def _console(tmp_path):
    master, slave = pty.openpty()
    env = {**os.environ, "TRIAGE_DATA_DIR": str(tmp_path / "data"), "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "console"], stdin=slave, stdout=slave,
                            stderr=slave, cwd=REPO, env=env, close_fds=True)
    os.close(slave)
    return proc, master


def _ask(master: int, text: str) -> bytes:
    data = text.encode() + b"\r"
    for i in range(0, len(data), 1024):  # as a terminal delivers a paste: in pieces
        os.write(master, data[i : i + 1024])
        time.sleep(0.01)
    return _read_until(master, b"Was this right?", 60)


def test_a_paste_longer_than_the_terminal_line_limit_is_read_whole(tmp_path):
    proc, master = _console(tmp_path)
    try:
        _read_until(master, b"> ", 60)  # the prompt: the console is up
        filler = "we met on tuesday to go over the quarterly planning notes and the office move. " * 70
        reply = _ask(master, filler + "then the chatbot got jailbroken and gave out the admin password")
        assert len(filler) > 5000
        assert b"technical" in reply, reply[-600:]
        long_text = "status update on the roadmap and the hiring plan for next year. " * 140
        reply = _ask(master, long_text + "the model keeps making up citations")
        assert b"I read only the first 8,000" in reply, reply[-600:]
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
