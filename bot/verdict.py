"""The classifier's answer, kept separate from how it is worded (see reply.py).

A verdict carries its evidence so that every reply can show *which words* led to it:
users trust a routing decision they can check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = ("technical", "societal", "both")
LABELS = CATEGORIES + ("unclear",)


@dataclass(frozen=True)
class Signal:
    """One rule hit. Negated or hedged hits are kept (and shown), only weighted down."""

    rule_id: str
    category: str  # technical | societal | both
    span: str  # the words of the message that matched, as the user wrote them
    weight: float  # effective weight after negation/hedging/typo discounts
    source: str  # "file:line" of the rule, so moderators can find it
    concept: str = ""
    topics: tuple[str, ...] = ()
    negated: bool = False
    hedged: bool = False
    fuzzy: bool = False  # matched through typo tolerance

    def to_dict(self) -> dict:
        return {
            "rule": self.rule_id,
            "category": self.category,
            "span": self.span,
            "weight": round(self.weight, 3),
            "source": self.source,
            "negated": self.negated,
            "hedged": self.hedged,
            "fuzzy": self.fuzzy,
        }


@dataclass(frozen=True)
class Verdict:
    category: str  # technical | societal | both | unclear
    confidence: float  # 0..1
    signals: tuple[Signal, ...] = ()
    topics: tuple[str, ...] = ()
    pitfalls: tuple[str, ...] = ()
    readings: tuple[str, ...] = ()  # reading ids, most relevant first
    scores: dict = field(default_factory=dict)  # technical/societal/both evidence, for eval output
    notices: tuple[str, ...] = ()  # e.g. "read only the first 8,000 characters"
    reason: str = ""  # why unclear: "empty", "binary", "no-signal", "weak"

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "signals": [s.to_dict() for s in self.signals],
            "topics": list(self.topics),
            "pitfalls": list(self.pitfalls),
            "readings": list(self.readings),
        }
