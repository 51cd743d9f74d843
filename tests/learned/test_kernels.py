"""bot/_kernels.c against numpy: the compiled loops must compute what the numpy code they
replaced computed (training still uses numpy, so any difference would be a skew)."""
import numpy as np
import pytest

from bot._kernels import columns, nearest, project, sum_rows, weighted_rows


@pytest.mark.parametrize("plain", [False, True], ids=["simd", "plain"])
def test_sum_rows_equals_numpy_to_the_bit(plain):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(50, 37)).astype(np.float16)  # 37: a width with a tail after 8-column blocks
    table[3, :4] = [np.inf, -np.inf, 6e-8, -0.0]  # infinities, a subnormal, a negative zero
    ids = [3, 7, 7, 49, 0]
    out = np.zeros(37, dtype=np.float32)
    sum_rows(out, table, ids, plain)
    expected = table.take(ids, axis=0).sum(axis=0, dtype=np.float32)
    assert out.tobytes() == expected.tobytes()


def test_sum_rows_refuses_what_it_cannot_read():
    out = np.zeros(4, dtype=np.float32)
    with pytest.raises(TypeError, match="float16"):
        sum_rows(out, np.zeros((2, 4), dtype=np.float32), [0])
    with pytest.raises(IndexError, match="outside"):
        sum_rows(out, np.zeros((2, 4), dtype=np.float16), [2])
    with pytest.raises(TypeError, match="float16"):
        sum_rows(np.zeros(3, dtype=np.float32), np.zeros((2, 4), dtype=np.float16), [0])


def test_weighted_rows_equals_numpy():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(40, 9)).astype(np.float32)
    rows, weights = [5, 0, 39], [0.5, 2.0, -1.25]
    got = weighted_rows(table, rows, weights, 6)
    assert len(got) == 6
    np.testing.assert_allclose(got, (np.asarray(weights)[:, None] * table[rows]).sum(axis=0)[:6], rtol=1e-6)
    assert weighted_rows(table, [], [], 6) == [0.0] * 6
    with pytest.raises(ValueError, match="differ"):
        weighted_rows(table, [1, 2], [1.0], 6)


def test_columns_lists_known_ngrams_once_with_first_position_and_count():
    vocab = {"bias": 7, "model": 2, "the model": 9, "audit": 0}
    grams = ("the", "model", "bias", "model", "unknown", "the model", "model", "audit")
    assert columns(vocab, grams) == ([2, 7, 9, 0], [1, 2, 5, 7], [3, 1, 1, 1])
    assert columns(vocab, ()) == ([], [], [])
    many = tuple(f"g{i % 300}" for i in range(3000))  # a long message: the table grows, nothing is lost
    cols, firsts, counts = columns({f"g{i}": i for i in range(300)}, many)
    assert cols == list(range(300)) and firsts == list(range(300)) and counts == [10] * 300
    with pytest.raises(TypeError):
        columns(list(vocab), grams)


def test_project_equals_numpy():
    rng = np.random.default_rng(4)
    vec, table = rng.normal(size=50).astype(np.float32), rng.normal(size=(50, 13)).astype(np.float32)
    out = np.full(13, np.nan, dtype=np.float32)  # overwritten, not added to
    project(out, vec, table)
    np.testing.assert_allclose(out, vec @ table, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="project"):
        project(np.zeros(12, dtype=np.float32), vec, table)


def test_weighted_rows_reads_float64_tables_too():
    table = np.arange(12, dtype=np.float64).reshape(4, 3)
    assert weighted_rows(table, [0, 1, 2, 3], [1.0, 0.0, 0.0, 2.0], 3) == [18.0, 21.0, 24.0]
    with pytest.raises(TypeError, match="float32 or float64"):
        weighted_rows(table.astype(np.int64), [0], [1.0], 3)


def _brute_force(emb, projected, scan, half, starts, counts, candidates, top):
    vecs, scan = half.astype(np.float32), scan.astype(np.float32)
    sums, best = [], []
    for s, c in zip(starts, counts):
        if not c:
            sums.append(-float(top))
            best.append(-1)
            continue
        on_axes = projected @ scan[:, s : s + c]
        chosen = np.argsort(-on_axes, kind="stable")[:candidates] + s
        sims = vecs[chosen] @ emb
        order = np.argsort(-sims, kind="stable")
        kept = sims[order[:top]]
        sums.append(float(kept.sum()) - (top - len(kept)))
        best.append(int(chosen[order[0]]))
    return sums, best


@pytest.mark.parametrize("plain", [False, True], ids=["simd", "plain"])
@pytest.mark.parametrize("candidates, top", [(32, 3), (5, 3), (3, 3), (8, 1)])
def test_nearest_equals_a_brute_force_search(candidates, top, plain):
    rng = np.random.default_rng(2)
    vecs = rng.normal(size=(300, 27)).astype(np.float32)  # 27: a tail after the 8-lane blocks
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = vecs.astype(np.float16)
    basis = np.linalg.svd(vecs.astype(np.float32), full_matrices=False)[2][:6].T.astype(np.float32)
    scan = np.ascontiguousarray((vecs.astype(np.float32) @ basis).T.astype(np.float16))
    starts, counts = (0, 200, 200, 298), (200, 0, 98, 2)  # an empty label and one with fewer rows than top
    for trial in range(20):
        emb = rng.normal(size=27).astype(np.float32)
        emb /= np.linalg.norm(emb)
        projected = np.ascontiguousarray(emb @ basis)
        sums, best = nearest(emb, projected, scan, vecs, starts, counts, candidates, top, plain)
        want_sums, want_best = _brute_force(emb, projected, scan, vecs, starts, counts, candidates, top)
        np.testing.assert_allclose(sums, want_sums, rtol=1e-5, atol=1e-5)
        assert best == want_best


def test_nearest_gives_the_same_floats_with_and_without_the_half_float_instructions():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(100, 40)).astype(np.float16)
    scan = np.ascontiguousarray(rng.normal(size=(4, 100)).astype(np.float16))
    emb, projected = rng.normal(size=40).astype(np.float32), rng.normal(size=4).astype(np.float32)
    args = (emb, projected, scan, vecs, (0, 60), (60, 40), 10, 3)
    assert nearest(*args, False) == nearest(*args, True)


def test_nearest_refuses_mismatched_arrays():
    vecs = np.zeros((10, 8), dtype=np.float16)
    scan = np.zeros((4, 10), dtype=np.float16)
    emb, projected = np.zeros(8, dtype=np.float32), np.zeros(4, dtype=np.float32)
    with pytest.raises(ValueError, match="shapes"):
        nearest(emb, np.zeros(3, dtype=np.float32), scan, vecs, (0,), (10,), 3, 3)
    with pytest.raises(ValueError, match="outside"):
        nearest(emb, projected, scan, vecs, (5,), (10,), 3, 3)
    with pytest.raises(TypeError, match="float32"):
        nearest(emb.astype(np.float64), projected, scan, vecs, (0,), (10,), 3, 3)
    with pytest.raises(TypeError, match="float16"):
        nearest(emb, projected, scan, vecs.astype(np.float32), (0,), (10,), 3, 3)
    with pytest.raises(ValueError, match="candidates"):
        nearest(emb, projected, scan, vecs, (0,), (10,), 2, 3)
