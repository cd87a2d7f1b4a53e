"""The depthwise-convolution and scatter-add kernels: Numba against the NumPy twin.

Random shapes and geometries (loops run across the cores or on one thread,
as drawn), then special values: NaN and inf must land in the same cells,
finite results agree to float rounding; the scatter-add adds in the same
order as np.add.at, so it agrees bit for bit, NaN included.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import jit, reference, window
from tests.kernels.test_kernels import loops_on, window_case
from tests.kernels.test_special_values import ADD, assert_same, special_array

pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|overflow):RuntimeWarning")


def _depthwise_both(x, win, m, bias, rng, need_dx=True):
    kh, kw = win.size
    c = x.shape[-1]
    kernel = rng.standard_normal((kh, kw, c, m)).astype(x.dtype)
    b = rng.standard_normal(c * m).astype(x.dtype) if bias else None
    y_jit, cache_jit = jit.depthwise_conv2d_forward(x, kernel, b, win)
    y_ref, cache_ref = reference.depthwise_conv2d_forward(x, kernel, b, win)
    dz = rng.standard_normal(y_ref.shape).astype(x.dtype)
    return (y_jit, y_ref, jit.depthwise_conv2d_backward(dz, cache_jit, need_dx),
            reference.depthwise_conv2d_backward(dz, cache_ref, need_dx))


@settings(max_examples=25, deadline=None)
@given(window_case(), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans())
def test_depthwise_kernels_match_reference(case, m, bias, parallel, need_dx):
    x, win = case
    rng = np.random.default_rng(x.size)
    with loops_on(parallel):
        y_jit, y_ref, grads_jit, grads_ref = _depthwise_both(x, win, m, bias, rng, need_dx)
    tol = dict(rtol=1e-5, atol=1e-5)
    assert y_jit.shape == y_ref.shape == (x.shape[0], *win.output_hw, x.shape[-1] * m)
    assert y_jit.dtype == x.dtype
    np.testing.assert_allclose(y_jit, y_ref, **tol)
    for ours, theirs in zip(grads_jit, grads_ref):    # dx (or None), dkernel, dbias (or None)
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.dtype == x.dtype
            np.testing.assert_allclose(ours, theirs, **tol)
    assert (grads_ref[0] is None) == (not need_dx)
    assert (grads_ref[2] is None) == (not bias)


def test_depthwise_output_channel_order_is_c_times_m_plus_m():
    """Channel c*M + m of the output is input channel c under filter m (Keras's order)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 4, 3))
    kernel = rng.standard_normal((2, 2, 3, 2))
    win = window((4, 4), (2, 2))
    for twin in (jit, reference):
        y, _ = twin.depthwise_conv2d_forward(x, kernel, None, win)
        for c in range(3):
            for m in range(2):
                # channel c alone, through a plain 2-D correlation with its filter m
                expected = sum(x[0, i:i + 3, j:j + 3, c] * kernel[i, j, c, m]
                               for i in range(2) for j in range(2))
                np.testing.assert_allclose(y[0, :, :, c * 2 + m], expected, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_depthwise_special_values(data):
    n, c, m = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)),
               data.draw(st.integers(1, 2)))
    h, w, k = (data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4)),
               data.draw(st.integers(1, 2)))
    win = window((h, w), (k, k), padding=data.draw(st.sampled_from(["valid", "same"])))
    x = special_array(data.draw, (n, h, w, c), ADD)
    kernel = special_array(data.draw, (k, k, c, m), ADD)
    y_jit, cache_jit = jit.depthwise_conv2d_forward(x, kernel, None, win)
    y_ref, cache_ref = reference.depthwise_conv2d_forward(x, kernel, None, win)
    assert_same(y_jit, y_ref, exact=False)
    dz = special_array(data.draw, y_ref.shape, ADD)
    for ours, theirs in zip(jit.depthwise_conv2d_backward(dz, cache_jit)[:2],
                            reference.depthwise_conv2d_backward(dz, cache_ref)[:2]):
        assert_same(ours, theirs, exact=False)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(1, 40), st.integers(1, 5),
       st.sampled_from([np.int32, np.int64]), st.sampled_from([np.float32, np.float64]),
       st.integers(0, 2**16))
def test_scatter_add_rows_matches_reference_bit_for_bit(num_rows, m, d, id_dtype, dtype, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, num_rows, m).astype(id_dtype)
    rows = rng.standard_normal((m, d)).astype(dtype)
    ours = jit.scatter_add_rows(ids, rows, num_rows)
    np.testing.assert_array_equal(ours, reference.scatter_add_rows(ids, rows, num_rows))
    assert ours.shape == (num_rows, d) and ours.dtype == dtype
    # every row of the table received exactly the rows whose id points at it
    for r in range(num_rows):
        np.testing.assert_allclose(ours[r], rows[ids == r].sum(axis=0), rtol=1e-5, atol=1e-6)


@given(st.data())
def test_scatter_add_rows_special_values(data):
    m, d, num_rows = (data.draw(st.integers(1, 8)), data.draw(st.integers(1, 3)),
                      data.draw(st.integers(1, 4)))
    ids = np.array(data.draw(st.lists(st.integers(0, num_rows - 1), min_size=m, max_size=m)))
    rows = special_array(data.draw, (m, d), ADD)
    assert_same(jit.scatter_add_rows(ids, rows, num_rows),
                reference.scatter_add_rows(ids, rows, num_rows), exact=True)
