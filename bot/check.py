"""`triage-bot knowledge check`: everything a moderator needs to hear before a reload.

Loading already reports hard errors (schema, references, YAML). This adds the warnings
that make a rule base drift (the same phrase pulling two ways, near-duplicates) and reports
how well the decision learned from the examples does on examples it did not see (5-fold
cross-validation): the examples are training data now, so "the rules get every example
right" is no longer the test; a cross-validated figure below the knowledge's floor is.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .classify import triage
from .knowledge import Knowledge, Phrase, load_knowledge
from .yamlfile import gc_paused
from .normalise import GAP
from .yamlfile import Problem

_NEAR_MIN = 6  # shorter phrases are too often legitimately one letter apart


@dataclass
class CheckReport:
    knowledge: Knowledge | None
    problems: list[Problem] = field(default_factory=list)
    examples_run: int = 0
    examples_failed: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check(directory: Path) -> CheckReport:
    """`knowledge check`: the gate below, plus the warnings that never refuse anything."""
    report = validate(directory)
    if report.knowledge is not None:
        with gc_paused():
            report.problems.extend(phrase_warnings(report.knowledge))
    return report


def validate(directory: Path) -> CheckReport:
    """The one gate for knowledge: what `knowledge check` refuses, a start-up or a live
    reload refuses too, whatever the set of errors becomes: refused unless `report.ok`."""
    knowledge, problems = load_knowledge(directory)
    report = CheckReport(knowledge, list(problems))
    if knowledge is None:
        return report
    for example in knowledge.examples:
        report.examples_run += 1
        failure = example_failure(knowledge, example)
        if failure:
            report.examples_failed += 1
            file, _, line = example.source.rpartition(":")
            report.problems.append(Problem(file, int(line), failure))
    cv = knowledge.model.meta.get("cv_macro_f1") if knowledge.model is not None else None
    floor = knowledge.scoring.cv_floor
    if cv is not None and cv < floor:
        report.problems.append(
            Problem(str(directory), 0, f"cross-validated macro-F1 {cv:.3f} is below the floor {floor:.3f} (scoring.cv_floor)")
        )
    return report


def example_failure(knowledge: Knowledge, example) -> str:
    """Only what an example promises about the rules themselves: `no_signals: true` marks a
    message no rule may fire on (a known false friend). Labels are training data."""
    if not example.no_signals:
        return ""
    verdict = triage(knowledge, example.text, explain=False)
    if verdict.signals:
        fired = ", ".join(f"{s.rule_id}({s.span})" for s in verdict.signals)
        return f"example should fire no rule, but fired: {fired}"
    return ""


def phrase_warnings(knowledge: Knowledge) -> list[Problem]:
    """Same phrase in two categories, a phrase listed twice, near-duplicates that look like typos."""
    owners: dict[tuple[str, ...], list[tuple[Phrase, str, str]]] = defaultdict(list)
    for rule in knowledge.rules:
        for phrase in rule.phrases:
            owners[phrase.key].append((phrase, rule.id, rule.category))
    out: list[Problem] = []

    def warn(phrase: Phrase, message: str) -> None:
        file, _, line = phrase.source.rpartition(":")
        out.append(Problem(file, int(line), message, "warning"))

    # Only what a moderator would act on: a phrase pulling two ways (two categories), or the
    # very same text twice in one rule. Retired as noise: inflections of one phrase in one
    # rule ("rely on"/"relies on" match the same words, and read better listed), a phrase
    # shared by two rules of one category (the learned decision weighs the rules itself), and
    # a phrase inside another category's longer phrase (the longer one wins, by design).
    for key, users in owners.items():
        first, first_rule, first_cat = users[0]
        for phrase, rule_id, category in users[1:]:
            if category != first_cat:
                warn(phrase, f"phrase '{phrase.text}' is in two categories: {category} (rule {rule_id}) and {first_cat} (rule {first_rule} at {first.source})")
            elif rule_id == first_rule and _same_text(phrase.text, first.text):
                warn(phrase, f"phrase '{phrase.text}' is listed twice in rule {rule_id} (first at {first.source})")

    # Near-duplicates: the same phrase but for one long word one typing slip away, which is
    # usually a typo. (Spelling variants such as "labour"/"labor" are legitimate; the message
    # says so.) A single edit cannot touch both the first and the last three letters, so only
    # phrases sharing one of those are compared.
    flats: dict[str, tuple[str, ...]] = {}
    buckets: dict[str, list[str]] = defaultdict(list)
    for key in owners:
        flat = "".join(key)
        if GAP in key or len(flat) < _NEAR_MIN or flat in flats:
            continue
        flats[flat] = key
        buckets["<" + flat[:3]].append(flat)
        buckets[">" + flat[-3:]].append(flat)
    reported: set[frozenset] = set()
    for bucket in buckets.values():
        for i, flat in enumerate(bucket[:-1]):
            for other, _, _ in process.extract(flat, bucket[i + 1 :], scorer=OSA.distance, score_cutoff=1, limit=None):
                pair = frozenset((flat, other))
                if pair in reported or not _one_word_slip(flats[flat], flats[other]):
                    continue
                reported.add(pair)
                a, b = owners[flats[other]][0][0], owners[flats[flat]][0][0]
                if _both_real_words(a.text, b.text):  # "artists"/"autistic", "diagnosed"/"diagnosis"
                    continue
                warn(a, f"phrase '{a.text}' is one letter away from '{b.text}' ({b.source}): a typo? "
                        "If both spellings are in real use, keep both")
    return out


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _both_real_words(a: str, b: str) -> bool:
    """Both differing words are English words: two words, not a typo of one."""
    from .matcher import english_words

    words = english_words()
    wa, wb = (re.findall(r"[a-z']+", t.lower()) for t in (a, b))
    differing = [(x, y) for x, y in zip(wa, wb) if x != y] if len(wa) == len(wb) else []

    def real(w: str) -> bool:
        return "'" in w or any(v in words for v in (w, _us(w), w.removesuffix("s"), w.removesuffix("es"), w.removesuffix("d")))

    # Stems one letter apart can be words several letters apart ("stammer"/"scammers"): as
    # written, a slip of the keyboard changes one letter.
    return bool(differing) and all(
        _us(x) == _us(y) or (real(x) and real(y)) or OSA.distance(x, y) > 1 for x, y in differing
    )


def _us(word: str) -> str:
    """British spellings in American form, so "neighbourhoods"/"neighborhoods" and
    "subsidised"/"subsidized" count as one word spelt two accepted ways."""
    return re.sub(r"is(e|ed|es|ing|ation)$", r"iz\1", word.replace("our", "or"))


def _one_word_slip(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Same words but one, and that one long enough that one edit is likely a slip of the
    keyboard rather than a different word ("hid"/"hide", "lose"/"lost")."""
    if len(a) != len(b):
        return False
    differing = [(x, y) for x, y in zip(a, b) if x != y]
    return len(differing) == 1 and min(len(differing[0][0]), len(differing[0][1])) >= _NEAR_MIN


