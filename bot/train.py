"""Training the learned decision from the knowledge's examples; deterministic, cached.

The examples are the training data, so a moderator who adds one changes the decision on
the next reload, exactly as a new rule would, with no developer involved. Training is a
pure function of the knowledge content, the embedding and this recipe (fixed seeds), so
its result is cached under a hash of all three (bot/modelcache.py) and a restart costs a
file read, not a fit.

Recipe (each choice measured by 5-fold cross-validation on the example corpus):
1. Features per example (bot/features.py).
2. Stage 1, three views: complement naive Bayes over TF-IDF stem n-grams, a ridge
   classifier over the embedding, and the embedding's neighbours (per label, the mean
   similarity of the three most similar examples); their out-of-fold log-probabilities
   (5 folds) for every example. One logistic regression over words and embedding together
   scored 0.85 against 0.89-0.90 for separate views, and took 8x longer to fit. The
   neighbours view adds what one hyperplane over the embedding cannot: posts like "three
   labs control almost all frontier compute" sit among both/societal examples but on the
   unclear side of the ridge's plane.
3. Stage 2: logistic regression over [the views' out-of-fold log-probabilities, dense
   rule features, which rules fired]. Out-of-fold matters: in-sample stage-1 outputs are
   far more confident than on new messages, and stage 2 would learn to ignore the rules.
4. Calibration: a temperature on stage 2's own out-of-fold logits (minimum log loss).
5. Pitfalls: the words and embedding views over the pitfall labels ("none" is a class), stacked with
   the pitfall rules' flags; raised above a threshold learned out-of-fold so that false
   raises stay under 1.5% (a wrong lecture costs more trust than a missed one).
Accurate mode (bot/transformer.py) adds a fourth stage-1 view to stage 2: the fine-tuned
transformer's log-probabilities, out of fold for every example it was tuned on.
Cross-validated figures are kept in `meta` for `knowledge check`.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import estimators
from .features import RULE_DENSE, extract
from .schema import Knowledge
from .model import Model
from .neighbours import KNN_T, principal_axes, similarities
from .normalise import prepare, same_text, tokenize
from .transformer import active as active_transformer
from .vocabulary import LABELS

SEED = 0
FOLDS = 5
MIN_PER_LABEL = FOLDS  # fewer examples of a label than folds: no learned decision
MIN_DF = 2  # an n-gram seen in one example only is noise, not vocabulary
NB_ALPHA = 0.3  # complement naive Bayes smoothing, words view
RIDGE_ALPHA = 1.0  # ridge regularisation, embedding view
RIDGE_T = 4.0  # ridge scores are near 0..1; scaled so their softmax is not flat
C_STACK = 0.3
C_PIT = 1.0
MAX_FALSE_RAISES = 0.015  # out-of-fold false raises stay below this (the target is 2% on new posts)
ABSENT = -30.0  # score of a class no example shows: never predicted


class TrainingError(Exception):
    """The examples cannot support a learned decision (too few of some label)."""


def featurise(knowledge: Knowledge, texts) -> list:
    return [extract(knowledge, tokenize(prepare(t).text or "")) for t in texts]


def train(knowledge: Knowledge, cross_validate: bool = True) -> Model:
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the matrices are small, and on a 2-core machine that is also
    # serving, OpenBLAS's threads spent more time waiting on each other than computing
    # (measured: a 4,000-example fit took 15 s with 2 threads under load, 1.5 s with one).
    with threadpool_limits(1):
        return _train(knowledge)


def _train(knowledge: Knowledge) -> Model:
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
    pitfall_ids = ("",) + tuple(sorted(knowledge.pitfalls))
    y_pit = np.asarray([pitfall_ids.index(e.pitfall) if e.pitfall in pitfall_ids else 0 for e in examples])
    k, p = len(LABELS), len(pitfall_ids)
    folds = example_folds(examples)

    # Stage 1: words and embedding views per head, and for the categories the neighbours
    # view, with out-of-fold log-probabilities for the stacker.
    basis = principal_axes(emb)
    oof_cat = np.hstack([_views_out_of_fold(tfidf, emb, y, k, folds), _neighbours_out_of_fold(emb, y, k, folds, basis)])
    oof_pit = _views_out_of_fold(tfidf, emb, y_pit, p, folds)
    words_cat, (emb_cat, b_cat) = _nb(tfidf, y, k), _ridge(emb, y, k)
    words_pit, (emb_pit, b_pit) = _nb(tfidf, y_pit, p), _ridge(emb, y_pit, p)

    # The optional fourth view, out of fold by construction (bot/transformer.py).
    encoder = active_transformer()
    tuned = _log_softmax_rows(encoder.example_logits([e.text for e in examples])) if encoder is not None else np.zeros((len(y), 0))

    # Stage 2 over the views and the rule evidence; calibrated on its own out-of-fold logits.
    stack_keys = {key: i for i, key in enumerate(sorted({key for f in feats for key in f.rule_keys()}))}
    dense = np.asarray([f.rule_dense() for f in feats], dtype=np.float32)
    z = np.hstack([oof_cat, tuned, dense, _one_hot([f.rule_keys() for f in feats], stack_keys)])
    stack_w, stack_b, full = _logistic(z, y, k, C_STACK)
    oof2 = np.zeros((len(y), k))
    for tr, te in folds:
        w, b, _ = _logistic(z[tr], y[tr], k, C_STACK, start=full)
        oof2[te] = z[te] @ w + b
    temperature = _temperature(oof2, y)

    flags = np.asarray([[float(q in f.rules.pitfalls) for q in pitfall_ids[1:]] for f in feats], dtype=np.float32)
    zp = np.hstack([oof_pit, oof_cat, flags])
    pit_w, pit_b, full = _logistic(zp, y_pit, p, C_PIT)
    oof_p = np.zeros((len(y), p))
    for tr, te in folds:
        w, b, _ = _logistic(zp[tr], y_pit[tr], p, C_PIT, start=full)
        oof_p[te] = _softmax_rows(zp[te] @ w + b)
    pit_threshold = knowledge.scoring.pitfall_threshold or _pitfall_threshold(oof_p, y_pit)

    n_dense = oof_cat.shape[1] + tuned.shape[1] + len(RULE_DENSE)
    model = Model(
        vocab=vocab,
        idf=idf,
        words_w=np.hstack([words_cat, words_pit]).astype(np.float32),
        emb_w=np.hstack([emb_cat, emb_pit]).astype(np.float32),
        emb_b=np.concatenate([b_cat, b_pit]).astype(np.float32),
        stack_keys=stack_keys,
        stack_dense=stack_w[:n_dense],
        stack_sparse=stack_w[n_dense:],
        stack_b=stack_b,
        temperature=temperature,
        pitfall_ids=pitfall_ids,
        pit_w=pit_w,
        pit_b=pit_b,
        pit_threshold=pit_threshold,
        abstain_below=knowledge.scoring.abstain_below,
        example_vecs=emb.astype(np.float16),  # as the neighbours search holds them: half the memory
        example_basis=basis,
        example_labels=y,
        example_texts=tuple(e.text for e in examples),
        tuned_version=encoder.version if encoder is not None else "",
    )
    learned = oof_cat[:, :k] + oof_cat[:, k : 2 * k] + oof_cat[:, 2 * k :] + (tuned if encoder is not None else 0.0)
    raised = _raised(oof_p, pit_threshold)
    model.meta = {
        "examples": int(len(y)),
        "encoder": "transformer" if encoder is not None else "static",
        "transformer_out_of_fold": encoder.known(e.text for e in examples) if encoder is not None else None,
        "vocabulary": int(len(vocab)),
        "seconds_features": round(featurised - started, 3),
        "seconds_total": round(time.perf_counter() - started, 3),
        "temperature": round(temperature, 3),
        "pitfall_threshold": round(pit_threshold, 3),
        "cv_macro_f1": round(_macro_f1(y, np.argmax(oof2, axis=1)), 4),
        "cv_macro_f1_text": round(_macro_f1(y, np.argmax(learned, axis=1)), 4),
        "macro_f1_rules": round(_macro_f1(y, np.asarray([LABELS.index(f.rules.category) for f in feats])), 4),
        "cv_pitfalls_found": round(float(np.mean(raised[y_pit > 0] == y_pit[y_pit > 0])), 4) if (y_pit > 0).any() else None,
        "cv_pitfall_false_raises": round(float(np.mean(raised[y_pit == 0] > 0)), 4),
        "cv_by_file": _by_file(examples, y, np.argmax(oof2, axis=1)),
        "cv_misses": _misses(examples, y, _softmax_rows(oof2 / temperature)),
    }
    return model


def example_folds(examples) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation folds of these examples: by a hash of each text with whitespace and
    case ignored, so an edit moves only the examples it touches."""
    return estimators.hashed_folds([same_text(e.text) for e in examples], FOLDS, SEED)


