"""The neighbours view: which curated examples a message is most like, per label.

The ridge over the embedding (bot/model.py) is one plane; "three labs control almost all
frontier compute" sat among both/societal examples yet on the unclear side of it. Per label,
the mean cosine similarity of the KNN_TOP most similar examples sees that local structure;
the most similar one is also the "closest known case" a reply shows.

Both uses search the same way, so the stacker learns from exactly the feature it is shown:
each label's CANDIDATES nearest on the examples' first BASIS_DIMS principal axes, then those
ranked by the full vectors, with the examples' vectors and axis coordinates held as float16
(half the memory a search reads; similarities move by ~1e-4). `similarities` is that search
for a batch (training, out of fold); `ExampleIndex` is it for one message, in C
(bot/_kernels.c). Measured: cross-validated macro-F1 0.895 with 16 axes and 32 candidates,
0.896 with 48 and 48 at 40% more time; 8 axes lost 0.011 on the formal blind set.
"""
from __future__ import annotations

import numpy as np

from ._kernels import nearest

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


def as_stored(vecs: np.ndarray) -> np.ndarray:
    """The examples' vectors (and their coordinates on the axes) as the search holds them:
    rounded to float16."""
    return vecs.astype(np.float16).astype(np.float32)


def similarities(query: np.ndarray, base: np.ndarray, labels: np.ndarray, n: int, basis: np.ndarray) -> np.ndarray:
    """(len(query), n): per label, the mean similarity of its KNN_TOP nearest examples in
    `base` among its CANDIDATES nearest on the axes. A label with fewer examples counts its
    empty places as -1, as ExampleIndex does."""
    base = as_stored(base)
    sims = query @ base.T
    projected = (query @ basis) @ as_stored(base @ basis).T if basis.shape[1] else sims
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
    """The curated examples grouped by label, searched per message by bot/_kernels.c: the
    same search in numpy was a dozen calls on small arrays, ~55 µs a message in the flow."""

    def __init__(self, vecs: np.ndarray, labels: np.ndarray, n_labels: int, basis: np.ndarray | None) -> None:
        order = np.argsort(labels, kind="stable")
        counts = np.bincount(labels, minlength=n_labels)[:n_labels]
        self._starts = tuple(int(x) for x in np.concatenate([[0], np.cumsum(counts)[:-1]]))
        self._counts = tuple(int(x) for x in counts)
        half = np.ascontiguousarray(vecs[order], dtype=np.float16)  # (N, D), label by label
        self._vecs = half
        self._scan = _axis_major(half, basis)
        self._rows = order.tolist() + [len(vecs)]  # grouped row -> example row; -1 -> empty
        self.empty = len(vecs)  # the row number `search` gives a label without examples

    def search(self, emb: np.ndarray, projected: np.ndarray) -> tuple[list[float], list[int]]:
        """Per label: KNN_T x the mean similarity of its KNN_TOP nearest examples, and the
        row of the nearest. `projected`: the message on the basis (the embedding itself
        when there is none)."""
        sums, best = nearest(emb, projected, self._scan, self._vecs, self._starts, self._counts, CANDIDATES, KNN_TOP)
        return [KNN_T / KNN_TOP * x for x in sums], [self._rows[b] for b in best]


def _axis_major(half: np.ndarray, basis: np.ndarray | None, block: int = 1024) -> np.ndarray:
    """(d, N) float16: the examples' coordinates on the axes (their full vectors when there is
    no basis), worked out a block of rows at a time, so that loading never holds a float32
    copy of every vector (~9 MB at 8,500 examples, on a 150 MB memory budget)."""
    d = basis.shape[1] if basis is not None else half.shape[1]
    out = np.empty((d, len(half)), dtype=np.float16)
    for start in range(0, len(half), block):
        rows = half[start : start + block].astype(np.float32)
        out[:, start : start + block] = (rows @ basis if basis is not None else rows).T
    return out
