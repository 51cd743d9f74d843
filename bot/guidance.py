"""Concept guidance: what a reply suggests, chosen from the concepts that fired.

A category is too broad to advise on: a reward-hacking report and a jailbreak report are
both "technical", but need different questions and different people. Rules point at a
concept (`concept_id:`), the concept carries the guidance (knowledge/concepts.yaml), and the
reply takes it from the strongest concepts in the evidence, so two different concerns of
one kind read differently. Only when no concept fired does the category's guidance speak.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

MAX_QUESTIONS = 3
MAX_INVOLVE = 3
MAX_READINGS = 2
_CONCEPT_KEYS = ("title", "questions", "involve", "oversight", "readings")


@dataclass(frozen=True)
class Concept:
    id: str
    title: str
    questions: tuple[str, ...]
    involve: tuple[str, ...]  # specific roles ("the DPO"), not professions
    oversight: str
    readings: tuple[str, ...]


@dataclass(frozen=True)
class Guidance:
    questions: tuple[str, ...]
    involve: tuple[str, ...]
    oversight: str
    readings: tuple[str, ...]  # reading ids
    concepts: tuple[str, ...] = ()  # the concepts it came from, strongest first (empty: the category's)


def read_concept(reader, ident: str, e, what: str) -> Concept:
    """Parse one `concepts:` entry with the knowledge reader's helpers, so its problems are
    reported as file:line like every other section's."""
    reader.allowed(e, _CONCEPT_KEYS, what)
    questions = reader.texts(e, "questions", what)
    involve = reader.texts(e, "involve", what)
    readings = reader.ids(e, "readings", "reading", what)
    for key, items, lo, hi in (("questions", questions, 2, 3), ("involve", involve, 1, 4), ("readings", readings, 1, 2)):
        if items and not lo <= len(items) <= hi:
            reader.error(e.line_of(key), f"'{key}' in {what} should have {lo} to {hi} items, not {len(items)}: the reply has room for that many", "warning")
    return Concept(ident, reader.text(e, "title", what), questions, involve, reader.text(e, "oversight", what), readings)


def fired_concepts(knowledge, verdict) -> list[str]:
    """Concept ids behind the verdict, strongest first: the concepts of the supporting rule
    hits (weights summed per concept), then, for `both`, those of the other hits, so the
    second side is heard too."""
    by_id = {r.id: r for r in knowledge.rules}
    ranked: list[str] = []
    groups = [verdict.reasons or verdict.signals]
    if verdict.category == "both":
        groups.append(verdict.signals)
    for hits in groups:
        weight: dict[str, float] = defaultdict(float)
        for s in hits:
            rule = by_id.get(s.rule_id)
            if rule is not None and rule.concept_id in knowledge.concepts and rule.concept_id not in ranked:
                weight[rule.concept_id] += s.weight
        ranked += sorted(weight, key=lambda c: -weight[c])
    return ranked


def concept_sides(knowledge, verdict) -> tuple[str, ...]:
    """For `both` without an intersection topic: one line per side, named by the strongest
    concept of that side and the words that raised it."""
    by_id = {r.id: r for r in knowledge.rules}
    out = []
    for cat, label in (("technical", "Technical side"), ("societal", "Societal side")):
        spans: dict[str, list[str]] = {}
        for s in verdict.signals:
            rule = by_id.get(s.rule_id)
            if rule is not None and rule.category == cat and rule.concept_id in knowledge.concepts:
                spans.setdefault(rule.concept_id, []).append(f'"{s.span}"')
        if spans:
            cid = fired_order(spans, verdict, by_id)
            concept = knowledge.concepts[cid]
            out.append(f"{label}: {concept.title.lower()} ({', '.join(dict.fromkeys(spans[cid][:3]))}): {concept.questions[0]}")
    return tuple(out) if len(out) == 2 else ()


def fired_order(spans: dict, verdict, by_id) -> str:
    weight: dict[str, float] = defaultdict(float)
    for s in verdict.signals:
        rule = by_id.get(s.rule_id)
        if rule is not None and rule.concept_id in spans:
            weight[rule.concept_id] += s.weight
    return max(spans, key=lambda c: weight[c])


def guidance_for(knowledge, verdict) -> Guidance:
    """The questions, roles, oversight route and readings for this verdict."""
    ids = fired_concepts(knowledge, verdict)
    if not ids:
        cat = knowledge.categories[verdict.category]
        return Guidance(cat.questions[:MAX_QUESTIONS], cat.expertise[:MAX_INVOLVE], cat.oversight, tuple(verdict.readings[:MAX_READINGS]))
    concepts = [knowledge.concepts[c] for c in ids]
    top = concepts[0]
    # The strongest concept leads with two questions; the next ones add one each, so a
    # concern that touches two concepts hears about both.
    questions = list(top.questions[:2])
    for c in concepts[1:]:
        questions.append(c.questions[0])
    questions += top.questions[2:]
    involve = _first_unique([role for c in concepts for role in c.involve], MAX_INVOLVE)
    readings = _first_unique([c.readings[0] for c in concepts if c.readings] + list(top.readings), MAX_READINGS)
    return Guidance(
        tuple(_first_unique(questions, MAX_QUESTIONS)), tuple(involve), top.oversight, tuple(readings), tuple(ids),
    )


def _first_unique(items, limit: int) -> list:
    out: list = []
    for item in items:
        if item not in out:
            out.append(item)
        if len(out) == limit:
            break
    return out