def _by_file(examples, y: np.ndarray, predicted: np.ndarray) -> dict[str, list]:
    """Per examples file: [examples, share called right out of fold, macro-F1 out of fold or
    None], so a moderator sees which slice the decision finds hardest. The macro-F1 only for a
    file that holds every label: over a one-label file it would count each miss as a class."""
    files: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        files.setdefault(e.source.rsplit(":", 1)[0], []).append(i)
    out = {}
    for f, rows in sorted(files.items()):
        all_labels = len(set(y[rows].tolist())) == len(LABELS)
        f1 = round(_macro_f1(y[rows], predicted[rows]), 4) if all_labels else None
        out[f] = [len(rows), round(float(np.mean(y[rows] == predicted[rows])), 4), f1]
    return out


def _misses(examples, y: np.ndarray, probs: np.ndarray) -> list[list]:
    """The examples the decision calls wrong out of fold, as [source, label, call, confidence],
    most confident first: where a moderator looks for a mislabeled example or a concept the
    examples teach two ways (`knowledge check --misses`)."""
    called = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(called != y)
    order = wrong[np.argsort(-probs[wrong, called[wrong]], kind="stable")]
    return [[examples[i].source, LABELS[y[i]], LABELS[called[i]], round(float(probs[i, called[i]]), 3)] for i in order]


