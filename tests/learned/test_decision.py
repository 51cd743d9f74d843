"""The learned decision as a moderator and a user meet it: examples are data, training is
reproducible and cached safely, reasons are only the rule hits that really support a call."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from bot import modelcache
from bot.classify import triage
from bot.knowledge import load_knowledge
from bot.neighbours import CANDIDATES
from bot.reload import KnowledgeHolder
from tests.conftest import REPO

# Small, learnable examples: each label has its own vocabulary, none of which the mini rules know.
VOCAB = {
    "technical": ["the parser crashes on", "the classifier mislabels", "the agent deleted", "the model invents"],
    "societal": ["the union was never consulted about", "tenants lost their say over", "the council decided without", "workers bear the cost of"],
    "both": ["the scoring model is biased and nobody can appeal", "the opaque model denies loans and no one answers for", "the vision model fails on dark skin and police still use", "the untested model decides benefits and nobody can contest"],
    "unclear": ["lunch is at noon near", "the printer jammed next to", "good morning from", "the parking lot by"],
}
THINGS = ["invoices", "the rota", "our forms", "the app", "the cafeteria", "the office", "claims", "the archive"]


def learnable(root, extra=()):
    rows = [{"text": f"{start} {thing}", "label": label} for label, starts in VOCAB.items() for start in starts for thing in THINGS]
    (root / "examples.yaml").write_text(yaml.safe_dump({"examples": rows + list(extra)}, sort_keys=False))
    return root


def many_examples(root):
    """128 examples a label: more than CANDIDATES, so searches take the two-step path."""
    rows = [
        {"text": f"{start} {thing} {n}", "label": label}
        for label, starts in VOCAB.items() for start in starts for thing in THINGS for n in ("today", "again", "as usual", "this week")
    ]  # fmt: skip
    (root / "examples.yaml").write_text(yaml.safe_dump({"examples": rows}, sort_keys=False))
    return rows


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Each test its own model cache, on disk and in memory."""
    monkeypatch.setenv("TRIAGE_MODEL_CACHE", str(tmp_path / "models"))
    modelcache._memo.clear()
    yield tmp_path / "models"
    modelcache._memo.clear()


def test_the_decision_learns_wordings_no_rule_lists(mini_dir, cache):
    knowledge, _ = load_knowledge(learnable(mini_dir))
    assert knowledge.model is not None
    verdict = triage(knowledge, "the union was never consulted about the new shifts")
    assert verdict.category == "societal" and verdict.decided_by == "model"
    assert not verdict.signals  # no rule fired: the words and the embedding decided
    assert verdict.closest and verdict.closest[1] == "societal"
    assert sum(verdict.probabilities.values()) == pytest.approx(1.0, abs=1e-3)


def test_a_moderators_new_example_takes_effect_on_reload(mini_dir, cache):
    holder = KnowledgeHolder(learnable(mini_dir), min_interval=0)
    text = "zorblax quuxification of the ledger"
    before = triage(holder.current, text).probabilities
    target = min(("technical", "societal", "both"), key=before.get)  # the call it was furthest from
    extra = [{"text": f"zorblax quuxification of {t}", "label": target} for t in THINGS]
    learnable(mini_dir, extra)
    event = holder.reload()
    assert event.ok
    assert triage(holder.current, text).category == target


def test_too_few_examples_means_the_rules_decide_alone(mini, cache):
    assert mini.model is None and "too few examples" in mini.model_note
    verdict = triage(mini, "the chatbot made up a citation")
    assert verdict.category == "technical" and verdict.decided_by == "rules"


def test_training_is_deterministic_and_cached_by_content(mini_dir, cache):
    learnable(mini_dir)
    first, _ = load_knowledge(mini_dir)
    files = list(cache.glob("model-*.npz"))
    assert len(files) == 1
    modelcache._memo.clear()
    os.remove(files[0])
    again, _ = load_knowledge(mini_dir)  # a fresh fit: same arrays, bit for bit
    for name in ("words_w", "emb_w", "stack_dense", "stack_sparse", "pit_w", "example_basis"):
        assert np.array_equal(getattr(first.model, name), getattr(again.model, name)), name
    modelcache._memo.clear()
    cached, _ = load_knowledge(mini_dir)  # from the file: the same decision
    text = "the scoring model is biased and nobody can appeal the rota"
    assert triage(cached, text).probabilities == triage(first, text).probabilities


def test_the_closest_case_search_finds_an_example_from_its_own_text(mini_dir, cache):
    """Past CANDIDATES examples a label's closest case is searched on the principal axes
    first; a curated example's own text must still come back as its closest case."""
    rows = many_examples(mini_dir)
    knowledge, _ = load_knowledge(mini_dir)
    model = knowledge.model
    assert model.example_basis.shape[1] > 0 and len(rows) // 4 > CANDIDATES  # the two-step search is used
    checked = 0
    for row in rows[::7]:
        verdict = triage(knowledge, row["text"])
        if verdict.category == "unclear":  # no call, so nothing to explain
            assert verdict.closest is None and verdict.words == ()
        elif verdict.category == row["label"]:
            assert verdict.closest == (row["text"], row["label"])
            checked += 1
    assert checked >= 40


