"""Reading `knowledge/*.yaml` into the schema's dataclasses, with a message per problem.

Every YAML file is a mapping whose top-level keys name sections (`rules`, `readings`, ...),
so a moderator can put a new rule in any file. Reading never raises on bad content: each
problem becomes a `file:line` message, and `read_knowledge` returns no knowledge at all
when there is an error, so a bad edit can never half-replace the good knowledge. What an
entry may hold comes from `bot.schema`; this module only says how to read and check it.
"""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from . import yamlfile
from .normalise import phrase_key
from .schema import (
    REQUIRED_PITFALLS,
    REQUIRED_TOPICS,
    Category,
    Example,
    Group,
    Intervention,
    Knowledge,
    Language,
    Phrase,
    Pitfall,
    PitfallRule,
    Reading,
    Rule,
    Scoring,
    Topic,
    yaml_keys,
)
from .vocabulary import CATEGORIES, LABELS
from .yamlfile import Problem, YList, YMap, content_version, describe_value, did_you_mean, good_url

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# The longest shipped phrase has 7 words; checking a 2,000-word phrase took 13 s.
MAX_PHRASE_WORDS, MAX_PHRASE_CHARS = 12, 160


def knowledge_files(directory: Path) -> list[Path]:
    return yamlfile.yaml_files(directory)[0]


