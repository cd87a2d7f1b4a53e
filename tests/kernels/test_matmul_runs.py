"""Tall products multiplied in runs of rows (jit.SMALL_PRODUCT): the same numbers
as one whole product, NaN and inf where the whole product has them, on one core
and across the cores' bands."""
import numba
import numpy as np
import pytest

from minicnn.kernels import jit


@pytest.fixture(params=["one core", "every core"])
def cores(request):
    """The kernels on one declared core (a batch worker), or on two threads."""
    before = numba.get_num_threads()
    if request.param == "one core":
        jit.one_thread(True)
    elif numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads to split the rows into bands")
    else:
        numba.set_num_threads(2)
    yield request.param
    jit.one_thread(False)
    numba.set_num_threads(before)


def test_run_length_rule():
    """Runs hold at most SMALL_PRODUCT multiply-adds; shorter than MIN_CHUNK_ROWS: whole."""
    assert jit.chunk_rows(25, 6) == jit.SMALL_PRODUCT // 150
    assert jit.chunk_rows(25, 6) * 25 * 6 <= jit.SMALL_PRODUCT
    assert jit.chunk_rows(800, 64) == 0            # 19 rows a run: not worth the calls
    assert jit.chunk_rows(1, 1) == jit.SMALL_PRODUCT


@pytest.mark.parametrize("rows, k, n, small", [
    (1100, 9, 4, 9 * 4 * 100),        # runs of 100 rows, the last one short
    (1536, 25, 6, 25 * 6 * 512),      # runs that fit the bands exactly
    (1030, 5, 3, 5 * 3 * 33),         # runs of 33 rows: 32 full ones and 7 rows
])
def test_products_in_runs_match_the_whole_product(monkeypatch, cores, rows, k, n, small):
    rng = np.random.default_rng(rows)
    a = rng.standard_normal((rows, k))
    b = rng.standard_normal((k, n))
    dz = rng.standard_normal((rows, n))
    monkeypatch.setattr(jit, "SMALL_PRODUCT", small)
    assert 0 < jit.chunk_rows(k, n) < rows                        # several runs
    np.testing.assert_allclose(jit.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    out = np.empty((rows, n))
    assert jit.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jit.matmul_tn(a, dz), a.T @ dz, rtol=1e-12, atol=1e-12)
    single = a.astype(np.float32)
    np.testing.assert_allclose(jit.matmul_tn(single, dz.astype(np.float32)),
                               a.T @ dz, rtol=2e-5, atol=2e-4)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_nan_and_inf_in_a_late_run(monkeypatch, cores):
    """A NaN or inf in the last run reaches the same outputs as in the whole product."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((1100, 4)).astype(np.float32)
    b = rng.standard_normal((4, 3)).astype(np.float32)
    dz = rng.standard_normal((1100, 3)).astype(np.float32)
    a[1090, 1], a[1095, 2], dz[1099, 0] = np.nan, np.inf, -np.inf
    monkeypatch.setattr(jit, "SMALL_PRODUCT", 4 * 3 * 100)
    for got, want in ((jit.matmul(a, b), a @ b), (jit.matmul_tn(a, dz), a.T @ dz)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5, atol=1e-5)


def test_a_transposed_right_side_stays_whole(monkeypatch):
    """dz @ W.T (W.T not C-contiguous) is slower cut: the rule leaves it whole."""
    calls = []
    monkeypatch.setattr(jit, "SMALL_PRODUCT", 1)
    monkeypatch.setattr(jit, "chunk_rows", lambda k, n: calls.append((k, n)) or 0)
    w = np.ones((4, 3), np.float32)
    jit.matmul(np.ones((64, 3), np.float32), w.T)
    assert calls == []
    jit.matmul(np.ones((64, 4), np.float32), w)
    assert calls == [(4, 3)]
