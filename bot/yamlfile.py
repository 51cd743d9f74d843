"""Safe YAML that remembers where things are.

Moderators need `file:line` for every problem, and PyYAML silently keeps the last of two
duplicate keys. So instead of `safe_load` we compose the node tree (safe: no object
construction) and convert it ourselves, keeping line numbers and refusing duplicates and
any tag that is not plain data.
"""
from __future__ import annotations

import difflib
import errno
import gc
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # libyaml's parser is ~10x faster; same safety, since we construct nothing ourselves
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

_STR = "tag:yaml.org,2002:str"
_PLAIN_SCALARS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Knowledge nests four or five levels; aliases are rare. These bound what a bad edit can
# cost: an alias bomb is a few hundred bytes that expand to billions of nodes.
MAX_DEPTH = 40
MAX_ALIAS_NODES = 10_000
YAML_SUFFIXES = (".yaml", ".yml")


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    level: str = "error"  # error | warning

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}: {self.message}"


class YMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Converter:
    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self._scalars = SafeConstructor()
        self._seen: set[int] = set()
        self._open: set[int] = set()  # collections being converted: the path from the root
        self._repeats = 0

    def convert(self, node, depth: int = 0):
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
        if id(node) in self._open:
            raise _Refused(line, "an alias refers to a collection that contains it (a self-referencing anchor)")
        if id(node) in self._seen:
            self._repeats += 1
            if self._repeats > MAX_ALIAS_NODES:
                raise _Refused(line, f"aliases expand to more than {MAX_ALIAS_NODES:,} repeated nodes (an alias bomb?)")
        self._seen.add(id(node))
        if not isinstance(node, ScalarNode):
            self._open.add(id(node))
            try:
                return self._collection(node, line, depth)
            finally:
                self._open.discard(id(node))
        if node.tag == _STR:
            return node.value
        if node.tag in _PLAIN_SCALARS:
            return self._scalars.construct_object(node)
        return self._bad_tag(node, line)

    def _collection(self, node, line: int, depth: int):
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                return self._bad_tag(node, line)
            out = YMap()
            out.line = line
            out.key_lines = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node, depth + 1)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    key = str(key)
                if key in out:
                    self.problems.append(
                        Problem(
                            self.file,
                            key_line,
                            f"duplicate key '{key}' (first at line {out.key_lines[key]}); "
                            "YAML would silently keep only the last one",
                        )
                    )
                    continue
                out[key] = self.convert(value_node, depth + 1)
                out.key_lines[key] = key_line
            return out
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                return self._bad_tag(node, line)
            out = YList([self.convert(n, depth + 1) for n in node.value])
            out.line = line
            out.item_lines = [n.start_mark.line + 1 for n in node.value]
            return out
        return None  # pragma: no cover

    def _bad_tag(self, node, line):
        self.problems.append(
            Problem(self.file, line, f"YAML tag '{node.tag}' is not allowed here: only plain data is accepted")
        )
        return None


_parsed: dict[tuple[str, str], tuple[tuple, object, list[Problem]]] = {}


def load(path: Path, display: str | None = None) -> tuple[object, list[Problem]]:
    """Parse one file. Returns (data or None, problems); never raises on bad content.

    The result is kept per file until the file changes, so a reload after a moderator's
    edit re-parses only the edited file. Results are never mutated by callers.
    """
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, 0, f"cannot read file: {exc.strerror or exc}")]
    stamp = (len(raw), hash(raw))
    cached = _parsed.get((str(path), name))
    if cached is not None and cached[0] == stamp:
        return cached[1], list(cached[2])
    data, problems = _parse(raw, name)
    _parsed[str(path), name] = (stamp, data, problems)
    return data, list(problems)


