"""Message -> features for the learned decision: rule evidence, word n-grams, an embedding.

Three views that fail in different ways: the rules know the curated concepts but only in the
wordings someone listed; stem n-grams learn the wordings of the example corpus; the sentence
embedding generalises to wordings neither has seen. Training (bot/train.py) and prediction
(bot/model.py) both build features here, so what the model learned from is exactly what it
is shown at run time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .embedding import shared as shared_embedding
from .transformer import active as active_transformer
from .schema import Knowledge
from .normalise import Tokens
from .rules import RuleEvidence, evidence


# The dense rule features, in column order. Weight sums are log-scaled: the second strong
# rule adds less than the first.
RULE_DENSE = (
    "score_technical", "score_societal", "score_both",
    "signals_technical", "signals_societal", "signals_both",
    "negated", "hedged", "fuzzy", "ai_context", "no_signal", "rule_pitfall",
    "rules_unclear", "rules_technical", "rules_societal", "rules_both",
    "short", "short_rules_technical", "short_rules_societal", "short_rules_both", "log_words",
)  # fmt: skip
SHORT = 20  # words: in a short post a rule hit is most of what is said, in a long one a detail


# Words that carry no concept: the model may weigh them, an explanation never shows them.
FUNCTION_WORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being "
    "it its this that these those there here we our us you your they them their he she his her "
    "i me my so do does did doing have has had not no can could would should will just about "
    "into than then too very also again what which who whom when where why how all any some "
    "keep keeps kept get gets got going go against want wants need needs use used using "
    "make makes made now still only even like one more most other such".split()
)


@dataclass(frozen=True)
class Features:
    tokens: Tokens
    rules: RuleEvidence
    ngrams: tuple[str, ...]
    embedding: np.ndarray
    # The fine-tuned transformer's logits over LABELS, when this process runs it
    # (bot/transformer.py); None on the default static path.
    tuned: tuple[float, ...] | None = None

    def rule_dense(self) -> list[float]:
        return rule_dense(self.rules, len(self.tokens.words))

    def rule_keys(self) -> tuple[str, ...]:
        """Which rules and pitfall rules fired, as sparse feature keys ("rule:<id>")."""
        return tuple(f"rule:{s.rule_id}" for s in self.rules.signals) + tuple(
            f"pitfall:{p}" for p in self.rules.pitfalls
        )


def extract(knowledge: Knowledge, tokens: Tokens, text: str | None = None) -> Features:
    """`text`: the prepared message, for the transformer view; training passes none, because
    an example's transformer view must come from a model that did not learn from it."""
    matches = knowledge.matcher.match(tokens)
    ev = evidence(knowledge, tokens, matches)
    tuned = None
    if text is not None and (encoder := active_transformer()) is not None:
        tuned = tuple(encoder.logits(text).tolist())
    return Features(tokens, ev, ngrams(tokens), shared_embedding().encode_words(tokens.words), tuned)


def ngrams(tokens: Tokens) -> tuple[str, ...]:
    """Stem unigrams and bigrams. Bigrams stay inside a clause: "no. bias" is not "no bias"."""
    stems = tokens.stems
    clauses = tokens.clauses
    out = list(stems)
    for i in range(len(stems) - 1):
        if clauses[i] == clauses[i + 1]:
            out.append(stems[i] + " " + stems[i + 1])
    return tuple(out)


def rule_dense(ev: RuleEvidence, n_words: int) -> list[float]:
    """The RULE_DENSE values, in that order."""
    return _dense(tally(ev.signals), ev.scores, ev.category, ev, n_words)


def rule_dense_without(ev: RuleEvidence, counts: list[int], signal, scores, category: str, n_words: int) -> list[float]:
    """rule_dense of the evidence had `signal` not fired (model._reasons asks this for every
    hit it checks), from the evidence's `tally` and the scores and rules-only call without
    the hit (rules.without_hit), instead of rebuilding the evidence."""
    counts = list(counts)
    counts[_CATEGORY_COUNT[signal.category]] -= 1
    counts[3] -= signal.negated
    counts[4] -= signal.hedged
    counts[5] -= signal.fuzzy
    return _dense(counts, scores, category, ev, n_words)


_CATEGORY_COUNT = {"technical": 0, "societal": 1, "both": 2}


def tally(signals) -> list[int]:
    """[technical, societal, both, negated, hedged, fuzzy] counts of rule hits. Written out
    flat: the decision calls this once per message."""
    tech = soc = both = negated = hedged = fuzzy = 0
    for s in signals:
        if s.category == "technical":
            tech += 1
        elif s.category == "societal":
            soc += 1
        else:
            both += 1
        negated += s.negated
        hedged += s.hedged
        fuzzy += s.fuzzy
    return [tech, soc, both, negated, hedged, fuzzy]


def _dense(counts, scores, cat: str, ev: RuleEvidence, n_words: int) -> list[float]:
    tech, soc, both, negated, hedged, fuzzy = counts
    short = 1.0 if n_words <= SHORT else 0.0
    log1p = math.log1p
    return [
        log1p(scores["technical"]), log1p(scores["societal"]), log1p(scores["both"]),
        log1p(tech), log1p(soc), log1p(both),
        min(negated, 2) / 2, min(hedged, 2) / 2, min(fuzzy, 2) / 2,
        float(ev.ai_context), float(not (tech or soc or both)), float(bool(ev.pitfalls)),
        float(cat == "unclear"), float(cat == "technical"), float(cat == "societal"), float(cat == "both"),
        short, short * (cat == "technical"), short * (cat == "societal"), short * (cat == "both"),
        log1p(n_words) / 5,
    ]  # fmt: skip
