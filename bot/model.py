"""The learned decision at run time: features -> calibrated probabilities -> Decision.

Two stages, trained in bot/train.py. Stage 1 has three views: the words (stem n-grams, TF-IDF,
naive Bayes), the sentence embedding (ridge) and the embedding's nearest curated examples
(bot/neighbours.py). Stage 2 reads the views' probabilities beside the rule evidence and learns how far to trust each: on plain-language posts the rules'
vocabulary fails, on concept names they are sharp. Stage 2 was trained on the views'
*out-of-fold* outputs, so it weighs them as they behave on messages they have not seen, which
is how they are used here.

Prediction reads the arrays the trainer wrote (no scipy import, nothing of the trainer at
start-up); a message's arithmetic is a few calls into bot/_kernels.c and short Python lists.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .features import FUNCTION_WORDS, Features, rule_dense_without, tally
from ._kernels import columns, project, weighted_rows
from .neighbours import ExampleIndex
from .rules import without_hit
from .verdict import Signal
from .vocabulary import LABELS

MAX_WORDS = 3  # words shown as "pushed the decision most"


@dataclass(frozen=True)
class Decision:
    category: str
    confidence: float  # calibrated probability of `category`
    probabilities: dict[str, float]
    pitfalls: tuple[str, ...]
    reasons: tuple[Signal, ...]  # the rule hits that really supported this call
    words: tuple[str, ...]  # the words that pushed the learned part most towards it
    closest: tuple[str, str] | None  # (text, label) of the nearest curated example
    abstained: bool = False


class Words(NamedTuple):
    """The message's known n-grams as the words view saw them, for explaining it."""

    values: list[float]  # TF-IDF weight of each known n-gram (not yet L2-normalised)
    firsts: list[int]  # its first position in Features.ngrams
    rows: list[int]  # its row of Model._rows, i.e. its column of the vocabulary


_NO_WORDS = Words([], [], [])