def _unclosed_quote(text: str, first: int, last: int) -> int:
    """The line (1-based) between `first` (0-based) and `last` where a quoted value starts
    but does not end, or 0. An unclosed quote makes the parser swallow the following lines
    and fail somewhere below, so its own line number points past the mistake."""
    lines = text.splitlines()
    for n in range(first, min(last, len(lines))):
        line = lines[n].replace("\\\\", "").replace('\\"', "")
        body = line.split(" #", 1)[0]
        key, colon, value = body.partition(": ")
        value = (value if colon else body.lstrip().removeprefix("- ")).strip()
        for quote in ('"', "'"):
            if value.startswith(quote) and (len(value) == 1 or not value.rstrip(",]}").endswith(quote)):
                return n + 1
    return 0


def _parse(raw: bytes, name: str) -> tuple[object, list[Problem]]:
    problems: list[Problem] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, _line_at(raw, exc.start), "file is not valid UTF-8 text")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:  # NUL, control characters: no mark, only a position
        return None, [Problem(name, text.count("\n", 0, exc.position) + 1, f"not valid YAML: {exc.reason} "
                              f"(character {exc.character!r})")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = exc.problem or exc.context or "invalid YAML"
        opened = _unclosed_quote(text, exc.context_mark.line if exc.context_mark else 0, line)
        if opened:
            return None, [Problem(name, opened, f"not valid YAML: a quote opened on this line is not closed (the parser read on to line {line}: {what})")]
        return None, [Problem(name, line, f"not valid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 0, f"not valid YAML: {exc}")]
    if node is None:
        return None, []
    try:
        return _Converter(name, problems).convert(node), problems
    except _Refused as exc:
        return None, [Problem(name, exc.line, f"refused: {exc}")]


def yaml_files(directory: Path) -> tuple[list[Path], list[Problem]]:
    """Every YAML file below `directory`, in a stable order (top level, then subfolders),
    and what a moderator must hear about the tree: a symlink loop, a dangling link, a file
    named `.YAML` (read, but warned about: the package and other tools see only `.yaml`).
    Symlinked folders are followed, each real folder once."""
    files: list[Path] = []
    problems: list[Problem] = []
    visited: set[Path] = set()

    def note(path: Path, message: str, level: str = "error") -> None:
        problems.append(Problem(str(path.relative_to(directory)), 0, message, level))

    def walk(folder: Path) -> None:
        real = folder.resolve()
        if real in visited:
            note(folder, "symlink loop: this folder is already read under another name; skipped")
            return
        visited.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            note(folder, f"cannot read this folder: {exc.strerror or exc}")
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink() and not path.exists():
                try:
                    os.stat(path)
                    reason = "a symbolic link that cannot be followed"
                except OSError as exc:
                    reason = "a symlink loop" if exc.errno == errno.ELOOP else f"a dangling symbolic link (to {os.readlink(path)})"
                note(path, f"{reason}; not read")
            elif entry.is_dir():
                walk(path)
            elif path.suffix.lower() in YAML_SUFFIXES and entry.is_file():
                files.append(path)
                if path.suffix not in YAML_SUFFIXES:
                    note(path, f"read, but rename it to end in {path.suffix.lower()}: other tools skip '{path.suffix}'", "warning")

    if directory.is_dir():
        walk(directory)
    files.sort(key=lambda p: (len(p.relative_to(directory).parts), str(p)))
    return files, problems


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def did_you_mean(word: str, options) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def describe_value(value) -> str:
    """A value as a message names it: what the moderator wrote, not a Python type."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def content_version(directory: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(directory)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()[:12]


@contextmanager
def gc_paused():
    """Loading allocates ~10 objects per phrase and frees none of them; letting the cyclic GC
    rescan that growing heap made loading 5,000 rules several times slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_URL_UNSAFE = set('<>|"{}\\^`')  # break out of Slack's <url|label> and Markdown links


def good_url(url: str) -> bool:
    if any(ch.isspace() or ch in _URL_UNSAFE or not ch.isprintable() for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and "." in parts.netloc and not parts.netloc.startswith(".")
