"""Rule hits -> evidence: what the curated phrase rules say about a message.

The rules are features and explanations of the learned decision (bot/model.py), and on
their own they still make the rules-only call that `triage-bot eval` shows in its ablation.
Each rule counts once (its best hit); negated, hedged and typo-corrected hits count less but
are kept, so the decision can learn how much a negation really takes away.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from .schema import Knowledge
from .matcher import Hit, Matches
from .normalise import Tokens
from .verdict import Signal

NEGATION_WINDOW = 3  # words between a negation cue and the hit it negates


class RuleEvidence(NamedTuple):
    """A NamedTuple: one is built per message, and a frozen dataclass costs several times more."""

    signals: tuple[Signal, ...]
    pitfalls: tuple[str, ...]  # pitfalls the pitfall rules detect
    scores: dict[str, float]  # technical/societal/both weight sums (pitfalls add to "both")
    category: str  # the rules-only call
    confidence: float
    reason: str  # why the rules-only call is unclear: "no-signal" | "weak" | ""
    ai_context: bool


def evidence(knowledge: Knowledge, tokens: Tokens, matches: Matches) -> RuleEvidence:
    scoring = knowledge.scoring
    signals = _signals(knowledge, tokens, matches)
    pitfalls = _pitfalls(knowledge, matches, signals)
    score = {"technical": 0.0, "societal": 0.0, "both": 0.0}
    for s in signals:
        score[s.category] += s.weight
    score["both"] += scoring.pitfall_weight * len(pitfalls)
    category, confidence, reason = _decide(score, scoring)
    return RuleEvidence(signals, pitfalls, score, category, confidence, reason, matches.ai_context)


def without_hit(knowledge: Knowledge, ev: RuleEvidence, signal: Signal) -> tuple[dict[str, float], str]:
    """The weight sums and the rules-only call as they would be had this one rule not
    fired: how the decision checks that a rule hit really supports it before showing it
    as a reason."""
    score = dict(ev.scores)
    score[signal.category] = max(0.0, score[signal.category] - signal.weight)
    return score, _decide(score, knowledge.scoring)[0]


def _signals(knowledge: Knowledge, tokens: Tokens, matches: Matches) -> tuple[Signal, ...]:
    """Rule hits -> weighted signals: gated words need an AI context, each rule counts once
    (its best hit), and negation, hedging and typo correction lower the weight."""
    scoring = knowledge.scoring
    rules = knowledge.rules
    ungated = any(not rules[h.owner].needs_ai_context for h in matches.rules)
    in_context = matches.ai_context or ungated

    # One span of text is one piece of evidence: where several rules match exactly the same
    # words, only the heaviest counts (ties: the first rule in the files).
    span_owner: dict[tuple[int, int], int] = {}
    for hit in matches.rules:
        rule = rules[hit.owner]
        if rule.needs_ai_context and not in_context:
            continue
        current = span_owner.get((hit.start, hit.end))
        if current is None or (rule.weight, -hit.owner) > (rules[current].weight, -current):
            span_owner[hit.start, hit.end] = hit.owner
    best: dict[int, Signal] = {}
    for hit in matches.rules:
        rule = rules[hit.owner]
        if span_owner.get((hit.start, hit.end)) != hit.owner:
            continue
        negated = _negated(tokens, matches, hit)
        hedged = _hedged(tokens, matches, hit)
        weight = rule.weight
        if negated:
            weight *= scoring.negated_factor
        if hedged:
            weight *= scoring.hedged_factor
        if hit.fuzzy:
            weight *= scoring.fuzzy_factor
        signal = Signal(
            rule.id, rule.category, tokens.span(hit.start, hit.end), weight, rule.source,
            rule.concept, rule.topics, negated, hedged, hit.fuzzy,
        )  # fmt: skip
        current = best.get(hit.owner)
        if current is None or signal.weight > current.weight:
            best[hit.owner] = signal
    return tuple(sorted(best.values(), key=lambda s: (-s.weight, s.rule_id)))



def _decide(score: dict[str, float], scoring) -> tuple[str, float, str]:
    tech = score["technical"] + score["both"]
    soc = score["societal"] + score["both"]
    evidence = score["technical"] + score["societal"] + score["both"]
    if evidence < scoring.min_evidence:
        reason = "no-signal" if evidence == 0 else "weak"
        # Sure it is unclear when nothing matched; less sure when something almost did.
        return "unclear", round(1.0 - 0.5 * evidence / scoring.min_evidence, 3), reason
    strength = 1.0 - math.exp(-evidence / 2.0)
    low, high = min(tech, soc), max(tech, soc)
    if low >= scoring.both_min and low / high >= scoring.both_ratio:
        purity = low / high
        return "both", round(strength * (0.5 + 0.5 * purity), 3), ""
    category = "technical" if tech > soc else "societal"
    purity = 1.0 - low / high
    return category, round(strength * (0.5 + 0.5 * purity), 3), ""


def _negated(tokens: Tokens, matches: Matches, hit: Hit) -> bool:
    """A negation cue shortly before the hit, in the same clause. A cue inside the matched
    phrase ("no way to appeal", "won't tell me how") is part of the concept, not a negation."""
    clause = tokens.clauses[hit.start]
    for cue in matches.negations:
        if cue.end <= hit.start and hit.start - cue.end <= NEGATION_WINDOW and tokens.clauses[cue.start] == clause:
            return True
    return False


def _hedged(tokens: Tokens, matches: Matches, hit: Hit) -> bool:
    clause = tokens.clauses[hit.start]
    return any(cue.end <= hit.start and tokens.clauses[cue.start] == clause for cue in matches.hedges)


def _pitfalls(knowledge: Knowledge, matches: Matches, signals: tuple[Signal, ...]) -> tuple[str, ...]:
    """Pitfalls whose every group is met: by one of its phrases, a rule or a category that fired."""
    phrase_groups = matches.pitfall_groups
    if not signals and not phrase_groups:
        return ()
    fired_rules = {s.rule_id for s in signals}
    fired_categories = {s.category for s in signals}
    # Only pitfall rules whose first group something met can fire: found through an index
    # instead of testing all of them (most messages meet none).
    always, by_rule = _openers(knowledge)
    candidates = set(always)
    candidates.update(p for p, g in phrase_groups if g == 0)
    for r in fired_rules & by_rule.keys():
        candidates.update(by_rule[r])
    found: list[str] = []
    for p in sorted(candidates):
        prule = knowledge.pitfall_rules[p]
        if prule.pitfall in found:
            continue
        for g, group in enumerate(prule.groups):
            if (
                (p, g) not in phrase_groups
                and group.rules.isdisjoint(fired_rules)
                and group.categories.isdisjoint(fired_categories)
            ):
                break
        else:
            found.append(prule.pitfall)
    return tuple(found)


def _openers(knowledge: Knowledge) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
    """Which pitfall rules a fired rule can open (its id in their first group), and those a
    fired category could open (checked every time): worked out once per knowledge."""
    found = knowledge.memo.get("pitfall openers")
    if found is None:
        always: list[int] = []
        by_rule: dict[str, list[int]] = {}
        for p, prule in enumerate(knowledge.pitfall_rules):
            first = prule.groups[0] if prule.groups else None
            if first is None or first.categories:
                always.append(p)
                continue
            for r in first.rules:
                by_rule.setdefault(r, []).append(p)
        found = knowledge.memo["pitfall openers"] = (tuple(always), {r: tuple(v) for r, v in by_rule.items()})
    return found