@dataclass
class Model:
    """Arrays only, so a cached model loads with numpy's safe (pickle-free) reader."""

    vocab: dict[str, int]
    idf: np.ndarray  # (V,)
    words_w: np.ndarray  # (V, K + P): words view (naive Bayes log-weights), categories | pitfalls
    emb_w: np.ndarray  # (D, K + P): embedding view (ridge), categories | pitfalls
    emb_b: np.ndarray  # (K + P,)
    stack_keys: dict[str, int]  # "rule:<id>" / "pitfall:<id>" -> row in stack_sparse
    stack_dense: np.ndarray  # (3K + R, K): stage 2 over [log p words, log p embedding, log p neighbours, rule dense]
    stack_sparse: np.ndarray  # (S, K)
    stack_b: np.ndarray
    temperature: float
    pitfall_ids: tuple[str, ...]  # column order of the pitfall head; "" means none
    pit_w: np.ndarray  # (2P + 3K + P - 1, P): pitfall stacker over the views (pitfalls, categories), rule flags
    pit_b: np.ndarray
    pit_threshold: float
    abstain_below: float
    example_vecs: np.ndarray  # (N, D) embeddings of the curated examples, float16
    example_labels: np.ndarray  # (N,) index into LABELS
    example_texts: tuple[str, ...]
    example_basis: np.ndarray  # (D, d) the examples' principal axes, for the neighbours search
    meta: dict = field(default_factory=dict)  # cross-validated figures, sizes, timings
    tuned_version: str = ""  # the fine-tuned transformer stage 2 reads as a fourth view; "" none

    def __post_init__(self) -> None:
        basis = np.ascontiguousarray(self.example_basis, dtype=np.float32)
        ok = basis.ndim == 2 and basis.shape[0] == self.example_vecs.shape[1] and basis.shape[1] > 0
        self._basis = basis if ok else None
        self._index = ExampleIndex(self.example_vecs, self.example_labels, len(LABELS), self._basis)
        self._k = len(LABELS)
        self._p = len(self.pitfall_ids)
        cat_words = self.words_w[:, : self._k]
        push = cat_words - cat_words.mean(axis=1, keepdims=True)  # towards each category vs the rest
        # One row per n-gram with all a message needs of it (words-view weights, pushes),
        # summed by bot/_kernels.c: in numpy the gather and product were ~12 µs in the flow.
        self._rows = np.ascontiguousarray(np.hstack([self.words_w, push]), dtype=np.float32)
        self._idf = self.idf.astype(np.float32).tolist()
        # For _words: one compact column per category (array.array: a Python float list of
        # the vocabulary would be 4 MB of the console's 150 MB budget).
        self._push = [array("f", push[:, k].astype(np.float32).tobytes()) for k in range(self._k)]
        # The embedding is read once per message, for the view's logits and the neighbours search.
        self._emb_proj = np.ascontiguousarray(
            np.hstack([self.emb_w, self._basis if ok else np.zeros((self.emb_w.shape[0], 0))]), dtype=np.float32
        )
        self._emb_b = self.emb_b.tolist()
        self._sparse_rows = self.stack_sparse.tolist()
        self._stack_b = self.stack_b.tolist()
        # Stage 2 and the pitfall head as (inputs x outputs) tables, multiplied by their
        # input vectors in bot/_kernels.c, with the row order that says "all of them".
        self._stack_w = np.ascontiguousarray(self.stack_dense, dtype=np.float64)
        self._stack_in = list(range(len(self._stack_w)))
        self._n_tuned = self._k if self.tuned_version else 0
        self._dense_in = self._stack_in[3 * self._k + self._n_tuned :]  # the rule features' rows follow the views' inputs
        self._pit_w = np.ascontiguousarray(self.pit_w, dtype=np.float64)
        self._pit_in = list(range(len(self._pit_w)))
        self._pit_b = np.asarray(self.pit_b, dtype=np.float64).tolist()

    # Small vectors (4 classes, 6 pitfall ids) are handled as Python lists: numpy's fixed
    # cost per call (~1-2 µs) is larger than the arithmetic, and a message makes dozens.

    # --- stage 1 and the pitfall head -------------------------------------------------

    def _heads(self, f: Features):
        """The message's n-grams as TF-IDF (their values, first positions and pushes), the
        words view's logits, the fused embedding-view + pitfall logits as a list, and the
        embedding's projection on the examples' principal axes."""
        kp = self._k + self._p
        z = np.empty(self._emb_proj.shape[1], dtype=np.float32)
        project(z, f.embedding, self._emb_proj)
        h = [a + b for a, b in zip(z.tolist(), self._emb_b)]  # zip stops at the logits
        q = z[kp:] if self._basis is not None else f.embedding
        idx, firsts, counts = columns(self.vocab, f.ngrams)
        if not idx:
            return _NO_WORDS, [0.0] * kp, h, q
        idf = self._idf
        # Sublinear term frequency, as in training.
        vals = [idf[c] if n == 1 else idf[c] * (1.0 + math.log(n)) for c, n in zip(idx, counts)]
        # L2 normalisation folded into the logits: one weighted sum gives them all.
        norm = math.sqrt(sum([v * v for v in vals]))
        logits = [x / norm for x in weighted_rows(self._rows, idx, vals, kp)]
        return Words(vals, firsts, idx), logits, h, q

    def _views(self, words_logits, h, near) -> list[float]:
        """The three views' log-probabilities over the categories, the first part of stage 2's input."""
        k = self._k
        return _log_softmax(words_logits[:k]) + _log_softmax(h[:k]) + _log_softmax(near)

    def _tuned(self, f: Features) -> list[float]:
        """The transformer view's inputs, its log-probabilities as every view's: none on the
        static path; if the message was featurised
        without it, a flat distribution (no opinion) rather than a crash."""
        if not self._n_tuned:
            return []
        return _log_softmax(f.tuned) if f.tuned is not None else [-math.log(self._k)] * self._k

    def text_probabilities(self, f: Features) -> list[float]:
        """The learned part without the rules (the views, multiplied), for the ablation."""
        _, wl, h, q = self._heads(f)
        logs = self._views(wl, h, self._index.search(f.embedding, q)[0]) + self._tuned(f)
        k = self._k
        return _softmax([sum(logs[v * k + i] for v in range(len(logs) // k)) for i in range(k)])

    # --- stage 2 ------------------------------------------------------------------------

    def _stack_logits(self, log_p1: list[float], dense: list[float], keys) -> list[float]:
        out = [o + b for o, b in zip(weighted_rows(self._stack_w, self._stack_in, log_p1 + dense, self._k), self._stack_b)]
        for key in keys:
            r = self.stack_keys.get(key)
            if r is not None:
                row = self._sparse_rows[r]
                out = [o + row[i] for i, o in enumerate(out)]
        return out

    def _calibrated(self, logits: list[float]) -> list[float]:
        t = self.temperature
        return _softmax([z / t for z in logits])

    # --- the decision -------------------------------------------------------------------

    def decide(self, f: Features, knowledge, explain: bool = True) -> Decision:
        seen, wl, h, q = self._heads(f)
        near, nearest = self._index.search(f.embedding, q)
        log_p1 = self._views(wl, h, near)
        dense = f.rule_dense()
        logits = self._stack_logits(log_p1 + self._tuned(f), dense, f.rule_keys())
        probs = self._calibrated(logits)
        k = max(range(len(probs)), key=probs.__getitem__)
        abstained = False
        if LABELS[k] != "unclear" and probs[k] < self.abstain_below:
            k, abstained = LABELS.index("unclear"), True
        category = LABELS[k]
        pitfalls = self._pitfalls(f, wl, h, log_p1) if category != "unclear" and self._p > 1 else ()
        reasons: tuple[Signal, ...] = ()
        words: tuple[str, ...] = ()
        closest = None
        if explain and category != "unclear":  # "unclear" is no call, so there is nothing to explain
            reasons = self._reasons(f, knowledge, dense, logits, k, probs[k])
            words = self._words(f, seen, k)
            closest = (self.example_texts[nearest[k]], category) if nearest[k] != self._index.empty else None
        return Decision(
            category, probs[k], dict(zip(LABELS, probs)), pitfalls, reasons, words, closest, abstained
        )

    def _pitfalls(self, f: Features, words_logits, h, log_p1) -> tuple[str, ...]:
        k = self._k
        flags = [float(q in f.rules.pitfalls) for q in self.pitfall_ids[1:]]
        z = _log_softmax(words_logits[k:]) + _log_softmax(h[k:]) + log_p1 + flags
        p = _softmax([a + b for a, b in zip(weighted_rows(self._pit_w, self._pit_in, z, self._p), self._pit_b)])
        best = max(range(1, len(p)), key=p.__getitem__)
        return (self.pitfall_ids[best],) if p[best] >= self.pit_threshold else ()

    def _reasons(self, f: Features, knowledge, dense, logits, k: int, p_k: float) -> tuple[Signal, ...]:
        """Rule hits shown as reasons: on the decided side, and ones whose removal would
        lower the decided class's probability. A rule that misfired in context ("buying"
        read as an agent's action in a message about lunch) is then not offered as a why.

        Stage 2 is linear, so the logits without a hit are the full logits minus that hit's
        share: its own weight row and the change it makes to the dense rule features."""
        label = LABELS[k]
        if label == "unclear" or not f.rules.signals:
            return ()
        allowed = {"technical": ("technical", "both"), "societal": ("societal", "both")}.get(label, LABELS[:3])
        n_words = len(f.tokens.words)
        counts = tally(f.rules.signals)
        out = []
        for s in f.rules.signals:
            if s.category not in allowed:
                continue
            changed = rule_dense_without(f.rules, counts, s, *without_hit(knowledge, f.rules, s), n_words)
            share = weighted_rows(self._stack_w, self._dense_in, [b - a for b, a in zip(dense, changed)], self._k)
            row = self.stack_keys.get(f"rule:{s.rule_id}")
            if row is not None:
                share = [x + w for x, w in zip(share, self._sparse_rows[row])]
            if self._calibrated([x - d for x, d in zip(logits, share)])[k] < p_k:
                out.append(s)
        return tuple(out)

    def _words(self, f: Features, seen: Words, k: int) -> tuple[str, ...]:
        if not seen.values:
            return ()
        pushes = self._push[k]
        push = [v * pushes[c] for v, c in zip(seen.values, seen.rows)]
        shown: list[str] = []
        stems = len(f.tokens.stems)
        words = f.tokens.words
        starts = None  # where each bigram starts, made when a bigram is first shown
        for j in sorted(range(len(push)), key=push.__getitem__, reverse=True):
            if push[j] <= 0 or len(shown) >= MAX_WORDS:
                break
            pos = seen.firsts[j]
            if pos < stems:
                parts = (words[pos],)
            else:
                starts = starts or _bigram_starts(f)
                start = starts[pos - stems]
                parts = (words[start], words[start + 1])
            # "the", "is biased": true weights, but the content word says it better.
            # (Loops, not any() over generators: this runs for every call shown.)
            if [p for p in parts if p in FUNCTION_WORDS or len(p) < 3]:
                continue
            word = " ".join(parts)
            for w in shown:  # "refund" beside "refund policies"
                if word in w.split() or w in parts:
                    break
            else:
                shown.append(word)
        return tuple(shown)


def _bigram_starts(f: Features) -> list[int]:
    """The token where each bigram starts, in n-gram order (bigrams follow the unigrams, one
    per adjacent pair inside a clause; see features.ngrams)."""
    clauses = f.tokens.clauses
    return [i for i in range(len(clauses) - 1) if clauses[i] == clauses[i + 1]]


def _softmax(z) -> list[float]:
    top = max(z)
    e = [math.exp(x - top) for x in z]
    total = sum(e)
    return [x / total for x in e]


_LOG_FLOOR = math.log(1e-6)


def _log_softmax(z) -> list[float]:
    """log of stage 1's probabilities, floored at 1e-6 as in training (train._log_softmax_rows)."""
    top = max(z)
    shift = top + math.log(sum([math.exp(x - top) for x in z]))
    return [max(x - shift, _LOG_FLOOR) for x in z]


def expected_calibration_error(confidences, correct, bins: int = 10) -> tuple[float, list[dict]]:
    """ECE and the reliability table: per confidence bin, how often the call was right."""
    table = []
    total = len(confidences)
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if lo < c <= hi or (b == 0 and c == 0)]
        if not members:
            continue
        conf = sum(confidences[i] for i in members) / len(members)
        acc = sum(correct[i] for i in members) / len(members)
        ece += len(members) / total * abs(acc - conf)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(members), "confidence": conf, "accuracy": acc})
    return (ece if total else math.nan), table
