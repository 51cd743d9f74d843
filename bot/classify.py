"""Matches -> Verdict: weigh the evidence and decide.

The decision is deliberately simple arithmetic over rule weights, so that a moderator can
predict it: each rule counts once (its best hit); negated, hedged and typo-corrected hits
count less but are kept and shown; "both" needs real evidence on both sides.
"""
from __future__ import annotations

import math

from .knowledge import Knowledge
from .matcher import Hit, Matches
from .normalise import Tokens, prepare, tokenize
from .verdict import Signal, Verdict

NEGATION_WINDOW = 3  # words between a negation cue and the hit it negates


def triage(knowledge: Knowledge, text: str | bytes) -> Verdict:
    """The whole flow for one message: text -> normalise -> match -> Verdict."""
    prepared = prepare(text)
    if prepared.rejected:
        return Verdict("unclear", 1.0, notices=prepared.notices, reason=prepared.rejected)
    tokens = tokenize(prepared.text)
    matches = knowledge.matcher.match(tokens)
    return decide(knowledge, tokens, matches, prepared.notices)


def decide(knowledge: Knowledge, tokens: Tokens, matches: Matches, notices: tuple[str, ...] = ()) -> Verdict:
    scoring = knowledge.scoring
    signals = _signals(knowledge, tokens, matches)
    pitfalls = _pitfalls(knowledge, matches, signals)
    score = {"technical": 0.0, "societal": 0.0, "both": 0.0}
    for s in signals:
        score[s.category] += s.weight
    score["both"] += scoring.pitfall_weight * len(pitfalls)
    category, confidence, reason = _decide(score, scoring)

    topic_weight: dict[str, float] = {}
    for s in signals:
        for rank, t in enumerate(s.topics):  # a rule lists its main topic first
            topic_weight[t] = topic_weight.get(t, 0.0) + s.weight / (1 + rank)
    topics = tuple(sorted(topic_weight, key=lambda t: (-topic_weight[t], t)))
    if category == "unclear":
        topics = ()
    readings = _readings(knowledge, category, topics, pitfalls)
    return Verdict(
        category, confidence, signals, topics, pitfalls, readings,
        {k: round(v, 3) for k, v in score.items()}, notices, reason,
    )  # fmt: skip


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
    fired_rules = {s.rule_id for s in signals}
    fired_categories = {s.category for s in signals}
    found: list[str] = []
    for p, prule in enumerate(knowledge.pitfall_rules):
        if prule.pitfall in found:
            continue
        if all(
            (p, g) in matches.pitfall_groups
            or not group.rules.isdisjoint(fired_rules)
            or not group.categories.isdisjoint(fired_categories)
            for g, group in enumerate(prule.groups)
        ):
            found.append(prule.pitfall)
    return tuple(found)


def _readings(knowledge: Knowledge, category: str, topics, pitfalls) -> tuple[str, ...]:
    """Most specific first: pitfall readings, then topic readings, then the category's."""
    ordered: list[str] = []
    sources = [knowledge.pitfalls[p].readings for p in pitfalls if p in knowledge.pitfalls]
    sources += [knowledge.topics[t].readings for t in topics if t in knowledge.topics]
    if category in knowledge.categories:
        sources.append(knowledge.categories[category].readings)
    elif category == "unclear":
        sources.append(_founding(knowledge))
    # Interleave, so two pitfalls or topics each get their best reading in before seconds.
    depth = max((len(s) for s in sources), default=0)
    for level in range(depth):
        for source in sources:
            if level < len(source) and source[level] not in ordered:
                ordered.append(source[level])
    return tuple(r for r in ordered if r in knowledge.readings)


def _founding(knowledge: Knowledge) -> tuple[str, ...]:
    """The readings every category shares, i.e. the essay that explains the distinction."""
    shared = None
    for cat in knowledge.categories.values():
        shared = set(cat.readings) if shared is None else shared & set(cat.readings)
    first = next(iter(knowledge.categories.values()), None)
    return tuple(r for r in (first.readings if first else ()) if shared and r in shared)
