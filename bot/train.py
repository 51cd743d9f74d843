"""Training the learned decision from the knowledge's examples; deterministic, cached.

The examples are the training data, so a moderator who adds one changes the decision on
the next reload, exactly as a new rule would, with no developer involved. Training is a
pure function of the knowledge content, the embedding and this recipe (fixed seeds), so
its result is cached under a hash of all three (bot/modelcache.py) and a restart costs a
file read, not a fit.

Recipe:
1. Features per example (bot/features.py).
2. Stage 1: multinomial logistic regression over TF-IDF stem n-grams and the embedding.
   Its out-of-fold probabilities (5 folds) are computed for every example.
3. Stage 2: logistic regression over [log out-of-fold stage-1 probabilities, dense rule
   features, which rules fired]. Out-of-fold matters: in-sample stage-1 outputs are far
   more confident than on new messages, and stage 2 would learn to ignore the rules.
4. Calibration: a temperature on stage 2's own out-of-fold logits (minimum log loss).
5. Pitfalls: a logistic regression over words, embedding and the pitfall rules' flags,
   with "no pitfall" as a class; a pitfall is raised only above a probability threshold.
The cross-validated macro-F1 of the whole pipeline is kept in `meta` for `knowledge check`.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .features import RULE_DENSE, extract
from .knowledge import Knowledge
from .model import Model
from .normalise import prepare, tokenize
from .verdict import LABELS

SEED = 0
FOLDS = 5
MIN_PER_LABEL = FOLDS  # fewer examples of a label than folds: no learned decision
MIN_DF = 2  # an n-gram seen in one example only is noise, not vocabulary
EMB_SCALE = 3.0  # the embedding's rows are unit length; TF-IDF rows too: balance them
C_TEXT = 4.0
C_STACK = 1.0
C_PIT = 4.0


class TrainingError(Exception):
    """The examples cannot support a learned decision (too few of some label)."""


def featurise(knowledge: Knowledge, texts) -> list:
    return [extract(knowledge, tokenize(prepare(t).text or "")) for t in texts]


def train(knowledge: Knowledge, cross_validate: bool = True) -> Model:
    from scipy import sparse
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    examples = [e for e in knowledge.examples if e.label in LABELS]
    y = np.asarray([LABELS.index(e.label) for e in examples])
    counts = np.bincount(y, minlength=len(LABELS))
    short = [LABELS[k] for k in range(len(LABELS)) if counts[k] < MIN_PER_LABEL]
    if short:
        raise TrainingError(
            f"too few examples to learn from: {', '.join(short)} (need at least {MIN_PER_LABEL} of each label)"
        )
    feats = featurise(knowledge, [e.text for e in examples])
    featurised = time.perf_counter()

    vocab, idf = _vocabulary([f.ngrams for f in feats])
    tfidf = _tfidf_matrix([f.ngrams for f in feats], vocab, idf)
    emb = np.vstack([f.embedding for f in feats])
    x_text = sparse.hstack([tfidf, sparse.csr_matrix(emb * EMB_SCALE)], format="csr")

    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))
    oof = np.zeros((len(y), len(LABELS)))
    for tr, te in folds:
        oof[te] = _fit(x_text[tr], y[tr], C_TEXT).predict_proba(x_text[te])
    text = _fit(x_text, y, C_TEXT)

    stack_keys = {k: i for i, k in enumerate(sorted({k for f in feats for k in f.rule_keys()}))}
    dense = np.asarray([f.rule_dense() for f in feats], dtype=np.float32)
    z = _stack_matrix(oof, dense, [f.rule_keys() for f in feats], stack_keys)
    stack = _fit(z, y, C_STACK)
    oof2 = np.zeros((len(y), len(LABELS)))
    for tr, te in folds:
        oof2[te] = _fit(z[tr], y[tr], C_STACK).decision_function(z[te])
    temperature = _temperature(oof2, y)

    pitfall_ids = ("",) + tuple(sorted(knowledge.pitfalls))
    y_pit = np.asarray([pitfall_ids.index(e.pitfall) if e.pitfall in pitfall_ids else 0 for e in examples])
    flags = np.asarray([[float(p in f.rules.pitfalls) for p in pitfall_ids[1:]] for f in feats], dtype=np.float32)
    x_pit = sparse.hstack([x_text, sparse.csr_matrix(flags)], format="csr")
    pit_w, pit_b = _pitfall_head(x_pit, y_pit, len(pitfall_ids))

    n_vocab, n_dense = len(vocab), len(LABELS) + len(RULE_DENSE)
    stack_w = stack.coef_.T.astype(np.float32)
    model = Model(
        vocab=vocab,
        idf=idf,
        emb_scale=EMB_SCALE,
        text_w=text.coef_.T.astype(np.float32),
        text_b=text.intercept_.astype(np.float32),
        stack_keys=stack_keys,
        stack_dense=stack_w[:n_dense],
        stack_sparse=stack_w[n_dense:],
        stack_b=stack.intercept_.astype(np.float32),
        temperature=temperature,
        pitfall_ids=pitfall_ids,
        pit_w=pit_w,
        pit_b=pit_b,
        pit_threshold=knowledge.scoring.pitfall_threshold,
        abstain_below=knowledge.scoring.abstain_below,
        example_vecs=emb,
        example_labels=y,
        example_texts=tuple(e.text for e in examples),
    )
    model.meta = {
        "examples": int(len(y)),
        "vocabulary": int(n_vocab),
        "seconds_features": round(featurised - started, 3),
        "seconds_total": round(time.perf_counter() - started, 3),
        "temperature": round(temperature, 3),
    }
    if cross_validate:
        pred = np.argmax(oof2, axis=1)
        model.meta["cv_macro_f1"] = round(_macro_f1(y, pred), 4)
        model.meta["cv_macro_f1_text"] = round(_macro_f1(y, np.argmax(oof, axis=1)), 4)
        rules = np.asarray([LABELS.index(f.rules.category) for f in feats])
        model.meta["macro_f1_rules"] = round(_macro_f1(y, rules), 4)
    return model


def _fit(x, y, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=300, random_state=SEED).fit(x, y)


def _pitfall_head(x, y, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights for every pitfall id, also those no example shows yet (they stay unraised)."""
    w = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    b = np.full(n_classes, -30.0, dtype=np.float32)
    present = np.unique(y)
    if len(present) < 2:
        b[0] = 0.0
        return w, b
    head = _fit(x, y, C_PIT)
    coef, intercept = head.coef_, head.intercept_
    if len(present) == 2:  # sklearn's binary form: one row for the positive class
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.asarray([-intercept[0] / 2, intercept[0] / 2])
    for row, cls in enumerate(head.classes_):
        w[:, cls] = coef[row]
        b[cls] = intercept[row]
    return w, b


