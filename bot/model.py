"""The learned decision at run time: features -> calibrated probabilities -> Decision.

Two stages, trained in bot/train.py. Stage 1 reads the words (stem n-grams, TF-IDF) and the
sentence embedding. Stage 2 reads stage 1's probabilities beside the rule evidence and
learns how far to trust each: on plain-language posts the rules' vocabulary fails, on
concept names they are sharp. Stage 2 was trained on stage 1's *out-of-fold* outputs, so it
weighs stage 1 as it behaves on messages it has not seen, which is how it is used here.

Prediction is plain numpy over arrays the trainer wrote (no scikit-learn import, ~0.5 s
saved at start-up), a few dot products per message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .features import Features, rule_dense
from .rules import without
from .verdict import LABELS, Signal

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


@dataclass
class Model:
    """Arrays only, so a cached model loads with numpy's safe (pickle-free) reader."""

    vocab: dict[str, int]
    idf: np.ndarray  # (V,)
    emb_scale: float
    text_w: np.ndarray  # (V + D, K): stage 1, rows are features
    text_b: np.ndarray  # (K,)
    stack_keys: dict[str, int]  # "rule:<id>" / "pitfall:<id>" -> row in stack_sparse
    stack_dense: np.ndarray  # (K + R, K): stage 2 over [log p1, rule dense]
    stack_sparse: np.ndarray  # (S, K)
    stack_b: np.ndarray
    temperature: float
    pitfall_ids: tuple[str, ...]  # column order of the pitfall head; "" means none
    pit_w: np.ndarray  # (V + D + P, len(pitfall_ids)): words, embedding, rule pitfall flags
    pit_b: np.ndarray
    pit_threshold: float
    abstain_below: float
    example_vecs: np.ndarray  # (N, D) embeddings of the curated examples
    example_labels: np.ndarray  # (N,) index into LABELS
    example_texts: tuple[str, ...]
    meta: dict = field(default_factory=dict)  # cross-validated figures, sizes, timings

    def __post_init__(self) -> None:
        self._by_label = {
            k: (np.flatnonzero(self.example_labels == k)) for k in range(len(LABELS))
        }

    # --- stage 1 ------------------------------------------------------------------------

    def _tfidf(self, f: Features) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Column indices, TF-IDF values (L2-normalised) and each column's first n-gram index."""
        vocab = self.vocab
        counts: dict[int, int] = {}
        first: dict[int, int] = {}
        for pos, g in enumerate(f.ngrams):
            col = vocab.get(g)
            if col is not None:
                if col in counts:
                    counts[col] += 1
                else:
                    counts[col] = 1
                    first[col] = pos
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), []
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf[idx]
        vals /= np.sqrt(vals @ vals)
        return idx, vals, [first[c] for c in counts]

    def _text_logits(self, idx: np.ndarray, vals: np.ndarray, emb: np.ndarray) -> np.ndarray:
        v = len(self.idf)
        out = emb @ self.text_w[v:] * self.emb_scale + self.text_b
        if len(idx):
            out += vals @ self.text_w[idx]
        return out

    # --- stage 2 ------------------------------------------------------------------------

    def _stack_logits(self, p1: np.ndarray, dense: np.ndarray, keys) -> np.ndarray:
        z = np.concatenate([np.log(np.clip(p1, 1e-6, 1.0)), dense])
        out = z @ self.stack_dense + self.stack_b
        rows = [self.stack_keys[k] for k in keys if k in self.stack_keys]
        if rows:
            out += self.stack_sparse[rows].sum(axis=0)
        return out

    def probabilities(self, f: Features) -> np.ndarray:
        idx, vals, _ = self._tfidf(f)
        return self._probs(f, idx, vals)

    def _probs(self, f: Features, idx, vals) -> np.ndarray:
        p1 = _softmax(self._text_logits(idx, vals, f.embedding))
        return _softmax(self._stack_logits(p1, f.rule_dense(), f.rule_keys()) / self.temperature)

    def text_probabilities(self, f: Features) -> np.ndarray:
        """Stage 1 alone: the learned part without the rules, for the ablation."""
        idx, vals, _ = self._tfidf(f)
        return _softmax(self._text_logits(idx, vals, f.embedding))

    # --- the decision -------------------------------------------------------------------

    def decide(self, f: Features, knowledge, explain: bool = True) -> Decision:
        idx, vals, firsts = self._tfidf(f)
        p1 = _softmax(self._text_logits(idx, vals, f.embedding))
        probs = _softmax(self._stack_logits(p1, f.rule_dense(), f.rule_keys()) / self.temperature)
        k = int(np.argmax(probs))
        abstained = False
        if LABELS[k] != "unclear" and probs[k] < self.abstain_below:
            k, abstained = LABELS.index("unclear"), True
        category = LABELS[k]
        pitfalls = self._pitfalls(f, idx, vals) if category != "unclear" else ()
        reasons: tuple[Signal, ...] = ()
        words: tuple[str, ...] = ()
        closest = None
        if explain:
            reasons = self._reasons(f, knowledge, p1, k, probs[k])
            words = self._words(f, idx, vals, firsts, k)
            closest = self._closest(f.embedding, k)
        return Decision(
            category, float(probs[k]), {LABELS[i]: float(p) for i, p in enumerate(probs)},
            pitfalls, reasons, words, closest, abstained,
        )  # fmt: skip

    def _pitfalls(self, f: Features, idx, vals) -> tuple[str, ...]:
        v = len(self.idf)
        d = len(f.embedding)
        flags = np.asarray([float(p in f.rules.pitfalls) for p in self.pitfall_ids[1:]], dtype=np.float32)
        logits = f.embedding @ self.pit_w[v : v + d] * self.emb_scale + flags @ self.pit_w[v + d :] + self.pit_b
        if len(idx):
            logits += vals @ self.pit_w[idx]
        p = _softmax(logits)
        best = int(np.argmax(p[1:])) + 1
        return (self.pitfall_ids[best],) if p[best] >= self.pit_threshold else ()

    def _reasons(self, f: Features, knowledge, p1, k: int, p_k: float) -> tuple[Signal, ...]:
        """Rule hits shown as reasons: on the decided side, and ones whose removal would
        lower the decided class's probability. A rule that misfired in context ("buying"
        read as an agent's action in a message about lunch) is then not offered as a why."""
        label = LABELS[k]
        if label == "unclear":
            return ()
        allowed = {"technical": ("technical", "both"), "societal": ("societal", "both")}.get(label, LABELS[:3])
        out = []
        for s in f.rules.signals:
            if s.category not in allowed:
                continue
            ev = without(knowledge, f.rules, s)
            keys = [key for key in f.rule_keys() if key != f"rule:{s.rule_id}"]
            p_without = _softmax(self._stack_logits(p1, rule_dense(ev), keys) / self.temperature)[k]
            if p_without < p_k:
                out.append(s)
        return tuple(out)

    def _words(self, f: Features, idx, vals, firsts, k: int) -> tuple[str, ...]:
        if not len(idx):
            return ()
        w = self.text_w[idx]
        push = vals * (w[:, k] - w.mean(axis=1))
        order = np.argsort(-push)
        shown: list[str] = []
        stems = len(f.tokens.stems)
        for j in order[: MAX_WORDS * 2]:
            if push[j] <= 0 or len(shown) >= MAX_WORDS:
                break
            pos = firsts[j]
            if pos < stems:
                word = f.tokens.words[pos]
            else:
                start = _bigram_start(f, pos)
                word = f"{f.tokens.words[start]} {f.tokens.words[start + 1]}"
            if len(word) > 2 and word not in shown:
                shown.append(word)
        return tuple(shown)

    def _closest(self, emb: np.ndarray, k: int) -> tuple[str, str] | None:
        rows = self._by_label.get(k)
        if rows is None or not len(rows) or not emb.any():
            return None
        best = rows[int(np.argmax(self.example_vecs[rows] @ emb))]
        return self.example_texts[best], LABELS[k]


def _bigram_start(f: Features, pos: int) -> int:
    """The token where the bigram at n-gram position `pos` starts (bigrams follow the
    unigrams, one per adjacent pair inside a clause; see features.ngrams)."""
    clauses = f.tokens.clauses
    seen = len(f.tokens.stems)
    for i in range(len(clauses) - 1):
        if clauses[i] == clauses[i + 1]:
            if seen == pos:
                return i
            seen += 1
    return 0


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


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
