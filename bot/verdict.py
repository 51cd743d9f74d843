"""The classifier's answer, kept separate from how it is worded (see reply.py).

A verdict carries its evidence so that every reply can show *which words* led to it:
users trust a routing decision they can check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


# What "high/medium/low confidence" means, in one place: the reply says the word, `eval`
# reports how often each word was right. Confidences are calibrated probabilities.
HIGH_CONFIDENCE = 0.85
MEDIUM_CONFIDENCE = 0.6


def confidence_band(confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= MEDIUM_CONFIDENCE:
        return "medium"
    return "low"


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


class Reason(StrEnum):
    """Why a verdict is unclear (NONE when it is not). Members equal their strings."""

    NONE = ""
    EMPTY = "empty"  # nothing to classify: answered, not recorded
    BINARY = "binary"  # nothing to classify: answered, not recorded
    NO_SIGNAL = "no-signal"
    WEAK = "weak"
    MODEL = "model"
    ABSTAINED = "abstained"


REJECTED = frozenset({Reason.EMPTY, Reason.BINARY})  # the text was not classified at all


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
    reason: Reason = Reason.NONE  # why unclear; plain strings from the classifier become members
    # The learned decision's evidence (bot/model.py); signals above are every rule hit.
    reasons: tuple[Signal, ...] = ()  # the rule hits that support the call: shown as "why"
    decided_by: str = "rules"  # "model" | "rules"
    rules_category: str = ""  # what the rules alone would have said
    probabilities: dict = field(default_factory=dict)
    words: tuple[str, ...] = ()  # words that pushed the learned part most towards the call
    closest: tuple[str, str] | None = None  # nearest curated example: (text, label)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", Reason(self.reason))

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "signals": [s.to_dict() for s in self.signals],
            "topics": list(self.topics),
            "pitfalls": list(self.pitfalls),
            "readings": list(self.readings),
        }

    def evidence_dict(self) -> dict:
        """The learned decision's evidence, under keys of its own (the keys above are a contract)."""
        return {
            "decided_by": self.decided_by,
            "rules_category": self.rules_category,
            "probabilities": dict(self.probabilities),
            "reasons": [s.to_dict() for s in self.reasons],
            "words": list(self.words),
            "closest": {"text": self.closest[0], "label": self.closest[1]} if self.closest else None,
        }