def test_the_neighbours_view_at_run_time_is_the_feature_training_computed(mini_dir, cache):
    """The stacker learned the neighbours view from neighbours.similarities; the model must show it
    the same numbers for a new message, candidate search included."""
    from bot.features import extract
    from bot.neighbours import KNN_T, similarities
    from bot.normalise import tokenize

    many_examples(mini_dir)
    knowledge, _ = load_knowledge(mini_dir)
    model = knowledge.model
    for text in ("the union was never consulted about the rota", "the printer jammed and the agent deleted claims", "zorblax"):
        f = extract(knowledge, tokenize(text))
        _, _, _, projected = model._heads(f)
        at_run_time = np.asarray(model._index.search(f.embedding, projected)[0]) / KNN_T
        trained = similarities(f.embedding[None, :], model.example_vecs, model.example_labels, 4, model.example_basis)[0]
        assert np.allclose(at_run_time, trained, atol=1e-5), text


def test_a_corrupt_or_planted_cache_file_is_retrained_over_never_executed(mini_dir, cache, tmp_path):
    learnable(mini_dir)
    load_knowledge(mini_dir)
    (path,) = cache.glob("model-*.npz")
    marker = tmp_path / "pwned"
    # An .npz whose arrays are pickled objects: loading it with pickles allowed would run code.
    payload = np.array([{"x": 1}], dtype=object)
    with open(path, "wb") as fh:
        np.savez(fh, meta_json=payload)
    modelcache._memo.clear()
    knowledge, _ = load_knowledge(mini_dir)
    assert knowledge.model is not None and not marker.exists()
    assert triage(knowledge, "lunch is at noon near the office").category == "unclear"
    path.write_bytes(b"not a zip at all")
    modelcache._memo.clear()
    assert load_knowledge(mini_dir)[0].model is not None


def test_a_rule_that_misfires_in_context_is_not_shown_as_a_reason(mini_dir, cache):
    """`kill` (violent content) fires in "kill the printer job", a message the examples teach
    is not a concern: the hit stays in `signals` but is not offered as a why."""
    extra = [{"text": f"please kill the printer job for {t}", "label": "unclear"} for t in THINGS]
    extra += [{"text": f"the assistant made up a source for {t}", "label": "technical"} for t in THINGS]
    knowledge, _ = load_knowledge(learnable(mini_dir, extra))
    verdict = triage(knowledge, "can someone kill the printer job for the office")
    assert verdict.category == "unclear"
    assert [s.rule_id for s in verdict.signals] == ["kill"]
    assert verdict.reasons == ()
    real = triage(knowledge, "the chatbot made up a citation again, the model invents claims")
    assert real.category == "technical" and "hallucination" in {s.rule_id for s in real.reasons}


def test_classify_jsonl_keeps_its_keys_and_adds_the_evidence(tmp_path):
    line = json.dumps({"id": "a", "text": "the support bot keeps making up refund policies"})
    out = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "classify", "--jsonl"], input=line + "\n", capture_output=True,
        text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    row = json.loads(out.stdout.splitlines()[0])
    assert {"id", "category", "confidence", "signals", "topics", "pitfalls", "readings", "knowledge_version"} <= set(row)
    ev = row["evidence"]
    assert ev["decided_by"] == "model" and set(ev["probabilities"]) == {"technical", "societal", "both", "unclear"}
    assert ev["closest"]["label"] == row["category"] and isinstance(ev["words"], list)
    assert {r["rule"] for r in ev["reasons"]} <= {s["rule"] for s in row["signals"]}


def test_eval_reports_the_ablation_and_calibration(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "eval", "--json", str(REPO / "tests" / "blind" / "blind.jsonl")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    figures = json.loads(out.stdout)
    assert set(figures["ablation"]) == {"rules only", "learned part only", "combined"}
    assert 0.0 <= figures["calibration"]["ece"] <= 1.0
    assert sum(row["n"] for row in figures["calibration"]["reliability"]) == figures["count"]
    # The learned decision must beat the rules alone on posts nobody tuned it to.
    assert figures["ablation"]["combined"]["macro_f1"] > figures["ablation"]["rules only"]["macro_f1"]


def test_a_fit_that_fails_refuses_the_edit_and_the_last_good_knowledge_serves(mini_dir, cache, monkeypatch):
    holder = KnowledgeHolder(learnable(mini_dir), min_interval=0)
    good = holder.current
    import bot.train

    def broken(*args, **kwargs):
        raise ValueError("singular matrix")

    # Fault injection, not a stand-in for a result: no example set we can write makes the fit
    # fail, so a numerical failure inside it is simulated to test that the edit is refused.
    monkeypatch.setattr(bot.train, "_ridge", broken)
    learnable(mini_dir, [{"text": "a new example for the rota", "label": "unclear"}])
    event = holder.reload()
    assert not event.ok and holder.current is good
    assert any("could not be trained" in str(p) and "singular matrix" in str(p) for p in event.problems)
    assert triage(holder.current, "lunch is at noon near the office").category == "unclear"
