"""The learned decision's part of `triage-bot bench`: realistic posts, each part's cost,
the rules-only path and the naive baseline in the same run, and load + train times.

Realistic posts are the blind set's texts of 80-150 characters, each triaged once (no
per-message cache can help); the word caches are warmed first on the bench's generated
messages, as a bot that has been running a while would have them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from . import modelcache
from .timings import naive_baseline, summary
from .classify import decide, triage
from .embedding import shared as shared_embedding
from .features import Features, ngrams
from .knowledge import Knowledge, load_knowledge
from .normalise import prepare, tokenize
from .rules import evidence
from .transformer import active as active_transformer

BLIND = Path(__file__).resolve().parent.parent / "tests" / "blind" / "blind.jsonl"


def realistic_posts(path: Path = BLIND, lo: int = 80, hi: int = 150) -> list[str]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows if lo <= len(r["text"]) <= hi]


def rules_path(knowledge: Knowledge, text: str):
    """What triage did before the learned decision: normalise, match, weigh the rules."""
    prepared = prepare(text)
    tokens = tokenize(prepared.text)
    return evidence(knowledge, tokens, knowledge.matcher.match(tokens))


def _times(fn, items) -> tuple[list[float], float]:
    """Per-item timings in microseconds, each item once, and the wall time of the pass."""
    times = []
    start = time.perf_counter()
    for item in items:
        t0 = time.perf_counter_ns()
        fn(item)
        times.append((time.perf_counter_ns() - t0) / 1000.0)
    return times, time.perf_counter() - start


def parts(knowledge: Knowledge, posts: list[str]) -> dict:
    """The median cost of each step of the flow on the same posts."""
    tokens = [tokenize(prepare(p).text) for p in posts]
    matches = [knowledge.matcher.match(t) for t in tokens]
    evs = [evidence(knowledge, t, m) for t, m in zip(tokens, matches)]
    emb = shared_embedding()
    encoder = active_transformer()  # accurate mode: its forward pass is a part of its own
    tuned = [tuple(encoder.logits(prepare(p).text).tolist()) if encoder else None for p in posts]
    feats = [Features(t, e, ngrams(t), emb.encode_words(t.words), v) for t, e, v in zip(tokens, evs, tuned)]

    def med(fn, items) -> float:
        return summary(_times(fn, items)[0])["median_us"]

    out = {
        "normalise_tokenize_us": med(lambda p: tokenize(prepare(p).text), posts),
        "match_us": med(knowledge.matcher.match, tokens),
        "rule_evidence_us": med(lambda tm: evidence(knowledge, *tm), list(zip(tokens, matches))),
        "embedding_us": med(lambda t: emb.encode_words(t.words), tokens),
        "ngrams_us": med(ngrams, tokens),
    }
    if encoder is not None:
        out["transformer_us"] = med(lambda p: encoder.logits(prepare(p).text), posts)
    if knowledge.model is not None:
        out["decision_us"] = med(lambda f: decide(knowledge, f, explain=False), feats)
        out["decision_with_explanation_us"] = med(lambda f: decide(knowledge, f, explain=True), feats)
    return out


def load_and_train(knowledge_dir: Path) -> dict:
    """Cold: an empty model cache, so the examples are featurised and the model fitted.
    Cached: the same knowledge again with only the on-disk cache (the in-process memo
    cleared), i.e. what a restart costs."""
    saved = os.environ.get("TRIAGE_MODEL_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRIAGE_MODEL_CACHE"] = tmp
        try:
            modelcache._memo.clear()
            t0 = time.perf_counter()
            cold, _ = load_knowledge(knowledge_dir)
            cold_s = time.perf_counter() - t0
            modelcache._memo.clear()
            t0 = time.perf_counter()
            load_knowledge(knowledge_dir)
            cached_s = time.perf_counter() - t0
        finally:
            if saved is None:
                os.environ.pop("TRIAGE_MODEL_CACHE", None)
            else:
                os.environ["TRIAGE_MODEL_CACHE"] = saved
            modelcache._memo.clear()
    meta = cold.model.meta if cold is not None and cold.model is not None else {}
    return {
        "examples": len(cold.examples) if cold else 0,
        "cold_load_train_s": round(cold_s, 3),
        "fit_s": meta.get("seconds_total"),
        "cached_load_s": round(cached_s, 3),
    }


def thinned(knowledge_dir: Path, target: Path, keep: int) -> Path:
    """A copy of the knowledge with about `keep` of its examples (the first share of each
    examples file), so load + train is measured at the size the targets name."""
    shutil.copytree(knowledge_dir, target)
    files = [p for p in sorted(target.rglob("*.yaml")) if p.name.startswith(("examples", "corpus"))]
    docs = {p: yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in files}
    total = sum(len(d.get("examples") or []) for d in docs.values())
    share = min(1.0, keep / total) if total else 1.0
    for p, d in docs.items():
        rows = d.get("examples") or []
        d["examples"] = rows[: round(len(rows) * share)]
        p.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def run(knowledge: Knowledge, knowledge_dir: Path, warm: list[str], quick: bool) -> dict:
    posts = realistic_posts()
    if not posts:
        return {"error": f"no realistic posts at {BLIND}"}
    if quick:
        posts = posts[:100]
    for m in warm:
        triage(knowledge, m)
    half = len(posts) // 2
    # Each post is seen once per path: the two halves go to the two paths in turn, so no
    # path profits from the other's caches on the same text.
    passes = {"combined": [], "rules_only": []}
    for name, fn, part in (
        ("combined", lambda p: triage(knowledge, p), posts[:half]),
        ("rules_only", lambda p: rules_path(knowledge, p), posts[half:]),
        ("combined", lambda p: triage(knowledge, p), posts[half:]),
        ("rules_only", lambda p: rules_path(knowledge, p), posts[:half]),
    ):
        passes[name].append(_times(fn, part))
    result = {"posts": len(posts)}
    for name, runs in passes.items():
        result[name] = summary([t for times, _ in runs for t in times], sum(total for _, total in runs))
    return {
        **result,
        "naive_partial_ratio": naive_baseline(knowledge, posts[:30]),
        "parts": parts(knowledge, posts),
        "load_train_3000": _load_and_train_thinned(knowledge_dir, 3000),
        "load_train": load_and_train(knowledge_dir),
    }


_FRESH = """
import json, sys, time
from pathlib import Path
from bot.knowledge import load_knowledge
t0 = time.perf_counter()
knowledge, _ = load_knowledge(Path(sys.argv[1]))
print(json.dumps({"s": time.perf_counter() - t0, "examples": len(knowledge.examples)}))
"""


def cold_in_a_fresh_process(knowledge_dir: Path) -> float:
    """Load + train with an empty cache in a new process, the clock started after the
    project's own modules are imported: what the first start of a new knowledge costs,
    the trainer's imports (scipy) included, whatever this process has imported already."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRIAGE_MODEL_CACHE": tmp}
        out = subprocess.run([sys.executable, "-c", _FRESH, str(knowledge_dir)], capture_output=True, text=True,
                             env=env, cwd=Path(__file__).resolve().parent.parent, timeout=300, check=True)  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])["s"]