def read_knowledge(directory: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Read and validate a knowledge directory, without compiling a matcher or a model.

    Returns (knowledge, problems). Knowledge is None when any problem is an error.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None, [Problem(str(directory), 0, "knowledge directory not found")]
    files, tree_problems = yamlfile.yaml_files(directory)
    if not files:
        return None, [*tree_problems, Problem(str(directory), 0, "no .yaml files in the knowledge directory")]
    reader = Reader(directory)
    reader.problems.extend(tree_problems)
    for path in files:
        reader.read_file(path)
    knowledge = reader.finish(content_version(directory, files), tuple(str(f.relative_to(directory)) for f in files))
    problems = reader.problems
    if knowledge is None or any(p.level == "error" for p in problems):
        return None, problems
    return knowledge, problems


_SECTIONS = (
    "categories",
    "topics",
    "pitfalls",
    "readings",
    "rules",
    "pitfall_rules",
    "examples",
    "ai_context",
    "exclusions",
    "negations",
    "hedges",
    "scoring",
    "concepts",
)
class Reader:
    """Collects sections from many files, then checks references across them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.categories: dict[str, Category] = {}
        self.topics: dict[str, Topic] = {}
        self.pitfalls: dict[str, Pitfall] = {}
        self.readings: dict[str, Reading] = {}
        self.rules: list[Rule] = []
        self.pitfall_rules: list[PitfallRule] = []
        self.examples: list[Example] = []
        self.language: dict[str, list[Phrase]] = {k: [] for k in ("ai_context", "exclusions", "negations", "hedges")}
        self.scoring: dict[str, float] = {}
        self.concepts: dict = {}
        self.id_sources: dict[tuple[str, str], str] = {}
        self.refs: list[tuple[str, str, str, int]] = []  # (kind, id, file, line) checked at the end
        self.file = ""
        self.unparsed: list[str] = []  # files that are not YAML: cross-file checks would only echo them

    # -- helpers ------------------------------------------------------------------------

    def error(self, line: int, message: str, level: str = "error") -> None:
        self.problems.append(Problem(self.file, line, message, level))

    def where(self, line: int) -> str:
        return f"{self.file}:{line}"

    def allowed(self, entry: YMap, keys: tuple[str, ...], what: str) -> None:
        for key in entry:
            if key not in keys:
                self.error(entry.line_of(key), f"unknown key '{key}' in {what}{did_you_mean(key, keys)}")

    def mapping(self, value, line: int, what: str) -> YMap | None:
        if isinstance(value, YMap):
            return value
        self.error(line, f"{what} must be a mapping (key: value), not {describe_value(value)}")
        return None

    def text(self, entry: YMap, key: str, what: str, required: bool = True) -> str:
        value = entry.get(key)
        if value is None:
            if required:
                self.error(entry.line, f"{what} is missing '{key}'")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(entry.line_of(key), f"'{key}' in {what} must be non-empty text, not {describe_value(value)}")
            return ""
        return value.strip()

    def texts(self, entry: YMap, key: str, what: str, required: bool = True) -> tuple[str, ...]:
        value = entry.get(key)
        if value is None:
            if required:
                self.error(entry.line, f"{what} is missing '{key}'")
            return ()
        if not isinstance(value, YList):
            self.error(entry.line_of(key), f"'{key}' in {what} must be a list, not {describe_value(value)}")
            return ()
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.error(value.line_of(i), f"item {i + 1} of '{key}' in {what} must be non-empty text, not {describe_value(item)}")
            else:
                out.append(item.strip())
        return tuple(out)

    def ids(self, entry: YMap, key: str, kind: str, what: str, required: bool = False) -> tuple[str, ...]:
        values = self.texts(entry, key, what, required)
        value = entry.get(key)
        for i, ref in enumerate(values):
            self.refs.append((kind, ref, self.file, value.line_of(i) if isinstance(value, YList) else entry.line))
        return values

    def phrase(self, value, line: int, what: str) -> Phrase | None:
        if not isinstance(value, str):
            hint = " (quote it: unquoted yes/no/on/off become booleans)" if isinstance(value, bool) else ""
            self.error(line, f"{what} must be text, not {describe_value(value)}{hint}")
            return None
        if not value.strip():
            self.error(line, f"{what} is empty")
            return None
        if len(value) > MAX_PHRASE_CHARS or len(value.split()) > MAX_PHRASE_WORDS:
            self.error(line, f"{what} is too long ({len(value.split())} words, {len(value)} characters; at most "
                             f"{MAX_PHRASE_WORDS} words and {MAX_PHRASE_CHARS} characters): a phrase names one idea")
            return None
        key = phrase_key(value)
        if not key:
            self.error(line, f"{what} '{value}' normalises to nothing (no letters or digits)")
            return None
        return Phrase(value.strip(), key, self.where(line))

    def phrases(self, value, line: int, what: str) -> tuple[Phrase, ...]:
        if not isinstance(value, YList):
            self.error(line, f"{what} must be a list of phrases, not {describe_value(value)}")
            return ()
        out = []
        for i, item in enumerate(value):
            p = self.phrase(item, value.line_of(i), f"phrase {i + 1} of {what}")
            if p:
                out.append(p)
        if not value:
            self.error(line, f"{what} has no phrases")
        return tuple(out)

    def claim_id(self, kind: str, ident, line: int) -> bool:
        if not isinstance(ident, str) or not _ID.match(ident):
            self.error(line, f"{kind} id {ident!r} must be lowercase letters, digits and dashes")
            return False
        if (kind, ident) in self.id_sources:
            self.error(line, f"duplicate {kind} id '{ident}' (first defined at {self.id_sources[kind, ident]})")
            return False
        self.id_sources[kind, ident] = self.where(line)
        return True

    # -- sections -----------------------------------------------------------------------

    def read_file(self, path: Path) -> None:
        self.file = str(path.relative_to(self.directory))
        data, problems = yamlfile.load(path, self.file)
        self.problems.extend(problems)
        if data is None and problems:
            self.unparsed.append(self.file)
        if data is None:
            if not problems:
                self.error(1, "file is empty", "warning")
            return
        if not isinstance(data, YMap):
            self.error(getattr(data, "line", 1), f"the file must be a mapping of sections ({', '.join(_SECTIONS[:5])}, ...), not {describe_value(data)}")
            return
        for section, value in data.items():
            line = data.line_of(section)
            if section not in _SECTIONS:
                self.error(line, f"unknown section '{section}'{did_you_mean(section, _SECTIONS)}")
                continue
            read = getattr(self, f"_read_{section}", self._read_language)
            read(value, line, section)

    def _named_entries(self, value, line: int, section: str):
        block = self.mapping(value, line, f"'{section}'")
        if block is None:
            return
        kind = section[:-1]
        for ident, entry in block.items():
            eline = block.line_of(ident)
            entry = self.mapping(entry, eline, f"{kind} '{ident}'")
            if entry is not None and self.claim_id(kind, ident, eline):
                yield ident, entry, f"{kind} '{ident}'"

    def _read_categories(self, value, line: int, section: str) -> None:
        for ident, e, what in self._named_entries(value, line, section):
            if ident not in CATEGORIES:
                self.error(e.line, f"unknown category '{ident}': categories are {', '.join(CATEGORIES)}{did_you_mean(ident, CATEGORIES)}")
                continue
            self.allowed(e, yaml_keys(Category), what)
            self.categories[ident] = self._entry(Category, ident, e, what, interventions=lambda: self._interventions(e, what))

    def _interventions(self, e: YMap, what: str) -> tuple[Intervention, ...]:
        value = e.get("interventions")
        if not isinstance(value, YList):
            self.error(e.line_of("interventions"), f"{what} needs 'interventions', a list of name/when/what")
            return ()
        out = []
        for i, item in enumerate(value):
            item = self.mapping(item, value.line_of(i), f"intervention {i + 1} of {what}")
            if item is not None:
                self.allowed(item, yaml_keys(Intervention), "an intervention")
                iw = f"intervention {i + 1} of {what}"
                out.append(Intervention(**{k: self.text(item, k, iw) for k in yaml_keys(Intervention)}))
        return tuple(out)

    def _read_topics(self, value, line: int, section: str) -> None:
        for ident, e, what in self._named_entries(value, line, section):
            self.allowed(e, yaml_keys(Topic), what)
            self.topics[ident] = self._entry(Topic, ident, e, what)

    def _read_pitfalls(self, value, line: int, section: str) -> None:
        for ident, e, what in self._named_entries(value, line, section):
            self.allowed(e, yaml_keys(Pitfall), what)
            self.pitfalls[ident] = self._entry(Pitfall, ident, e, what)

    def _read_readings(self, value, line: int, section: str) -> None:
        for ident, e, what in self._named_entries(value, line, section):
            self.allowed(e, yaml_keys(Reading), what)
            self.readings[ident] = self._entry(Reading, ident, e, what, url=lambda: self._url(e, what))

    def _url(self, e: YMap, what: str) -> str:
        url = self.text(e, "url", what)
        if url and not good_url(url):
            self.error(e.line_of("url"), f"bad URL '{url}' in {what}: it must be an absolute https:// address with no spaces and none of < > | \" {{ }} \\ ^ `")
        return url

    def _entry(self, cls, ident: str, e: YMap, what: str, **read):
        """An entry read by its schema: each field in declaration order, by its type, unless
        `read` says how."""
        self.allowed(e, yaml_keys(cls), what)
        values = {}
        for f in fields(cls):
            if f.metadata.get("yaml", f.name) is None:
                continue
            if f.name in read:
                values[f.name] = read[f.name]()
            elif "ref" in f.metadata:
                values[f.name] = self.ids(e, f.name, f.metadata["ref"], what, f.metadata["required"])
            elif f.type == "str":
                values[f.name] = self.text(e, f.name, what, f.metadata.get("required", True))
            else:
                values[f.name] = self.texts(e, f.name, what, f.metadata.get("required", True))
        return cls(id=ident, **values)

    def _list_entries(self, value, line: int, section: str):
        if not isinstance(value, YList):
            self.error(line, f"'{section}' must be a list (each item starting with '- '), not {describe_value(value)}")
            return
        for i, entry in enumerate(value):
            entry = self.mapping(entry, value.line_of(i), f"item {i + 1} of '{section}'")
            if entry is not None:
                yield entry

    def _claimed_entries(self, value, line: int, section: str, kind: str, cls):
        """The list's entries whose id is new, as (id, entry, "<kind> '<id>'"); keys checked against `cls`."""
        for e in self._list_entries(value, line, section):
            ident = e.get("id")
            what = f"{kind} '{ident}'"
            self.allowed(e, yaml_keys(cls), what)
            if self.claim_id(kind, ident, e.line_of("id")):
                yield ident, e, what

    def _read_rules(self, value, line: int, section: str) -> None:
        for ident, e, what in self._claimed_entries(value, line, section, "rule", Rule):
            category = self.text(e, "category", what)
            if category and category not in CATEGORIES:
                self.error(e.line_of("category"), f"unknown category '{category}' in {what}{did_you_mean(category, CATEGORIES)}")
            weight = self._number(e, "weight", what, 1.0, 0.05, 10.0)
            ctx = e.get("needs_ai_context", False)
            if not isinstance(ctx, bool):
                self.error(e.line_of("needs_ai_context"), f"'needs_ai_context' in {what} must be true or false")
                ctx = False
            self.rules.append(Rule(
                id=ident, concept=self.text(e, "concept", what), category=category, weight=weight,
                topics=self.ids(e, "topics", "topic", what), needs_ai_context=ctx,
                phrases=self.phrases(e.get("phrases"), e.line_of("phrases"), what), source=self.where(e.line),
                concept_id=self.text(e, "concept_id", what, required=False),
            ))
            if e.get("concept_id"):
                self.refs.append(("concept", self.rules[-1].concept_id, self.file, e.line_of("concept_id")))

    def _read_concepts(self, value, line: int, section: str) -> None:
        from .guidance import read_concept  # the concept guidance's own schema lives there

        for ident, e, what in self._named_entries(value, line, section):
            self.concepts[ident] = read_concept(self, ident, e, what)

    def _number(self, e: YMap, key: str, what: str, default: float, lo: float, hi: float) -> float:
        value = e.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.error(e.line_of(key), f"'{key}' in {what} must be a number from {lo} to {hi}, not {value!r}")
            return default
        return float(value)

    def _read_pitfall_rules(self, value, line: int, section: str) -> None:
        for ident, e, what in self._claimed_entries(value, line, section, "pitfall rule", PitfallRule):
            pitfall = self.text(e, "pitfall", what)
            if pitfall:
                self.refs.append(("pitfall", pitfall, self.file, e.line_of("pitfall")))
            groups = e.get("all")
            parsed: list[Group] = []
            if not isinstance(groups, YList) or not groups:
                self.error(e.line_of("all"), f"{what} needs 'all': a list of groups (phrase lists, or {{rules: [...]}} / {{categories: [...]}}), each of which must match")
            else:
                for g, group in enumerate(groups):
                    parsed.append(self._group(group, groups.line_of(g), f"group {g + 1} of {what}"))
            self.pitfall_rules.append(PitfallRule(id=ident, pitfall=pitfall, concept=self.text(e, "concept", what),
                                                  groups=tuple(parsed), source=self.where(e.line)))

    def _group(self, value, line: int, what: str) -> Group:
        if not isinstance(value, YMap):
            return Group(phrases=self.phrases(value, line, what))
        self.allowed(value, yaml_keys(Group), what)
        if not any(k in value for k in yaml_keys(Group)):
            self.error(line, f"{what} needs 'phrases', 'rules' or 'categories'")
        phrases = self.phrases(value["phrases"], value.line_of("phrases"), what) if "phrases" in value else ()
        rules = self.ids(value, "rules", "rule", what)
        categories = self.ids(value, "categories", "category", what)
        return Group(phrases, frozenset(rules), frozenset(categories))

    def _read_examples(self, value, line: int, section: str) -> None:
        for e in self._list_entries(value, line, section):
            what = f"example at line {e.line}"
            self.allowed(e, yaml_keys(Example), what)
            label = self.text(e, "label", what)
            if label and label not in LABELS:
                self.error(e.line_of("label"), f"unknown label '{label}'{did_you_mean(label, LABELS)}")
            pitfall = e.get("pitfall")
            if pitfall is not None:
                self.refs.append(("pitfall", str(pitfall), self.file, e.line_of("pitfall")))
            no_signals = e.get("no_signals", False)
            if not isinstance(no_signals, bool):
                self.error(e.line_of("no_signals"), "'no_signals' must be true or false")
                no_signals = False
            self.examples.append(Example(text=self.text(e, "text", what), label=label, pitfall=pitfall,
                                         no_signals=no_signals, source=self.where(e.line)))

    def _read_language(self, value, line: int, section: str) -> None:
        self.language[section].extend(self.phrases(value, line, f"'{section}'"))

    def _read_scoring(self, value, line: int, section: str) -> None:
        block = self.mapping(value, line, "'scoring'")
        if block is None:
            return
        fields = Scoring.__dataclass_fields__
        for key in block:
            if key not in fields:
                self.error(block.line_of(key), f"unknown scoring key '{key}'{did_you_mean(key, fields)}")
            else:
                self.scoring[key] = self._number(block, key, "'scoring'", fields[key].default, 0.0, 100.0)

    # -- cross-references ---------------------------------------------------------------

    def finish(self, version: str, files: tuple[str, ...]) -> Knowledge | None:
        if self.unparsed:
            return None  # references into a file we could not read would all look broken
        known = {
            "rule": {r.id for r in self.rules},
            "category": set(CATEGORIES),
            "topic": set(self.topics),
            "pitfall": set(self.pitfalls),
            "reading": set(self.readings),
            "concept": set(self.concepts),
        }
        for kind, ident, file, line in self.refs:
            if kind == "concept" and ident not in known[kind]:  # the rule still works: a warning
                self.problems.append(Problem(file, line, f"concept '{ident}' has no guidance (add it under 'concepts:'){did_you_mean(ident, known[kind])}; replies fall back to the category's", "warning"))
            elif ident not in known[kind]:
                self.problems.append(Problem(file, line, f"unknown {kind} '{ident}'{did_you_mean(ident, known[kind])}"))
        self.file = files[0] if files else ""
        for kind, required, have in (
            ("category", CATEGORIES, self.categories),
            ("topic", REQUIRED_TOPICS, self.topics),
            ("pitfall", REQUIRED_PITFALLS, self.pitfalls),
        ):
            for ident in required:
                if ident not in have:
                    self.problems.append(Problem(str(self.directory), 0, f"required {kind} '{ident}' is not defined"))
        if not self.rules:
            self.problems.append(Problem(str(self.directory), 0, "no rules defined"))
        return Knowledge(
            directory=self.directory,
            version=version,
            categories=self.categories,
            topics=self.topics,
            pitfalls=self.pitfalls,
            readings=self.readings,
            rules=tuple(self.rules),
            pitfall_rules=tuple(self.pitfall_rules),
            language=Language(**{k: tuple(v) for k, v in self.language.items()}),
            examples=tuple(self.examples),
            scoring=Scoring(**self.scoring),
            files=files,
            concepts=self.concepts,
        )