def _vocabulary(docs) -> tuple[dict[str, int], np.ndarray]:
    df: dict[str, int] = {}
    for grams in docs:
        for g in set(grams):
            df[g] = df.get(g, 0) + 1
    kept = sorted(g for g, n in df.items() if n >= MIN_DF)
    vocab = {g: i for i, g in enumerate(kept)}
    n = len(docs)
    idf = np.asarray([math.log((1 + n) / (1 + df[g])) + 1.0 for g in kept], dtype=np.float32)
    return vocab, idf


def _tfidf_matrix(docs, vocab: dict[str, int], idf: np.ndarray):
    """The same TF-IDF as Model._tfidf (sublinear counts, L2 rows), for all examples at once."""
    from scipy import sparse

    rows, cols, vals = [], [], []
    for r, grams in enumerate(docs):
        counts: dict[int, int] = {}
        for g in grams:
            col = vocab.get(g)
            if col is not None:
                counts[col] = counts.get(col, 0) + 1
        if not counts:
            continue
        v = np.asarray([(1.0 + math.log(c)) * idf[col] for col, c in counts.items()])
        v /= np.sqrt(v @ v)
        rows += [r] * len(counts)
        cols += list(counts)
        vals += list(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)


def _stack_matrix(p1: np.ndarray, dense: np.ndarray, keys, stack_keys: dict[str, int]) -> np.ndarray:
    sparse_part = np.zeros((len(keys), len(stack_keys)), dtype=np.float32)
    for r, ks in enumerate(keys):
        for k in ks:
            if k in stack_keys:
                sparse_part[r, stack_keys[k]] = 1.0
    return np.hstack([np.log(np.clip(p1, 1e-6, 1.0)), dense, sparse_part])


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises log loss on out-of-fold logits (a 1-D grid search:
    deterministic, and the loss is smooth and unimodal in T)."""
    best, best_loss = 1.0, math.inf
    for t in np.arange(0.5, 3.01, 0.05):
        z = logits / t
        z = np.exp(z - z.max(axis=1, keepdims=True))
        p = z / z.sum(axis=1, keepdims=True)
        loss = -float(np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-9, 1.0))))
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def _macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    scores = []
    for k in range(len(LABELS)):
        tp = int(np.sum((pred == k) & (y == k)))
        fp = int(np.sum((pred == k) & (y != k)))
        fn = int(np.sum((pred != k) & (y == k)))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0
