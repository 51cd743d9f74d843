"""Accurate mode: the fine-tuned transformer as the decision's fourth view (bot/transformer.py).

The artifact is checked against what made it (the tokenizer and torch's forward pass, recorded
at release), the stacker must read out-of-fold calls for the examples the transformer learned
from, and the mode is reached from the command line like any other setting."""
import json
import subprocess
import sys

import numpy as np
import pytest

from bot import modelcache, transformer
from bot.classify import triage
from bot.knowledge import load_knowledge
from bot.normalise import prepare
from bot.transformer import ARTIFACT, TransformerError, TunedTransformer, text_key
from bot.vocabulary import LABELS
from tests.conftest import REPO
from tests.learned.test_decision import learnable


@pytest.fixture(scope="module")
def tuned():
    return TunedTransformer()


@pytest.fixture
def accurate():
    """This process in accurate mode for one test, then back to the default."""
    transformer.configure("transformer")
    yield transformer.active()
    transformer.configure("static")


def test_wordpiece_is_the_source_tokenizers(tuned):
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.BertWordPieceTokenizer(str(ARTIFACT / "vocab.txt"), lowercase=True)
    knowledge, _ = load_knowledge(REPO / "knowledge")
    texts = [e.text for e in knowledge.examples[::7]]
    texts += ["Naïve café résumé, don't!", "東京都の AI", "EU AI-Act §6(2)?", "*bold* `code` <@U123>", "a" * 120,
              "zero\u200bwidth 🏴\u200d☠️", "tab\tnew\nline", "ﬁne straße x²", "bad \ufffd char \x00 nul \x07 bell"]
    cls, sep = reference.token_to_id("[CLS]"), reference.token_to_id("[SEP]")
    wrong = [t for t in texts if reference.encode(t).ids != [cls, *tuned.wordpiece.text_ids(t), sep]]
    assert not wrong, wrong[:5]
    long_post = " ".join(texts[:40])  # cut early, as the model reads only its first tokens
    assert tuned.wordpiece.text_ids(long_post, 50) == reference.encode(long_post).ids[1:51]


def test_numpy_forward_pass_reproduces_the_fine_tuned_model(tuned):
    """config.json keeps torch's logits for a few texts, computed at release from the float32
    weights; the float16 weights read in numpy must give the same calls and nearly the same
    numbers."""
    reference = tuned.config["reference"]
    assert len(reference) >= 3
    for row in reference:
        ours = tuned.logits(row["text"])
        assert int(np.argmax(ours)) == int(np.argmax(row["logits"])), row["text"]
        np.testing.assert_allclose(ours, row["logits"], atol=0.15)


def test_examples_it_learned_from_get_out_of_fold_calls(tuned):
    knowledge, _ = load_knowledge(REPO / "knowledge")
    texts = [e.text for e in knowledge.examples]
    # A moderator's new examples have none and get the full model's call (knowledge check says
    # how many); the ones it was tuned on are stored.
    known = next(t for t in texts if text_key(t) in tuned._oof)
    assert tuned.known([known, known.upper() + "  "]) == 2  # the same text, as the folds see it
    new = "a sentence no example has: the ferry timetable changed on tuesday"
    rows = tuned.example_logits([known, new])
    np.testing.assert_allclose(rows[0], tuned._oof[text_key(known)], atol=1e-6)
    np.testing.assert_allclose(rows[1], tuned.logits(prepare(new).text), atol=1e-6)


def test_accurate_mode_trains_a_fourth_view_that_moves_the_decision(mini_dir, accurate):
    learnable(mini_dir)
    static_key = None
    transformer.configure("static")
    knowledge, _ = load_knowledge(mini_dir)
    static_key, static_model = modelcache.cache_key(knowledge), knowledge.model
    transformer.configure("transformer")
    knowledge, problems = load_knowledge(mini_dir)
    assert knowledge is not None, problems
    model = knowledge.model
    assert modelcache.cache_key(knowledge) != static_key  # never the static model from the cache
    assert model.meta["encoder"] == "transformer" and static_model.meta["encoder"] == "static"
    assert model.tuned_version == accurate.version and not static_model.tuned_version
    k = len(LABELS)
    assert model.stack_dense.shape[0] == static_model.stack_dense.shape[0] + k

    from bot.reload import KnowledgeHolder
    from bot.service import Service

    assert Service(KnowledgeHolder(mini_dir), None).health()["decision"] == "transformer"  # what /healthz shows
    from bot.check import check, format_report

    # None of the mini examples was tuned on: knowledge check says so.
    assert "with the fine-tuned transformer (0 out of fold, 128 new since it was tuned)" in format_report(check(mini_dir), mini_dir)
    verdict = triage(knowledge, "the classifier mislabels the rota")
    assert verdict.category == "technical"
    # The view is read: a message featurised with the transformer leaning to a label is pushed
    # towards it, whichever label that is.
    from bot.features import extract
    from bot.normalise import tokenize

    f = extract(knowledge, tokenize("something about the office and the rota"))
    base = model.decide(f, knowledge, explain=False).probabilities
    for i, label in enumerate(LABELS):
        leaning = tuple(np.log([0.91 if j == i else 0.03 for j in range(k)]).tolist())
        moved = model.decide(type(f)(f.tokens, f.rules, f.ngrams, f.embedding, leaning), knowledge, explain=False)
        assert moved.probabilities[label] > base[label], label


def test_a_saved_accurate_model_loads_as_one(mini_dir, accurate, tmp_path):
    knowledge, _ = load_knowledge(learnable(mini_dir))
    path = tmp_path / "m.npz"
    modelcache.save(knowledge.model, path)
    again = modelcache.load(path)
    assert again.tuned_version == knowledge.model.tuned_version
    f_text = "the union was never consulted about claims"
    assert triage(knowledge, f_text).category == "societal"


def test_a_missing_or_broken_artifact_is_a_clear_error(tmp_path):
    with pytest.raises(TransformerError, match="cannot be read"):
        TunedTransformer(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"labels": ["a", "b"], "max_tokens": 96}))
    (tmp_path / "weights.safetensors").write_bytes(b"\x00" * 4)
    with pytest.raises(TransformerError, match="cannot be read"):
        TunedTransformer(tmp_path)


def test_the_command_line_chooses_the_encoder(tmp_path):
    def run(*args, env=None):
        import os

        return subprocess.run([sys.executable, "-m", "adapters.cli", *args], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "TRIAGE_MODEL_CACHE": str(tmp_path), **(env or {})}, timeout=300)  # fmt: skip

    bad = run("classify", "hello", env={"TRIAGE_ENCODER": "gpt"})
    assert bad.returncode == 2 and "unknown encoder 'gpt'" in bad.stderr
    assert run("--encoder", "gpt", "classify", "hello").returncode == 2  # argparse: not a choice
    text = "the chatbot keeps inventing refund rules for customers"
    rows = {}
    for encoder in ("static", "transformer"):
        out = run("classify", "--encoder", encoder, text)
        assert out.returncode == 0, out.stderr
        rows[encoder] = json.loads(out.stdout)
        assert rows[encoder]["category"] == "technical" and rows[encoder]["evidence"]["decided_by"] == "model"
    # Two different decisions reached the same call: the flag really switched the encoder.
    assert rows["static"]["evidence"]["probabilities"] != rows["transformer"]["evidence"]["probabilities"]
