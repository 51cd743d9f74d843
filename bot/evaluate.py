"""`triage-bot eval`: how good is the decision, in the terms a moderator can act on.

Per-class precision/recall/F1, macro-F1 and a confusion matrix say *how much* is wrong;
the ablation (rules only, learned part only, combined) says *which part* to improve; the
reliability table says whether "high confidence" can be believed; the misclassified
messages with the signals that fired say *which concept* to fix.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .classify import triage_features
from .knowledge import Knowledge
from .model import expected_calibration_error
from .verdict import Verdict, confidence_band
from .vocabulary import LABELS

ABLATION = ("rules only", "learned part only", "combined")


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
    learned_only: list[str] = field(default_factory=list)  # stage 1's call per item, if a model

    def confusion(self, predicted: list[str] | None = None) -> dict[str, dict[str, int]]:
        matrix = {a: {p: 0 for p in LABELS} for a in LABELS}
        got = predicted if predicted is not None else [v.category for _, v in self.items]
        for (item, _), label in zip(self.items, got):
            matrix[item.label][label] += 1
        return matrix

    def ablation(self) -> dict[str, list[str]]:
        """Each part's calls on the same items: what the rules and the learned part add."""
        out = {"rules only": [v.rules_category or v.category for _, v in self.items]}
        if self.learned_only:
            out["learned part only"] = self.learned_only
        out["combined"] = [v.category for _, v in self.items]
        return out

    def unclear_rate(self, predicted: list[str] | None = None) -> float:
        """The share of real concerns (labelled technical/societal/both) called unclear."""
        got = predicted if predicted is not None else [v.category for _, v in self.items]
        real = [g for (i, _), g in zip(self.items, got) if i.label != "unclear"]
        return sum(1 for g in real if g == "unclear") / len(real) if real else 0.0

    def calibration(self) -> tuple[float, list[dict], dict[str, tuple[int, float]]]:
        """ECE, the reliability table, and per confidence word (n, share right)."""
        conf = [v.confidence for _, v in self.items if v.reason not in ("empty", "binary")]
        right = [v.category == i.label for i, v in self.items if v.reason not in ("empty", "binary")]
        ece, table = expected_calibration_error(conf, right)
        bands: dict[str, list[bool]] = {}
        for c, r in zip(conf, right):
            bands.setdefault(confidence_band(c), []).append(r)
        return ece, table, {b: (len(rs), sum(rs) / len(rs)) for b, rs in bands.items()}

    def per_class(self, predicted: list[str] | None = None) -> dict[str, tuple[float, float, float, int]]:
        m = self.confusion(predicted)
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

    def macro_f1(self, predicted: list[str] | None = None) -> float:
        scores = [f for (_, _, f, support) in self.per_class(predicted).values() if support]
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
            "unclear_rate": round(self.unclear_rate(), 4),
            "ablation": {
                name: {"macro_f1": round(self.macro_f1(got), 4), "unclear_rate": round(self.unclear_rate(got), 4)}
                for name, got in self.ablation().items()
            },
            "calibration": _calibration_dict(self),
        }


def _calibration_dict(result: EvalResult) -> dict:
    ece, table, bands = result.calibration()
    return {
        "ece": round(ece, 4),
        "reliability": [{**row, "confidence": round(row["confidence"], 4), "accuracy": round(row["accuracy"], 4)} for row in table],
        "bands": {b: {"n": n, "accuracy": round(a, 4)} for b, (n, a) in bands.items()},
    }


def read_labeled(path: Path) -> tuple[list[Labeled], list[str]]:
    """JSON Lines (`text`, `label`, optional `id`, `pitfall`) or a knowledge examples YAML file."""
    if path.suffix in (".yaml", ".yml"):
        from .reader import Reader as _Reader

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
    model = knowledge.model
    for n, item in enumerate(items, 1):
        verdict, f = triage_features(knowledge, item.text, explain=False)
        result.items.append((item, verdict))
        if model:
            result.learned_only.append(LABELS[int(np.argmax(model.text_probabilities(f)))] if f else "unclear")
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
    lines.append(f"real concerns called unclear: {result.unclear_rate():.1%}")
    lines.append("")
    lines.append(f"ablation{'':16}{'macro-F1':>10}{'unclear':>10}  (unclear: share of real concerns)")
    for name, got in result.ablation().items():
        lines.append(f"  {name:22}{result.macro_f1(got):10.3f}{result.unclear_rate(got):10.1%}")
    ece, table, bands = result.calibration()
    lines.append("")
    lines.append(f"calibration: expected calibration error {ece:.3f}")
    lines.append(f"  {'confidence':12}{'n':>6}{'mean conf':>11}{'right':>8}")
    for row in table:
        lines.append(f"  {row['bin']:12}{row['n']:6d}{row['confidence']:11.3f}{row['accuracy']:8.1%}")
    for band in ("high", "medium", "low"):
        if band in bands:
            n, acc = bands[band]
            lines.append(f"  '{band} confidence': {n} calls, {acc:.1%} right")
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
