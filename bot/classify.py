"""The whole flow for one message: text -> normalise -> features -> decision -> Verdict.

The learned decision (bot/model.py) makes the call from the rules' evidence, the words and
the embedding together. When the knowledge has too few examples to learn from (a fresh or
test knowledge directory), the rules decide alone, as they did before there was a model;
the Verdict says which ("decided_by"), and `triage-bot eval` compares the two.
"""
from __future__ import annotations

from .features import Features, extract
from .knowledge import Knowledge
from .normalise import prepare, tokenize
from .verdict import Verdict


def triage(knowledge: Knowledge, text: str | bytes, explain: bool = True) -> Verdict:
    return triage_features(knowledge, text, explain)[0]


def triage_features(knowledge: Knowledge, text: str | bytes, explain: bool = True) -> tuple[Verdict, Features | None]:
    """The verdict and the features it was decided from (None for text refused as empty or
    binary), for callers that look inside the decision, like `eval`'s ablation."""
    prepared = prepare(text)
    if prepared.rejected:
        return Verdict("unclear", 1.0, notices=prepared.notices, reason=prepared.rejected), None
    f = extract(knowledge, tokenize(prepared.text), prepared.text)
    return decide(knowledge, f, prepared.notices, explain), f


def decide(knowledge: Knowledge, f: Features, notices: tuple[str, ...] = (), explain: bool = True) -> Verdict:
    ev = f.rules
    model = knowledge.model
    if model is None:
        category, confidence, pitfalls, reasons = ev.category, ev.confidence, ev.pitfalls, ev.signals
        extra: dict = {"decided_by": "rules"}
        reason = ev.reason
    else:
        d = model.decide(f, knowledge, explain)
        category, confidence, pitfalls, reasons = d.category, d.confidence, d.pitfalls, d.reasons
        extra = {
            "decided_by": "model",
            "probabilities": {k: round(v, 4) for k, v in d.probabilities.items()},
            "words": d.words,
            "closest": d.closest,
        }
        reason = ("abstained" if d.abstained else "model") if category == "unclear" else ""
    topic_weight: dict[str, float] = {}
    if category != "unclear":
        for s in reasons:
            for rank, t in enumerate(s.topics):  # a rule lists its main topic first
                topic_weight[t] = topic_weight.get(t, 0.0) + s.weight / (1 + rank)
    topics = tuple(sorted(topic_weight, key=lambda t: (-topic_weight[t], t)))
    return Verdict(
        category, round(confidence, 3), ev.signals, topics, pitfalls,
        _readings(knowledge, category, topics, pitfalls),
        {k: round(v, 3) for k, v in ev.scores.items()}, notices, reason,
        reasons=reasons, rules_category=ev.category, **extra,
    )  # fmt: skip


def _readings(knowledge: Knowledge, category: str, topics, pitfalls) -> tuple[str, ...]:
    key = ("readings", category, topics, pitfalls)
    found = knowledge.memo.get(key)
    if found is None:
        if len(knowledge.memo) >= _MEMO_CAP:
            knowledge.memo.clear()
        found = knowledge.memo[key] = _work_out_readings(knowledge, category, topics, pitfalls)
    return found


_MEMO_CAP = 10_000  # distinct (category, topics, pitfalls) seen; a handful of hundreds in practice


def _work_out_readings(knowledge: Knowledge, category: str, topics, pitfalls) -> tuple[str, ...]:
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
