"""Every Numba kernel against its NumPy twin, on random shapes and geometries.

Each loop kernel is compiled twice, as a parallel twin that runs across the
cores and a serial one that runs on the calling thread (``jit.parallel_loops``,
``SERIAL_BELOW``); the property tests draw which one runs.
"""
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import jit, reference, same_padding, window


def geo(x_shape, kh, kw, sh=1, sw=1, dh=1, dw=1, pads=(0, 0, 0, 0)):
    """The Window of a kh x kw kernel over images of ``x_shape``; pads (top, bottom, left, right)."""
    return window(x_shape[1:3], (kh, kw), (sh, sw), (dh, dw),
                  ((pads[0], pads[1]), (pads[2], pads[3])))


@st.composite
def window_case(draw, dilated=True):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - pads[0] - pads[1]), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - pads[2] - pads[3]), 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).standard_normal((n, h, w, c)).astype(dtype)
    return x, geo(x.shape, kh, kw, sh, sw, dh, dw, pads)


@contextlib.contextmanager
def loops_on(parallel):
    """Force the parallel (True) or the serial (False) copy of every loop kernel."""
    before = jit.SERIAL_BELOW
    jit.SERIAL_BELOW = 0 if parallel else 2**62
    try:
        yield
    finally:
        jit.SERIAL_BELOW = before


@settings(max_examples=40, deadline=None)
@given(window_case(), st.booleans())
def test_im2col_and_col2im_match_reference(case, parallel):
    with loops_on(parallel):
        _check_im2col_and_col2im(*case)


def _check_im2col_and_col2im(x, win):
    cols = jit.im2col(x, win)
    np.testing.assert_array_equal(cols, reference.im2col(x, win))
    assert cols.dtype == x.dtype
    dcols = np.random.default_rng(1).standard_normal(cols.shape).astype(x.dtype)
    np.testing.assert_allclose(jit.col2im(dcols, x.shape, win),
                               reference.col2im(dcols, x.shape, win), rtol=1e-5, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(window_case(dilated=False), st.booleans())
def test_pooling_kernels_match_reference(case, parallel):
    with loops_on(parallel):
        _check_pooling(*case)


def pooling_window(x_shape, conv_window):
    """The pooling window of a drawn case: padding can not exceed the window, or a
    window would see padding only. None when the window no longer fits."""
    (ph, pw), (sh, sw) = conv_window.size, conv_window.strides
    pads = conv_window.pads
    pads = (min(pads[0], ph - 1), min(pads[1], ph - 1), min(pads[2], pw - 1), min(pads[3], pw - 1))
    if x_shape[1] + pads[0] + pads[1] < ph or x_shape[2] + pads[2] + pads[3] < pw:
        return None
    return geo(x_shape, ph, pw, sh, sw, pads=pads)


def _check_pooling(x, conv_window):
    win = pooling_window(x.shape, conv_window)
    if win is None:
        return
    y, arg = jit.maxpool_forward(x, win)
    y_ref, arg_ref = reference.maxpool_forward(x, win)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    dy = np.random.default_rng(2).standard_normal(y.shape).astype(x.dtype)
    np.testing.assert_allclose(jit.maxpool_backward(dy, arg, x.shape, win),
                               reference.maxpool_backward(dy, arg_ref, x.shape, win), rtol=1e-6)
    np.testing.assert_allclose(jit.avgpool_forward(x, win), reference.avgpool_forward(x, win),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jit.avgpool_backward(dy, x.shape, win),
                               reference.avgpool_backward(dy, x.shape, win), rtol=1e-5, atol=1e-6)


def test_im2col_rows_are_receptive_fields():
    # 1x6x6 input, 3x3 kernel: row (i, j) of cols is the 3x3 patch at (i, j)
    x = np.arange(36, dtype=np.float64).reshape(1, 6, 6, 1)
    cols = jit.im2col(x, geo(x.shape, 3, 3))
    assert cols.shape == (16, 9)
    np.testing.assert_array_equal(cols[5], x[0, 1:4, 1:4, 0].ravel())


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3))
    win = geo(x.shape, 3, 2, 2, 1, 1, 2, (1, 0, 2, 1))
    for impl in (jit, reference):
        cols = impl.im2col(x, win)
        d = rng.standard_normal(cols.shape)
        # <im2col(x), d> == <x, col2im(d)>
        np.testing.assert_allclose((cols * d).sum(), (x * impl.col2im(d, x.shape, win)).sum())


