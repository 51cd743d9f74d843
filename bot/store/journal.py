"""The write-ahead journal: an answered triage is on disk before its reply goes out.

The writer thread commits in batches, after the reply; without this, a kill -9 lost
every record still in its queue. Each queued item is appended here first (one line,
fdatasync'd, concurrent callers sharing one sync: group commit) and released once the
database or the spool holds it.

Segments are spool-format files named like spools (``spool-journal-…``) and held under
``flock`` while this process lives. So a journal left by a killed process is an orphan
spool, and the next store on the same database replays it at start-up with the spool
machinery: idempotent, since records are keyed by id and feedback keeps the latest.
"""
from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from .spool import PREFIX, SUFFIX, _lock

SEGMENT_BYTES = 1 << 20  # a new file after this; a fully released old one is deleted


class _Segment:
    __slots__ = ("fd", "path", "live", "size")

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path, self.live, self.size = fd, path, 0, 0


class Journal:
    def __init__(self, directory: Path, *, sync: bool = True, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.sync = sync
        self.segment_bytes = segment_bytes
        self._token = f"{os.getpid()}-{secrets.token_hex(6)}"
        self._lock = threading.Lock()  # segments and counters
        self._sync_lock = threading.Lock()  # one fdatasync at a time; taken before _lock
        self._segments: dict[int, _Segment] = {}
        self._current = -1
        self._written = 0  # lines written
        self._synced = 0  # lines known to be on disk

    def _open(self, number: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{PREFIX}journal-{self._token}-{number:06d}{SUFFIX}"
        tmp = self.directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            _lock(fd, blocking=True)  # locked before it is visible: never adopted while we live
            os.rename(tmp, self.directory / name)
        except BaseException:
            os.close(fd)
            raise
        self._segments[number] = _Segment(fd, self.directory / name)
        self._current = number

    def append(self, item: dict) -> int:
        """Write one item and wait until it is on disk; returns its segment for release().
        Raises OSError (disk full, read-only): the caller decides what that means."""
        line = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._current < 0:
                self._open(0)
            number, segment = self._current, self._segments[self._current]
            view = memoryview(line)
            while view:
                view = view[os.write(segment.fd, view):]
            segment.live += 1
            segment.size += len(line)
            self._written += 1
            ticket = self._written
        if self.sync:
            self._sync(ticket)
        if segment.size > self.segment_bytes:
            self._rotate(number)
        return number

    def _sync(self, ticket: int) -> None:
        with self._sync_lock:
            if self._synced >= ticket:
                return  # another caller's fdatasync covered this line
            with self._lock:
                fd, upto = self._segments[self._current].fd, self._written
            os.fdatasync(fd)
            self._synced = upto

    def _rotate(self, number: int) -> None:
        with self._sync_lock, self._lock:
            if self._current != number:
                return
            if self.sync:
                os.fdatasync(self._segments[number].fd)
                self._synced = self._written
            self._open(number + 1)
            self._drop_if_done(number)

    def release(self, numbers) -> None:
        """These items are now in the database or the spool."""
        with self._lock:
            for number in numbers:
                if number is None:
                    continue
                self._segments[number].live -= 1
                self._drop_if_done(number)

    def _drop_if_done(self, number: int) -> None:
        segment = self._segments.get(number)
        if segment is None or segment.live or number == self._current:
            return
        del self._segments[number]
        try:
            os.unlink(segment.path)
        finally:
            os.close(segment.fd)

    @property
    def live(self) -> int:
        with self._lock:
            return sum(s.live for s in self._segments.values())

    def close(self) -> None:
        """Delete what is fully released; leave the rest, unlocked, for the next store."""
        with self._lock:
            self._current = -1
            for number in list(self._segments):
                self._drop_if_done(number)
            for segment in self._segments.values():
                os.close(segment.fd)
            self._segments.clear()
