"""Hot reload: moderators edit YAML while the bot runs.

The holder swaps in new knowledge only when the whole directory loads without errors; a
broken edit is reported with its file:line and the last good knowledge keeps serving.
Swapping one attribute is atomic in CPython, so readers never see a half-built rule base.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .check import validate
from .knowledge import Knowledge, knowledge_files
from .yamlfile import Problem

log = logging.getLogger("bot.reload")


class KnowledgeError(Exception):
    """The knowledge could not be loaded at start-up: there is no last good version to serve."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems if p.level == "error") or "knowledge failed to load")


@dataclass(frozen=True)
class ReloadEvent:
    ok: bool
    version: str  # the version now serving
    problems: tuple[Problem, ...] = ()

    def describe(self) -> str:
        if self.ok:
            return f"knowledge reloaded: version {self.version}"
        errors = [str(p) for p in self.problems if p.level == "error"]
        return "knowledge edit rejected, still serving version {}:\n{}".format(self.version, "\n".join(errors))


def _fingerprint(directory: Path) -> tuple:
    out = []
    for path in knowledge_files(directory):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


class KnowledgeHolder:
    def __init__(self, directory: Path, min_interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._seen = _fingerprint(self.directory)
        report = validate(self.directory)
        if not report.ok:
            raise KnowledgeError(report.problems)
        self.current: Knowledge = report.knowledge
        self._checked = time.monotonic()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    def maybe_reload(self) -> ReloadEvent | None:
        """Reload if files changed since the last look (at most once per min_interval)."""
        now = time.monotonic()
        if now - self._checked < self.min_interval:
            return None
        self._checked = now
        if _fingerprint(self.directory) == self._seen:
            return None
        return self.reload()

    def reload(self) -> ReloadEvent:
        with self._lock:
            self._seen = _fingerprint(self.directory)
            report = validate(self.directory)  # the same gate as `knowledge check`
            knowledge, problems = report.knowledge, report.problems
            if not report.ok:
                event = ReloadEvent(False, self.current.version, tuple(problems))
                log.warning("knowledge reload rejected", extra={"errors": [str(p) for p in problems if p.level == "error"][:20]})
            else:
                self.current = knowledge
                event = ReloadEvent(True, knowledge.version, tuple(problems))
                log.info("knowledge reloaded", extra={"version": knowledge.version, "rules": len(knowledge.rules)})
            return event

    def watch(self, interval: float = 2.0, on_event=None) -> None:
        """Poll in a background thread: chat bots may sit idle while a moderator edits."""

        def run() -> None:
            while not self._stop.wait(interval):
                self._checked = 0.0
                try:
                    event = self.maybe_reload()
                    if event is not None and on_event is not None:
                        on_event(event)
                except Exception as exc:  # noqa: BLE001 - a dead watcher would never reload again
                    log.error("knowledge watcher: reload failed", extra={"error": type(exc).__name__})

        self._watcher = threading.Thread(target=run, name="knowledge-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
