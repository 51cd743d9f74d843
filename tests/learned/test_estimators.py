"""bot/estimators.py against the scikit-learn estimators it replaced (a test extra): the
same formulas, so the same weights, on data shaped like the decision's."""
import numpy as np
import pytest
from scipy import sparse

from bot import estimators

sklearn = pytest.importorskip("sklearn")


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 600)
    dense = rng.normal(size=(600, 24)) + y[:, None] * rng.normal(size=24) * 0.5  # labels shift the mean
    counts = sparse.csr_matrix(rng.poisson(0.3 + 0.4 * (np.arange(300)[None, :] % 4 == y[:, None]), size=(600, 300)).astype(np.float64))
    return y, dense, counts


def test_complement_naive_bayes_is_scikit_learns(data):
    from sklearn.naive_bayes import ComplementNB

    y, _, counts = data
    ours = estimators.complement_nb(counts, y, np.arange(4), 0.3)
    theirs = ComplementNB(alpha=0.3).fit(counts, y).feature_log_prob_.T
    assert np.allclose(ours, theirs, atol=1e-10)


def test_ridge_is_scikit_learns(data):
    from sklearn.linear_model import RidgeClassifier

    y, dense, _ = data
    w, b = estimators.ridge(dense, y, np.arange(4), 1.0)
    r = RidgeClassifier(alpha=1.0).fit(dense, y)
    assert np.allclose(w, r.coef_.T, atol=1e-6) and np.allclose(b, r.intercept_, atol=1e-6)


def test_logistic_regression_reaches_scikit_learns_optimum_and_warm_starts(data):
    from sklearn.linear_model import LogisticRegression

    y, dense, _ = data
    w, b = estimators.logistic(dense, y, np.arange(4), 0.3, tol=1e-6)
    m = LogisticRegression(C=0.3, tol=1e-6, max_iter=2000).fit(dense, y)
    assert np.allclose(w, m.coef_.T, atol=1e-3)
    assert np.array_equal(np.argmax(dense @ w + b, axis=1), m.predict(dense))
    half = np.arange(300)
    cold = estimators.logistic(dense[half], y[half], np.arange(4), 0.3, tol=1e-6)
    warm = estimators.logistic(dense[half], y[half], np.arange(4), 0.3, start=(w, b), tol=1e-6)
    assert np.allclose(cold[0], warm[0], atol=1e-3)  # same optimum from the full fit's start


def test_hashed_folds_partition_evenly_and_stay_put_when_examples_change():
    keys = [f"example text number {i}" for i in range(5000)]
    folds = estimators.hashed_folds(keys, 5, seed=0)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(keys)))  # each example tested exactly once
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == len(keys)
        assert abs(len(test) - 1000) < 100  # a hash, not a deal: balanced within a few percent
    fold_of = {keys[i]: f for f, (_, te) in enumerate(folds) for i in te}

    # One example added in the middle and one removed: every other example keeps its fold.
    edited = keys[:2500] + ["a new example"] + keys[2501:]
    after = {edited[i]: f for f, (_, te) in enumerate(estimators.hashed_folds(edited, 5, seed=0)) for i in te}
    assert all(after[k] == fold_of[k] for k in edited if k in fold_of)

    twice = estimators.hashed_folds(["same text", "other", "same text"], 5, seed=0)
    assert any({0, 2} <= set(te.tolist()) for _, te in twice)  # duplicates are tested together
    reseeded = estimators.hashed_folds(keys, 5, seed=1)
    assert [te.tolist() for _, te in reseeded] != [te.tolist() for _, te in folds]