def test_maxpool_first_maximum_takes_the_gradient():
    x = np.array([[1.0, 3.0], [3.0, 0.0]]).reshape(1, 2, 2, 1)
    for impl in (jit, reference):
        y, arg = impl.maxpool_forward(x, geo(x.shape, 2, 2, 2, 2))
        dx = impl.maxpool_backward(np.ones_like(y), arg, x.shape, geo(x.shape, 2, 2, 2, 2))
        assert y[0, 0, 0, 0] == 3.0
        np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1], [0, 0]])


def test_maxpool_padding_never_wins():
    x = -np.ones((1, 3, 3, 1), dtype=np.float32)
    for impl in (jit, reference):
        y, _ = impl.maxpool_forward(x, geo(x.shape, 2, 2, 2, 2, pads=(0, 1, 0, 1)))
        np.testing.assert_array_equal(y, -1.0)


def test_avgpool_same_divides_by_inbounds_cells():
    x = np.ones((1, 3, 3, 1), dtype=np.float32)
    for impl in (jit, reference):
        y = impl.avgpool_forward(x, geo(x.shape, 2, 2, 2, 2, pads=(0, 1, 0, 1)))
        np.testing.assert_allclose(y, 1.0)


@pytest.mark.parametrize("n,k,s,d,expected", [
    (5, 2, 1, 1, (0, 1)),      # k=2, s=1 pads (0, 1)
    (8, 3, 2, 1, (0, 1)),      # n=8, k=3, s=2 pads (0, 1)
    (7, 3, 1, 1, (1, 1)),
    (6, 3, 1, 2, (2, 2)),
    (1, 5, 1, 1, (2, 2)),
])
def test_same_padding_follows_tensorflow(n, k, s, d, expected):
    assert same_padding(n, k, s, d) == expected


@pytest.mark.parametrize("parallel", [True, False])
def test_bias_relu_and_relu_backward_match_reference(parallel):
    with loops_on(parallel):
        _check_relu()


def _check_relu():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((50, 7)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    y1, y2 = jit.bias_relu(z.copy(), b), reference.bias_relu(z.copy(), b)
    np.testing.assert_array_equal(y1, y2)
    dy = rng.standard_normal(z.shape).astype(np.float32)
    np.testing.assert_array_equal(jit.relu_backward(dy, y1), reference.relu_backward(dy, y2))


def test_serial_and_parallel_copies_agree_at_training_size():
    """A real batch (64 MNIST images, 3x3 conv then 2x2 pool) takes the parallel path."""
    x = np.random.default_rng(4).standard_normal((64, 28, 28, 32)).astype(np.float32)
    conv, pool = geo(x.shape, 3, 3, pads=(1, 1, 1, 1)), geo(x.shape, 2, 2, 2, 2)
    assert x.size >= jit.SERIAL_BELOW
    results = []
    for parallel in (True, False):
        with loops_on(parallel):
            cols = jit.im2col(x, conv)
            y, arg = jit.maxpool_forward(x, pool)
            results.append((cols, y, arg, jit.col2im(cols, x.shape, conv),
                            jit.maxpool_backward(y, arg, x.shape, pool)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][0], reference.im2col(x, conv))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.integers(1, 80), st.sampled_from([np.float32, np.float64]),
       st.booleans(), st.integers(0, 2**16))
def test_column_sums_are_bit_identical_to_numpy(rows, f, dtype, parallel, seed):
    a = np.random.default_rng(seed).standard_normal((rows, f)).astype(dtype)
    with loops_on(parallel):
        got = jit.column_sums(a)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, reference.column_sums(a))
    np.testing.assert_array_equal(got, a.sum(axis=0))


@pytest.mark.parametrize("shape, pool, pads", [
    ((64, 26, 26, 32), 2, (0, 0, 0, 0)),     # exact tiling
    ((64, 28, 28, 6), 2, (0, 0, 0, 0)),      # LeNet-5's pooling: the row-by-row loops
    ((3, 11, 11, 5), 2, (0, 0, 0, 0)),       # the last row and column belong to no window
    ((2, 7, 9, 3), 3, (0, 2, 1, 2)),         # "same"-style padding, the bottom larger
    ((2, 5, 5, 4), 2, (1, 0, 1, 0)),
])
def test_tiled_maxpool_backward_matches_reference(shape, pool, pads):
    """stride == pool size takes the one-pass kernel; every cell is checked."""
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    win = geo(shape, pool, pool, pool, pool, pads=pads)
    y, arg = jit.maxpool_forward(x, win)
    dy = np.random.default_rng(6).standard_normal(y.shape).astype(np.float32)
    expected = reference.maxpool_backward(dy, reference.maxpool_forward(x, win)[1], shape, win)
    for parallel in (True, False):
        with loops_on(parallel):
            np.testing.assert_array_equal(jit.maxpool_backward(dy, arg, shape, win), expected)
