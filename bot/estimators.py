"""The four estimators training needs, in numpy (and scipy's L-BFGS): cross-validation folds,
complement naive Bayes, a ridge classifier and a multinomial logistic regression.

They were scikit-learn's until its import (0.6 s, for four small fits) became a third of a
cold training of 3,000 examples. Each computes what scikit-learn's namesake computes (the same
formulas and objective, `tests/learned/test_estimators.py` compares them where scikit-learn
is installed); the folds are drawn differently (by hash, see hashed_folds).
"""
from __future__ import annotations

import hashlib

import numpy as np


def hashed_folds(keys, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs, each example's fold a hash of its key (its text) and the seed.

    Not dealt round-robin: then one example added or relabeled moved hundreds of others to
    another fold, and the cross-validated figure a moderator reads after an edit moved by as
    much as the edit itself (three relabeled examples of 9,452: 0.900 -> 0.897, all of it the
    reshuffle). Hashed, every other example stays where it was, and the same text twice is
    always tested together, never learned from in one fold and tested in another. With
    thousands of examples the folds' sizes and label shares still differ by a few percent only."""
    fold_of = np.fromiter(
        (int.from_bytes(hashlib.blake2b(f"{seed}:{k}".encode(), digest_size=8).digest(), "little") % folds for k in keys),
        dtype=np.intp, count=len(keys),
    )
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(folds)]


def complement_nb(x, y: np.ndarray, classes: np.ndarray, alpha: float) -> np.ndarray:
    """(V, len(classes)) feature log-weights of complement naive Bayes (scikit-learn's
    ComplementNB(alpha, norm=False).feature_log_prob_, transposed). `x`: sparse counts or TF-IDF."""
    onehot = (y[:, None] == classes[None, :]).astype(np.float64)
    per_class = np.asarray(x.T @ onehot)  # (V, classes)
    complement = per_class.sum(axis=1, keepdims=True) + alpha - per_class
    return -np.log(complement / complement.sum(axis=0, keepdims=True))


def ridge(x: np.ndarray, y: np.ndarray, classes: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest ridge on ±1 targets with an intercept (scikit-learn's RidgeClassifier):
    (D, len(classes)) weights and their intercepts, by one regularised solve."""
    x = np.asarray(x, dtype=np.float64)
    targets = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    x_mean, t_mean = x.mean(axis=0), targets.mean(axis=0)
    xc = x - x_mean
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (targets - t_mean))
    return w, t_mean - x_mean @ w


def logistic(x: np.ndarray, y: np.ndarray, classes: np.ndarray, c: float, start=None,
             max_iter: int = 500, tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, L2 on the weights (not the intercepts), by L-BFGS:
    scikit-learn's LogisticRegression(C=c, tol, max_iter) objective, the mean log loss plus
    ||W||^2 / (2 C n). `start`: (weights, intercepts) to begin from; the loss is convex, so a
    fold's fit started from the full fit reaches the same optimum in a few iterations."""
    from scipy import sparse
    from scipy.optimize import minimize

    # The stacker's input is mostly one-hot columns (which rules fired): as a sparse matrix
    # each iteration's two products touch only the non-zeros (4x faster on the shipped corpus).
    x = sparse.csr_matrix(x, dtype=np.float64)
    n, d = x.shape
    k = len(classes)
    target = (y[:, None] == classes[None, :]).astype(np.float64)
    reg = 1.0 / (c * n)

    def loss_and_grad(theta):
        w, b = theta[: d * k].reshape(d, k), theta[d * k :]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(z - log_norm)
        loss = -np.sum(target * (z - log_norm)) / n + 0.5 * reg * np.sum(w * w)
        g = (p - target) / n
        return loss, np.concatenate([(np.asarray(x.T @ g) + reg * w).ravel(), g.sum(axis=0)])

    theta0 = np.zeros(d * k + k) if start is None else np.concatenate([np.ravel(start[0]), start[1]])
    found = minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B",
                     options={"maxiter": max_iter, "gtol": tol, "ftol": 64 * np.finfo(float).eps})  # fmt: skip
    return found.x[: d * k].reshape(d, k), found.x[d * k :]