def format_report(report: CheckReport, directory: Path, quiet: bool = False, misses: int = 0) -> str:
    """The report as `knowledge check` prints it; `misses`: also list that many of the
    examples the decision calls wrong out of fold, most confident first."""
    shown = report.errors if quiet else report.problems
    lines = [str(p) for p in sorted(shown, key=lambda p: (p.level != "error", p.file, p.line))]
    k = report.knowledge
    if k is None:
        lines.append(f"{directory}: {len(report.errors)} error(s); the knowledge was not loaded")
    else:
        lines.append(
            f"{directory}: {len(k.files)} files, {len(k.rules)} rules, {k.phrase_count} phrases, "
            f"{len(k.pitfall_rules)} pitfall rules, {len(k.readings)} readings (version {k.version})"
        )
        lines.append(_decision_line(k))
        if not quiet and k.model is not None and k.model.meta.get("cv_by_file"):
            lines.append("  called right out of fold, by file: " + ", ".join(
                f"{f} {acc:.1%} of {n}" + (f" (macro-F1 {f1:.3f})" if f1 is not None else "")
                for f, (n, acc, f1) in k.model.meta["cv_by_file"].items()
            ))
        if misses > 0:
            lines.extend(_miss_lines(k, misses))
        lines.append(
            f"examples: {report.examples_run}, {report.examples_failed} failing their checks; "
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
    return "\n".join(lines)


def _miss_lines(k: Knowledge, limit: int) -> list[str]:
    """A confident miss is most often an example labeled against the label definitions, or a
    concept the examples teach two ways; a hesitant one, a case on the line."""
    found = k.model.meta.get("cv_misses") if k.model is not None else None
    if found is None:
        return ["  out-of-fold misses: none recorded (no learned decision)"]
    texts = {e.source: e.text for e in k.examples}
    lines = [f"  out-of-fold misses, most confident first ({min(limit, len(found))} of {len(found)}):"]
    for source, label, called, confidence in found[:limit]:
        text = " ".join(texts.get(source, "").split())
        text = text if len(text) <= 100 else text[:99] + "…"
        lines.append(f"    {source}: labeled {label}, called {called} ({confidence:.2f}): {text!r}")
    return lines


def _decision_line(k: Knowledge) -> str:
    if k.model is None:
        return f"decision: {k.model_note or 'rules only'}"
    m = k.model.meta
    encoder = ""
    if m.get("encoder") == "transformer":
        known = m.get("transformer_out_of_fold") or 0
        encoder = (f", with the fine-tuned transformer ({known} out of fold, "
                   f"{m.get('examples', known) - known} new since it was tuned)")  # fmt: skip
    return (
        f"decision: learned from {m.get('examples', '?')} examples{encoder}; cross-validated macro-F1 "
        f"{m.get('cv_macro_f1', float('nan')):.3f} (learned part alone {m.get('cv_macro_f1_text', float('nan')):.3f}, "
        f"rules alone in-sample {m.get('macro_f1_rules', float('nan')):.3f}; floor {k.scoring.cv_floor:.2f})"
    )
