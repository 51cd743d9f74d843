"""`triage-bot eval`: how good is the rule base, in the terms a moderator can act on.

Per-class precision/recall/F1, macro-F1 and a confusion matrix say *how much* is wrong;
the list of misclassified messages with the signals that fired says *which rule* to fix.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .classify import triage
from .knowledge import Knowledge
from .verdict import LABELS, Verdict


@dataclass(frozen=True)
class Labeled:
    id: str
    text: str
    label: str
    pitfall: str | None = None


@dataclass
class EvalResult:
    items: list[tuple[Labeled, Verdict]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)

    def confusion(self) -> dict[str, dict[str, int]]:
        matrix = {a: {p: 0 for p in LABELS} for a in LABELS}
        for item, verdict in self.items:
            matrix[item.label][verdict.category] += 1
        return matrix

    def per_class(self) -> dict[str, tuple[float, float, float, int]]:
        m = self.confusion()
        out = {}
        for label in LABELS:
            tp = m[label][label]
            predicted = sum(m[a][label] for a in LABELS)
            support = sum(m[label].values())
            p = tp / predicted if predicted else 0.0
            r = tp / support if support else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            out[label] = (p, r, f, support)
        return out

    def macro_f1(self) -> float:
        scores = [f for (_, _, f, support) in self.per_class().values() if support]
        return sum(scores) / len(scores) if scores else 0.0

    def accuracy(self) -> float:
        return sum(1 for i, v in self.items if v.category == i.label) / len(self.items) if self.items else 0.0

    def pitfall_hits(self) -> tuple[int, int, int]:
        """(expected pitfalls detected, expected pitfalls, detections on items expecting none)."""
        expected = [(i, v) for i, v in self.items if i.pitfall]
        hit = sum(1 for i, v in expected if i.pitfall in v.pitfalls)
        spurious = sum(1 for i, v in self.items if not i.pitfall and v.pitfalls)
        return hit, len(expected), spurious

    def to_dict(self) -> dict:
        hit, expected, spurious = self.pitfall_hits()
        return {
            "count": len(self.items),
            "accuracy": round(self.accuracy(), 4),
            "macro_f1": round(self.macro_f1(), 4),
            "per_class": {
                k: {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": s}
                for k, (p, r, f, s) in self.per_class().items()
            },
            "confusion": self.confusion(),
            "pitfalls": {"detected": hit, "expected": expected, "spurious": spurious},
            "misclassified": [
                {"id": i.id, "label": i.label, "got": v.category, "signals": [s.rule_id for s in v.signals]}
                for i, v in self.items
                if v.category != i.label
            ],
            "bad_lines": self.bad_lines,
        }


def read_labeled(path: Path) -> tuple[list[Labeled], list[str]]:
    """JSON Lines (`text`, `label`, optional `id`, `pitfall`) or a knowledge examples YAML file."""
    if path.suffix in (".yaml", ".yml"):
        from .knowledge import _Reader

        reader = _Reader(path.parent)
        reader.read_file(path)
        problems = [str(p) for p in reader.problems if p.level == "error"]
        items = [Labeled(e.source, e.text, e.label, e.pitfall) for e in reader.examples if e.label and e.text]
        return items, problems
    items: list[Labeled] = []
    bad: list[str] = []
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                text, label = obj["text"], obj["label"]
                if not isinstance(text, str) or label not in LABELS:
                    raise ValueError(f"label must be one of {', '.join(LABELS)}")
                items.append(Labeled(str(obj.get("id", n)), text, label, obj.get("pitfall")))
            except (ValueError, KeyError, TypeError) as exc:
                bad.append(f"{path}:{n}: skipped: {exc.__class__.__name__}: {exc}")
    return items, bad


def evaluate(knowledge: Knowledge, items: list[Labeled], progress=None) -> EvalResult:
    result = EvalResult()
    for n, item in enumerate(items, 1):
        result.items.append((item, triage(knowledge, item.text)))
        if progress:
            progress(n, len(items))
    return result


def progress_bar(stream=sys.stderr, width: int = 30):
    """Redrawn in place on a terminal; elsewhere (logs, CI) only the final line is written."""
    live = stream.isatty()

    def show(done: int, total: int) -> None:
        if (live and done % max(1, total // 100) == 0) or done == total:
            filled = width * done // total
            start = "\r" if live else ""
            stream.write(f"{start}[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            if done == total:
                stream.write("\n")
            stream.flush()

    return show


def format_result(result: EvalResult, show_errors: int = 50) -> str:
    lines = []
    per = result.per_class()
    lines.append(f"{'':12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label in LABELS:
        p, r, f, s = per[label]
        lines.append(f"{label:12}{p:10.3f}{r:10.3f}{f:10.3f}{s:10d}")
    lines.append(f"{'macro-F1':12}{'':20}{result.macro_f1():10.3f}{len(result.items):10d}")
    lines.append(f"{'accuracy':12}{'':20}{result.accuracy():10.3f}")
    lines.append("")
    lines.append("confusion matrix (rows: expected, columns: predicted)")
    m = result.confusion()
    lines.append(f"{'':12}" + "".join(f"{p:>11}" for p in LABELS))
    for a in LABELS:
        lines.append(f"{a:12}" + "".join(f"{m[a][p]:11d}" for p in LABELS))
    hit, expected, spurious = result.pitfall_hits()
    lines.append("")
    lines.append(f"pitfalls: {hit}/{expected} expected detected, {spurious} detected where none was labelled")
    wrong = [(i, v) for i, v in result.items if v.category != i.label or (i.pitfall and i.pitfall not in v.pitfalls)]
    if wrong:
        lines.append("")
        lines.append(f"misclassified ({len(wrong)}):")
        for item, verdict in wrong[:show_errors]:
            fired = ", ".join(f"{s.rule_id}:{s.span!r}:{s.weight:.2f}" for s in verdict.signals) or "no signals"
            extra = f", pitfall {item.pitfall} -> {list(verdict.pitfalls)}" if item.pitfall else ""
            lines.append(f"  [{item.id}] expected {item.label}, got {verdict.category}{extra}: {item.text[:100]!r}")
            lines.append(f"      signals: {fired}")
        if len(wrong) > show_errors:
            lines.append(f"  ... and {len(wrong) - show_errors} more")
    for bad in result.bad_lines:
        lines.append(bad)
    return "\n".join(lines)
