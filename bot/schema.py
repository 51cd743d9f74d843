"""The knowledge schema: what a rule base holds, declared once.

Each dataclass is both the typed value the core reads and the YAML shape a moderator
writes: the reader derives the keys it accepts, which of them are required and how each
is read (text, list of texts, references to other ids) from these fields and their
metadata, so a new field is one line here. This module imports nothing of the project but
the verdict vocabulary, so the matcher and the learned decision can use it without
importing the reader.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

REQUIRED_TOPICS = (
    "power-and-control",
    "transparency-and-accountability",
    "capability-and-risk",
    "concentration",
    "algorithmic-bias",
)
REQUIRED_PITFALLS = (
    "technical-overreach",
    "deferring-to-experts",
    "merged-mandates",
    "missed-intersection",
    "governance-substitution",
)

# Field metadata the reader understands:
_ENTRY_KEY = {"yaml": None}  # not a key inside the entry: the entry's name, or derived


def _internal():
    return field(metadata=_ENTRY_KEY)


def _refs(kind: str, *, required: bool = False):
    """A list of ids of another kind, checked once every file is read."""
    return field(metadata={"ref": kind, "required": required})


def _optional():
    return field(metadata={"required": False})


def yaml_keys(cls) -> tuple[str, ...]:
    """The keys an entry of this kind may have, in declaration order."""
    return tuple(f.metadata.get("yaml", f.name) for f in fields(cls) if f.metadata.get("yaml", f.name) is not None)


@dataclass(frozen=True)
class Phrase:
    text: str
    key: tuple[str, ...]  # stems, with GAP markers for "..."
    source: str  # file:line


@dataclass(frozen=True)
class Rule:
    id: str
    concept: str
    category: str
    weight: float
    topics: tuple[str, ...] = _refs("topic")
    needs_ai_context: bool
    phrases: tuple[Phrase, ...]
    source: str = _internal()
    concept_id: str = _optional()  # the concept whose guidance (concepts.yaml) a reply uses


@dataclass(frozen=True)
class Group:
    """One condition of a pitfall rule: any of its phrases is in the message, or any of its
    rules (or any rule of its categories) fired. Referring to rules reuses their whole
    vocabulary instead of repeating it."""

    phrases: tuple[Phrase, ...] = ()
    rules: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PitfallRule:
    id: str
    pitfall: str
    concept: str
    groups: tuple[Group, ...] = field(metadata={"yaml": "all"})  # every group must match
    source: str = _internal()


@dataclass(frozen=True)
class Intervention:
    name: str
    when: str
    what: str


@dataclass(frozen=True)
class Subject:
    """What a category, a topic and a pitfall have in common: a titled entry, named by its
    key, that points to readings. The `reading <id>` command and a verdict's reading list
    take any of the three through these fields alone, so they are declared once, here."""

    id: str = _internal()
    title: str
    readings: tuple[str, ...] = _refs("reading")


@dataclass(frozen=True)
class Category(Subject):
    """A section of the reply per category: how to frame the concern and whom to ask."""

    headline: str
    framing: str
    questions: tuple[str, ...]
    expertise: tuple[str, ...]
    success: str
    limitations: str
    oversight: str
    interventions: tuple[Intervention, ...]


@dataclass(frozen=True)
class Topic(Subject):
    summary: str
    technical: str
    societal: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Pitfall(Subject):
    explanation: str
    advice: str


@dataclass(frozen=True)
class Reading:
    id: str = _internal()
    title: str
    url: str
    summary: str = _optional()
    categories: tuple[str, ...] = _refs("category")
    topics: tuple[str, ...] = _refs("topic")
    pitfalls: tuple[str, ...] = _refs("pitfall")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    pitfall: str | None
    no_signals: bool
    source: str = _internal()


@dataclass(frozen=True)
class Scoring:
    """Decision thresholds. Kept in the knowledge so tuning them is a data change."""

    min_evidence: float = 1.0  # below this, the verdict is "unclear"
    both_min: float = 1.0  # each side needs at least this much for "both"
    both_ratio: float = 0.4  # ... and the weaker side at least this share of the stronger
    pitfall_weight: float = 2.0  # a detected pitfall adds this to the "both" evidence
    negated_factor: float = 0.75
    hedged_factor: float = 0.85
    fuzzy_factor: float = 0.8
    # The learned decision (bot/model.py):
    pitfall_threshold: float = 0.0  # raise a pitfall at this probability; 0: learned from the examples
    abstain_below: float = 0.0  # a concern call less probable than this becomes "unclear"
    cv_floor: float = 0.0  # `knowledge check` fails when cross-validated macro-F1 drops below


@dataclass(frozen=True)
class Language:
    ai_context: tuple[Phrase, ...] = ()
    exclusions: tuple[Phrase, ...] = ()
    negations: tuple[Phrase, ...] = ()
    hedges: tuple[Phrase, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    directory: Path
    version: str  # content hash: records say which knowledge made a verdict
    categories: dict[str, Category]
    topics: dict[str, Topic]
    pitfalls: dict[str, Pitfall]
    readings: dict[str, Reading]
    rules: tuple[Rule, ...]
    pitfall_rules: tuple[PitfallRule, ...]
    language: Language
    examples: tuple[Example, ...]
    scoring: Scoring
    files: tuple[str, ...] = ()
    concepts: dict = field(default_factory=dict)  # concept id -> guidance.Concept
    matcher: object = field(default=None, compare=False, repr=False)  # set by load_knowledge
    model: object = field(default=None, compare=False, repr=False)  # the learned decision, or None
    model_note: str = field(default="", compare=False)  # why there is no learned decision
    # Answers worked out from this knowledge and reused (the readings a verdict gets by its
    # category, topics and pitfalls; which pitfall rules a rule hit can open): a new knowledge
    # version starts with an empty one.
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def phrase_count(self) -> int:
        return sum(len(r.phrases) for r in self.rules)