def _views_out_of_fold(tfidf, emb, y, n: int, folds) -> np.ndarray:
    """[log p words | log p embedding] for every example, each from a fit without it."""
    out = np.zeros((len(y), 2 * n))
    for tr, te in folds:
        out[te, :n] = _log_softmax_rows(tfidf[te] @ _nb(tfidf[tr], y[tr], n))
        w, b = _ridge(emb[tr], y[tr], n)
        out[te, n:] = _log_softmax_rows(emb[te] @ w + b)
    return out


def _neighbours_out_of_fold(emb, y, n: int, folds, basis) -> np.ndarray:
    """log p of the neighbours view for every example, from the other folds' examples only."""
    out = np.zeros((len(y), n))
    for tr, te in folds:
        out[te] = _log_softmax_rows(KNN_T * similarities(emb[te], emb[tr], y[tr], n, basis))
    return out


def _nb(x, y, n: int) -> np.ndarray:
    """Words view: complement naive Bayes over TF-IDF n-grams, as (V, n) log-weights. As
    accurate as a logistic regression here under cross-validation (0.896 vs 0.889 stacked
    macro-F1) and fitted in milliseconds, which keeps a moderator's reload fast."""
    present = np.unique(y)
    w = np.full((x.shape[1], n), ABSENT / 10, dtype=np.float64)
    if len(present) < 2:
        return w
    w[:, present] = estimators.complement_nb(x, y, present, NB_ALPHA)
    return w


def _ridge(x, y, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Embedding view: a ridge classifier, closed form (one 256x256 solve), scaled by
    RIDGE_T. It matched a logistic regression under cross-validation at a fifth of the fit."""
    w = np.zeros((x.shape[1], n))
    b = np.full(n, ABSENT)
    present = np.unique(y)
    if len(present) < 2:
        b[present] = 0.0
        return w, b
    coef, intercept = estimators.ridge(x, y, present, RIDGE_ALPHA)
    w[:, present] = coef * RIDGE_T
    b[present] = intercept * RIDGE_T
    return w, b


def _logistic(x, y, n: int, c: float, start=None):
    """A multinomial logistic regression as (features, n) weights and (n,) bias, with
    classes no example shows kept unpredictable, and the fit itself (to start others from).

    `start`: a fit on all examples to begin from. The folds' fits then need a few
    iterations instead of a hundred (same optimum: the loss is convex), which halves a
    cold training."""
    w = np.zeros((x.shape[1], n), dtype=np.float32)
    b = np.full(n, ABSENT, dtype=np.float32)
    present = np.unique(y)
    if len(present) < 2:
        b[present] = 0.0
        return w, b, None
    begin = start[:2] if start is not None and np.array_equal(start[2], present) else None
    coef, intercept = estimators.logistic(x, y, present, c, start=begin)
    w[:, present] = coef
    b[present] = intercept
    return w, b, (coef, intercept, present)


def _pitfall_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The lowest threshold whose out-of-fold false-raise rate stays under MAX_FALSE_RAISES:
    a wrong pitfall lecture costs more trust than a missed one."""
    none = y == 0
    if not none.any():
        return 0.5
    best = 0.9
    for t in np.arange(0.9, 0.145, -0.01):
        if np.mean(_raised(probs[none], t) > 0) <= MAX_FALSE_RAISES:
            best = float(t)
        else:
            break
    return round(best, 2)


def _raised(probs: np.ndarray, threshold: float) -> np.ndarray:
    """Which pitfall each row raises (0: none), as Model._pitfalls decides it."""
    best = np.argmax(probs[:, 1:], axis=1) + 1
    return np.where(probs[np.arange(len(probs)), best] >= threshold, best, 0)


def _one_hot(keys, index: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(keys), len(index)), dtype=np.float32)
    for r, ks in enumerate(keys):
        for key in ks:
            if key in index:
                out[r, index[key]] = 1.0
    return out


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return np.maximum(z - np.log(np.exp(z).sum(axis=1, keepdims=True)), math.log(1e-6))


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


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
    """The same TF-IDF as Model._heads (sublinear counts, L2 rows), for all examples at once."""
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


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises log loss on out-of-fold logits (a 1-D grid search:
    deterministic, and the loss is smooth and unimodal in T)."""
    best, best_loss = 1.0, math.inf
    for t in np.arange(0.5, 3.01, 0.05):
        p = _softmax_rows(logits / t)
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
