"""Safe YAML that remembers where things are.

Moderators need `file:line` for every problem, and PyYAML silently keeps the last of two
duplicate keys. So instead of `safe_load` we compose the node tree (safe: no object
construction) and convert it ourselves, keeping line numbers and refusing duplicates and
any tag that is not plain data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    def convert(self, node):
        line = node.start_mark.line + 1
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                return self._bad_tag(node, line)
            out = YMap()
            out.line = line
            out.key_lines = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node)
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
                out[key] = self.convert(value_node)
                out.key_lines[key] = key_line
            return out
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                return self._bad_tag(node, line)
            out = YList(self.convert(n) for n in node.value)
            out.line = line
            out.item_lines = [n.start_mark.line + 1 for n in node.value]
            return out
        if isinstance(node, ScalarNode):
            if node.tag == _STR:
                return node.value
            if node.tag in _PLAIN_SCALARS:
                return self._scalars.construct_object(node)
            return self._bad_tag(node, line)
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


def _parse(raw: bytes, name: str) -> tuple[object, list[Problem]]:
    problems: list[Problem] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, _line_at(raw, exc.start), "file is not valid UTF-8 text")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(name, line, f"not valid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 0, f"not valid YAML: {exc}")]
    if node is None:
        return None, []
    return _Converter(name, problems).convert(node), problems


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1
