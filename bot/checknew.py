"""`knowledge check --new`: only the warnings about lines an edit touched.

Reviewing an edit, a moderator needs to hear what the edit did, not every standing warning
of the rule base. Changed lines come from git (since the last commit, or since a given
version); files git does not track yet count as new throughout. Errors are always shown:
they refuse the whole knowledge, wherever they are.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

_PLACE = re.compile(r"([\w./-]+\.ya?ml):(\d+)")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class NotInGit(Exception):
    pass


def changed_lines(directory: Path, since: str = "HEAD") -> dict[str, set[int] | None]:
    """{file relative to `directory`: changed line numbers}; a file mapped to None is new.
    Raises NotInGit when the directory is not in a git work tree or `since` is unknown."""
    directory = Path(directory).resolve()
    _git(directory, "rev-parse", "--show-toplevel")  # not in git: say so, rather than "no changes"
    diff = _git(directory, "diff", "-U0", "--no-color", "--relative", since, "--", ".")
    out: dict[str, set[int] | None] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None
            if name != "/dev/null":
                current = out.setdefault(name[2:] if name.startswith("b/") else name, set())
        elif current is not None and (m := _HUNK.match(line)):
            start, count = int(m[1]), int(m[2] if m[2] is not None else 1)
            current.update(range(start, start + count))
    for name in _git(directory, "ls-files", "--others", "--exclude-standard", "--", ".").splitlines():
        out[name] = None
    return out


def only_new(problems, changed: dict[str, set[int] | None]):
    """Errors, plus the warnings on changed lines (or anywhere in a new file)."""
    def hit(file: str, line: int) -> bool:
        return file in changed and (changed[file] is None or line in changed[file])

    def touched(p) -> bool:  # its own line, or a line it names ("... (rule x at warn.yaml:9)")
        return hit(p.file, p.line) or any(hit(f, int(n)) for f, n in _PLACE.findall(p.message))

    return [p for p in problems if p.level == "error" or touched(p)]


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NotInGit(str(exc)) from exc
    if done.returncode != 0:
        raise NotInGit(done.stderr.strip() or f"git {args[0]} failed")
    return done.stdout
