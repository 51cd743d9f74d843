"""Would more examples of the same kind get the cross-validated figure to 0.95? A developer's
measurement, never run by the bot or CI (a few minutes).

Trains the shipped recipe on thinned copies of the knowledge (the first 25%, 50%, 75% of every
examples file, as `triage-bot bench` thins it for its load + train figure) and on all of it,
each in a fresh model cache, and prints each one's 5-fold cross-validated macro-F1:

    .venv/bin/python bench/learning_curve.py
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from bot.bench_decision import thinned
    from bot.knowledge import load_knowledge

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRIAGE_MODEL_CACHE"] = str(Path(tmp) / "cache")  # nothing read from an earlier fit
        full, problems = load_knowledge(ROOT / "knowledge")
        if full is None:
            print(*problems, sep="\n")
            return 1
        for share in (0.25, 0.5, 0.75, 1.0):
            source = ROOT / "knowledge"
            if share < 1.0:
                source = thinned(source, Path(tmp) / f"k{share}", round(len(full.examples) * share))
            knowledge, problems = load_knowledge(source)
            if knowledge is None or knowledge.model is None:
                print(f"{share:.0%}: no learned decision", *problems, sep="\n")
                return 1
            meta = knowledge.model.meta
            print(f"{share:4.0%} of the examples ({meta['examples']}): cross-validated macro-F1 {meta['cv_macro_f1']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
