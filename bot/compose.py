"""Verdict -> Reply: put the evidence and the essays' framing into words.

Everything a reply says comes from the knowledge files; this module only chooses and
orders it, so a moderator edit changes what users read without a code change.
"""
from __future__ import annotations

from .guidance import MAX_READINGS, concept_sides, guidance_for
from .knowledge import Knowledge
from .reply import Link, Note, Reply
from .verdict import Reason, Verdict, confidence_band

MAX_WHY = 5

_REJECTED = {
    Reason.EMPTY: "There's no text here for me to triage.",
    Reason.BINARY: "This looks like binary data rather than text, so I can't triage it.",
}
PLACING_QUESTION = (
    "To place it: is the worry that the AI system doesn't behave as intended (wrong, harmful or "
    "unreliable outputs, or hard to oversee), or about who decides, who benefits and who bears "
    "the costs (rights, power, institutions)? Or both?"
)


def compose(knowledge: Knowledge, verdict: Verdict) -> Reply:
    if verdict.category == "unclear":
        return _unclear(knowledge, verdict)
    cat = knowledge.categories[verdict.category]
    advice = guidance_for(knowledge, verdict)
    questions = list(advice.questions)
    intersection: tuple[Note, ...] = ()
    sides: tuple[str, ...] = ()
    if verdict.category == "both":
        topics = [knowledge.topics[t] for t in verdict.topics if t in knowledge.topics][:2]
        intersection = tuple(
            Note(t.id, t.title, f"{t.summary} Technical side: {t.technical} Societal side: {t.societal}") for t in topics
        )
        if topics:
            sides = (f"Technical side: {topics[0].technical}", f"Societal side: {topics[0].societal}")
        else:
            sides = concept_sides(knowledge, verdict)
        if not advice.concepts:  # no concept spoke: the topic's own question is the most specific
            questions = [t.questions[0] for t in topics if t.questions] + questions
        # Two side lines take the room of one question (the default stays within ~12 lines).
        questions = questions[: 2 if sides else 3]
    pitfalls = tuple(
        Note(p.id, p.title, f"{p.explanation} {p.advice}")
        for p in (knowledge.pitfalls[i] for i in verdict.pitfalls if i in knowledge.pitfalls)
    )
    readings = list(dict.fromkeys(advice.readings or verdict.readings))[: 1 if sides and pitfalls else MAX_READINGS]
    return Reply(
        category=verdict.category,
        headline=f"{cat.headline} ({_confidence_words(verdict.confidence)})",
        why=_why(verdict),
        framing=cat.framing,
        questions=tuple(questions),
        involve=advice.involve,
        oversight=advice.oversight,
        interventions=tuple(f"{i.name} ({i.when}): {i.what}" for i in cat.interventions),
        pitfalls=pitfalls,
        intersection=intersection,
        readings=_links(knowledge, readings),
        notices=verdict.notices,
        confidence=verdict.confidence,
        gist=_gist(knowledge, verdict),
        sides=sides,
    )


def _gist(knowledge: Knowledge, verdict: Verdict) -> str:
    """The decisive evidence in one line: the supporting words grouped under the concept
    people know them by ("hallucination and grounding ("making up", "refund policies"))."""
    titles = {r.id: knowledge.concepts[r.concept_id].title for r in knowledge.rules if r.concept_id in knowledge.concepts}
    grouped: dict[str, list[str]] = {}
    for s in verdict.reasons:
        label = titles.get(s.rule_id, s.concept)
        spans = grouped.setdefault(label, [])
        if f'"{s.span}"' not in spans:
            spans.append(f'"{s.span}"')
    parts = [f"{label.lower() if label in titles.values() else label} ({', '.join(spans[:3])})" for label, spans in list(grouped.items())[:2]]
    if parts:
        return "; ".join(parts)
    if verdict.decided_by == "model" and verdict.words:
        return "the words that weighed most: " + ", ".join(f'"{w}"' for w in verdict.words[:4])
    return ""


def _unclear(knowledge: Knowledge, verdict: Verdict) -> Reply:
    if verdict.reason in _REJECTED:
        return Reply("unclear", _REJECTED[verdict.reason], notices=verdict.notices)
    tech = knowledge.categories.get("technical")
    soc = knowledge.categories.get("societal")
    framing = ""
    if tech and soc:
        framing = (
            f'"AI safety" can mean two different things. {tech.title}: {tech.framing} '
            f"{soc.title}: {soc.framing}"
        )
    why = _why(verdict) or ("I didn't find anything in it that points to either kind of AI-safety concern.",)
    return Reply(
        category="unclear",
        headline="I can't place this as a technical or a societal AI-safety concern yet",
        why=why,
        framing=framing,
        questions=(PLACING_QUESTION,),
        readings=_links(knowledge, verdict.readings)[:1],
        notices=verdict.notices,
        confidence=verdict.confidence,
        gist=_gist(knowledge, verdict) or why[0],
    )


def _why(verdict: Verdict) -> tuple[str, ...]:
    """The rule hits that supported the call, then what the learned part saw: the words that
    pushed it most and the closest curated example, so a person can check the reasoning."""
    lines = []
    for s in verdict.reasons[:MAX_WHY]:
        marks = [m for m, on in (("negated", s.negated), ("hedged", s.hedged), ("read past a typo", s.fuzzy)) if on]
        mark = f" [{', '.join(marks)}]" if marks else ""
        lines.append(f'"{s.span}": {s.concept} ({s.category}){mark}')
    if verdict.decided_by == "model" and verdict.category != "unclear":
        if verdict.words:
            lines.append("words that weighed most: " + ", ".join(f'"{w}"' for w in verdict.words))
        if verdict.closest:
            text, label = verdict.closest
            text = " ".join(" ".join(line.lstrip("> ") for line in text.splitlines()).split())  # one line, no quote marks
            short = text if len(text) <= 120 else text[:117].rstrip() + "..."
            lines.append(f'closest known case: "{short}" -> {label}')
    return tuple(lines)


def _links(knowledge: Knowledge, reading_ids) -> tuple[Link, ...]:
    return tuple(Link(knowledge.readings[r].title, knowledge.readings[r].url) for r in reading_ids[:MAX_READINGS])


def _confidence_words(confidence: float) -> str:
    return f"{confidence_band(confidence)} confidence"
