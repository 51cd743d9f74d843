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


def test_stratified_folds_partition_every_label_evenly():
    y = np.repeat(np.arange(4), [50, 31, 7, 12])
    folds = estimators.stratified_folds(y, 5, seed=0)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))  # each example tested exactly once
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == len(y)
        for label, n in enumerate([50, 31, 7, 12]):
            assert abs(np.sum(y[test] == label) - n / 5) <= 1
    assert [te.tolist() for _, te in folds] == [te.tolist() for _, te in estimators.stratified_folds(y, 5, seed=0)]
