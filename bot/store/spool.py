"""Local JSON Lines spool for writes the database could not take.

Each store instance owns one spool file, created on first use and held under an
exclusive ``flock`` for the life of the process. Files whose lock is free belong to a
process that exited (or crashed) before it could replay them: any store pointed at the
same database adopts and replays them ("orphans"). Lines are fsync'd before append()
returns, so an accepted record survives a crash of the bot process.

Only the store's writer thread touches a Spool, so it needs no locking of its own.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Iterator

try:  # POSIX; without it orphans are not adopted (the own spool still is replayed)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("bot.store")

PREFIX = "spool-"
SUFFIX = ".jsonl"


def _lock(fd: int, blocking: bool) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


def _read_all(fd: int, path: Path) -> list[dict]:
    """Every item in the (locked) file behind fd, read from its start."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return _parse(path, b"".join(chunks))


def _parse(path: Path, data: bytes) -> list[dict]:
    items: list[dict] = []
    bad = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if isinstance(obj, dict) and "kind" in obj and "data" in obj:
                items.append(obj)
                continue
        except ValueError:
            pass
        bad += 1  # e.g. a torn last line after a crash mid-write
    if bad:
        log.warning("spool %s: skipped %d unreadable line(s)", path, bad)
    return items


class OrphanSpool:
    """A spool file left by another (dead) store, locked by us while we replay it."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd = fd

    def read(self) -> list[dict]:
        return _read_all(self._fd, self.path)

    def remove(self) -> None:
        """Call only after the contents are committed."""
        try:
            os.ftruncate(self._fd, 0)
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            self.release()

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the flock
            self._fd = -1


class Spool:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path: Path | None = None
        self._fd = -1
        self.count = 0  # items currently in our own file

    # -- own file ---------------------------------------------------------------------
    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = f"{os.getpid()}-{secrets.token_hex(6)}"
        tmp = self.directory / f".{PREFIX}{token}.tmp"
        final = self.directory / f"{PREFIX}{token}{SUFFIX}"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            _lock(fd, blocking=True)  # lock before the file is visible to orphan scans
            os.rename(tmp, final)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self.path = fd, final

    def append(self, items: list[dict]) -> None:
        """Write and fsync. Raises OSError (disk full, read-only...) - the caller decides."""
        if not items:
            return
        if self._fd < 0:
            self._open()
        payload = b"".join(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            for item in items
        )
        view = memoryview(payload)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)
        self.count += len(items)

    def read(self) -> list[dict]:
        if self._fd < 0 or self.count == 0:
            return []
        return _read_all(self._fd, self.path)

    def clear(self) -> None:
        """Call only after everything read() returned is committed."""
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
        self.count = 0

    def close(self) -> None:
        """Remove our file if empty; otherwise leave it (unlocked) for another store to adopt."""
        if self._fd < 0:
            return
        try:
            if self.count == 0 and self.path is not None:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
            else:
                log.warning(
                    "closing with %d item(s) still spooled in %s; they will be replayed "
                    "by the next store that opens this database", self.count, self.path)
        finally:
            os.close(self._fd)
            self._fd = -1

    # -- files of other (dead) stores -------------------------------------------------
    def orphans(self) -> Iterator[OrphanSpool]:
        """Yield spool files no live store holds, each locked until remove()/release()."""
        if fcntl is None or not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob(f"{PREFIX}*{SUFFIX}")):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot open spool %s: %s", path, exc)
                continue
            if not _lock(fd, blocking=False) or os.fstat(fd).st_nlink == 0:
                os.close(fd)  # held by a live store, or already replayed and unlinked
                continue
            yield OrphanSpool(path, fd)
