"""How far are the examples' labels from a careful human reading, and how far is the decision?
A developer's measurement, never run by the bot or CI.

`bench/label-audit.jsonl` holds 806 examples (all 326 older ones and 480 drawn at random from
the corpus slices, seed 7) relabeled on 2026-12-01 by a third annotator: two helpers who saw
only the label definitions and the essays (never the rules, the model, the other labels or the
decision's calls). Each line: `id`, `text`, `third_label`, `third_pitfall`.

    .venv/bin/python bench/label_audit.py

prints, for the older examples and for the corpus sample: how often the third reading agrees
with the example's label (and its macro-F1 against it), the decision's out-of-fold macro-F1 on
the same examples (from `knowledge check`'s model), and, on the examples the decision misses,
whom the third reading sides with. If the third reader agrees with the labels far more often
than the decision does, the decision's misses are the model's, not the labels'.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge  # noqa: E402
from bot.train import _macro_f1  # noqa: E402
from bot.vocabulary import LABELS  # noqa: E402


def main() -> int:
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    if knowledge is None or knowledge.model is None:
        print("the knowledge has no learned decision:", *problems, sep="\n")
        return 1
    by_text = {e.text: e for e in knowledge.examples}
    missed = {source: called for source, _, called, _ in knowledge.model.meta["cv_misses"]}
    groups: dict[str, list[tuple[int, int, int]]] = {"older examples": [], "corpus sample": []}
    unmatched = 0
    for line in (ROOT / "bench" / "label-audit.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        example = by_text.get(row["text"])
        if example is None or example.label not in LABELS:
            unmatched += 1  # edited or removed since the audit
            continue
        label = LABELS.index(example.label)
        called = LABELS.index(missed.get(example.source, example.label))
        group = "corpus sample" if "/corpus-" in example.source else "older examples"
        groups[group].append((label, LABELS.index(row["third_label"]), called))
    for name, rows in groups.items():
        if not rows:
            continue
        label, third, called = (np.asarray(c) for c in zip(*rows))
        wrong = called != label
        print(
            f"{name} ({len(rows)}): third reading agrees with the label {np.mean(third == label):.1%} "
            f"(macro-F1 {_macro_f1(label, third):.3f}); the decision out of fold {np.mean(called == label):.1%} "
            f"(macro-F1 {_macro_f1(label, called):.3f})"
        )
        if wrong.any():
            print(
                f"  on the {int(wrong.sum())} the decision misses, the third reading sides with the label "
                f"{np.mean(third[wrong] == label[wrong]):.0%}, with the decision {np.mean(third[wrong] == called[wrong]):.0%}"
            )
    if unmatched:
        print(f"({unmatched} audited texts are no longer among the examples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