def _load_and_train_thinned(knowledge_dir: Path, keep: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        thin = thinned(knowledge_dir, Path(tmp) / "knowledge", keep)
        return {**load_and_train(thin), "cold_fresh_process_s": round(cold_in_a_fresh_process(thin), 3)}


def format_rows(d: dict) -> list[tuple[str, str]]:
    if "error" in d:
        return [("learned decision", f"not measured: {d['error']}")]

    def lat(x: dict) -> str:
        return f"median {x['median_us']:.0f} us, p99 {x['p99_us']:.0f} us ({x['messages']} posts)"

    p = d["parts"]

    def load(lt: dict) -> tuple[str, str]:
        return (
            f"load + train, {lt['examples']} examples",
            f"cold {lt['cold_load_train_s']:.2f} s (fit {lt['fit_s']} s)"
            + (f", in a fresh process {lt['cold_fresh_process_s']:.2f} s" if "cold_fresh_process_s" in lt else "")
            + f", from cache {lt['cached_load_s']:.2f} s",
        )

    rows = [
        (f"realistic posts (blind set, 80-150 chars, {d['posts']}, each once)", ""),
        ("  whole decision (rules + learned + why)", lat(d["combined"])),
        ("  rules-only path, same posts", lat(d["rules_only"])),
        ("  naive partial_ratio loop, same posts", lat(d["naive_partial_ratio"])),
        ("  parts (median us)", ", ".join(f"{k[:-3]} {v:.0f}" for k, v in p.items())),
        load(d["load_train_3000"]),
        load(d["load_train"]),
    ]
    return rows
