"""The neighbours view: which curated examples a message is most like, per label.

The ridge over the embedding (bot/model.py) is one plane; "three labs control almost all
frontier compute" sat among both/societal examples yet on the unclear side of it. Per label,
the mean cosine similarity of the KNN_TOP most similar examples sees that local structure;
the most similar one is also the "closest known case" a reply shows.

Both uses search the same way, so the stacker learns from exactly the feature it is shown:
each label's CANDIDATES nearest on the examples' first BASIS_DIMS principal axes, then those
ranked by the full vectors. `similarities` is that search for a batch (training, out of fold);
`ExampleIndex` is it for one message (~40 µs; scanning every full vector cost ~200 µs on a busy
core, memory rather than arithmetic). Measured: cross-validated macro-F1 0.895 with 16 axes and
32 candidates, 0.896 with 48 and 48 at 40% more time.
"""
from __future__ import annotations

import numpy as np

BASIS_DIMS = 16
CANDIDATES = 32
KNN_TOP = 3
KNN_T = 20.0  # similarities are scaled by this before their softmax


def principal_axes(x: np.ndarray, dims: int = BASIS_DIMS) -> np.ndarray:
    """The top principal axes of the example vectors (D, dims), signs fixed so that a refit
    of the same examples writes the same basis."""
    dims = min(dims, x.shape[1], max(len(x) - 1, 0))
    if dims <= 0:
        return np.zeros((x.shape[1], 0), dtype=np.float32)
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    axes = vt[:dims]
    axes *= np.sign(axes[np.arange(dims), np.argmax(np.abs(axes), axis=1)])[:, None]
    return np.ascontiguousarray(axes.T, dtype=np.float32)


def similarities(query: np.ndarray, base: np.ndarray, labels: np.ndarray, n: int, basis: np.ndarray) -> np.ndarray:
    """(len(query), n): per label, the mean similarity of its KNN_TOP nearest examples in
    `base` among its CANDIDATES nearest on the axes. A label with fewer examples counts its
    empty places as -1, as ExampleIndex does."""
    sims = query @ base.T
    projected = (query @ basis) @ (base @ basis).T if basis.shape[1] else sims
    out = np.full((len(query), n), -1.0)
    for c in range(n):
        cols = np.flatnonzero(labels == c)
        if not len(cols):
            continue
        s = sims[:, cols]
        if len(cols) > CANDIDATES:
            at = np.argpartition(projected[:, cols], -CANDIDATES, axis=1)[:, -CANDIDATES:]
            s = np.take_along_axis(s, at, axis=1)
        top = min(KNN_TOP, s.shape[1])
        best = np.partition(s, -top, axis=1)[:, -top:]
        out[:, c] = (best.sum(axis=1) - (KNN_TOP - top)) / KNN_TOP
    return out


class ExampleIndex:
    """The curated examples in label-ordered, padded slots, so every label is searched in
    the same few numpy calls."""

    def __init__(self, vecs: np.ndarray, labels: np.ndarray, n_labels: int, basis: np.ndarray | None) -> None:
        n, dims = vecs.shape
        groups = [np.flatnonzero(labels == k) for k in range(n_labels)]
        width = max(max((len(g) for g in groups), default=0), 1)
        slots = np.full(n_labels * width, n, dtype=np.intp)  # slot -> example row; n: empty
        for k, g in enumerate(groups):
            slots[k * width : k * width + len(g)] = g
        padded = np.vstack([vecs, np.zeros((1, dims))]).astype(np.float32)[slots]
        self._vecs = np.ascontiguousarray(padded)  # (labels * width, D), label by label
        self._scan = np.ascontiguousarray((padded @ basis).T if basis is not None else padded.T)
        self._rows = slots.tolist()
        self._fill = np.where(slots == n, -1.0, 0.0).astype(np.float32)  # an empty slot scores -1
        self._penalty = np.where(slots == n, -np.inf, 0.0).astype(np.float32).reshape(n_labels, width)
        self._offsets = (np.arange(n_labels) * width)[:, None]
        self._width = width
        self._candidates = min(CANDIDATES, width)
        self.empty = n  # the row number `search` gives a label without examples

    def search(self, emb: np.ndarray, projected: np.ndarray) -> tuple[list[float], list[int]]:
        """Per label: KNN_T x the mean similarity of its KNN_TOP nearest examples, and the
        row of the nearest. `projected`: the message on the basis (the embedding itself
        when there is none)."""
        scores = (projected @ self._scan).reshape(self._penalty.shape)
        scores += self._penalty
        if self._candidates < self._width:
            slots = scores.argpartition(-self._candidates, axis=1)[:, -self._candidates :] + self._offsets
        else:
            slots = np.broadcast_to(np.arange(self._width), scores.shape) + self._offsets
        sims = self._vecs[slots] @ emb
        sims += self._fill[slots]
        top = min(KNN_TOP, sims.shape[1])  # every label has at least MIN_PER_LABEL examples
        near = np.partition(sims, -top, axis=1)[:, -top:].sum(axis=1)  # .mean() runs Python code, 5 µs
        best = slots[np.arange(len(slots)), sims.argmax(axis=1)].tolist()
        return [KNN_T / top * x for x in near.tolist()], [self._rows[b] for b in best]
