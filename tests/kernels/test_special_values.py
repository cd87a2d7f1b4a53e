"""The twins agree on NaN, +-inf, -0.0, denormals and huge values.

A faster kernel must give what its NumPy twin gives, which is what NumPy and
TensorFlow give: NaN stays NaN through ReLU and max pooling (it used to turn
into 0 in the fused bias + ReLU), inf stays inf through average pooling.
Kernels that only move or compare values must agree bit for bit; kernels
that add may add in another order, so there finite results agree to 1e-5
and the NaN and inf cells must be the same cells.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minicnn import kernels
from minicnn.kernels import jit, reference

pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|overflow):RuntimeWarning")

MOVE = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, -1e-40, 3e38, -3e38, 1.0, -2.5, 0.5]
ADD = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, -1e-40, 1e30, -1e30, 1.0, -2.5, 0.5]


def special_array(draw, shape, values, dtype=np.float32):
    picks = draw(st.lists(st.integers(0, len(values) - 1), min_size=int(np.prod(shape)),
                          max_size=int(np.prod(shape))))
    return np.array([values[i] for i in picks], dtype=dtype).reshape(shape)


def assert_same(a, b, exact):
    if exact:
        np.testing.assert_array_equal(a, b)           # NaN == NaN here
        return
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    inf = np.isinf(a)
    np.testing.assert_array_equal(inf, np.isinf(b))
    np.testing.assert_array_equal(a[inf], b[inf])
    np.testing.assert_allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-5, atol=1e-37)


@st.composite
def image_and_window(draw, values, pooling=False):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 2)) if pooling else draw(st.integers(1, 3))
    h, w = draw(st.integers(k, 5)), draw(st.integers(k + 1, 5))
    s = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same"]))
    x = special_array(draw, (n, h, w, c), values)
    return x, kernels.window((h, w), (k, min(k + 1, w)), (s, s), padding=padding)


@given(image_and_window(MOVE))
def test_im2col_and_col2im(case):
    x, win = case
    assert_same(jit.im2col(x, win), reference.im2col(x, win), exact=True)
    dcols = np.ascontiguousarray(reference.im2col(np.where(np.abs(x) > 1e29, 1e30, x), win))
    assert_same(jit.col2im(dcols, x.shape, win), reference.col2im(dcols, x.shape, win),
                exact=False)


@given(image_and_window(MOVE, pooling=True))
def test_max_pooling(case):
    x, win = case
    (y, arg), (y_ref, arg_ref) = jit.maxpool_forward(x, win), reference.maxpool_forward(x, win)
    assert_same(y, y_ref, exact=True)
    np.testing.assert_array_equal(arg, arg_ref)
    nan_windows = np.isnan(reference.windows(x, win, fill=-np.inf)).any(axis=(3, 4))
    np.testing.assert_array_equal(np.isnan(y), nan_windows)   # NaN anywhere -> NaN out
    dy = np.ones_like(y)
    assert_same(jit.maxpool_backward(dy, arg, x.shape, win),
                reference.maxpool_backward(dy, arg_ref, x.shape, win), exact=True)


@given(image_and_window(ADD, pooling=True))
def test_average_pooling(case):
    x, win = case
    assert_same(jit.avgpool_forward(x, win), reference.avgpool_forward(x, win), exact=False)
    dy = reference.avgpool_forward(x, win)
    assert_same(jit.avgpool_backward(dy, x.shape, win),
                reference.avgpool_backward(dy, x.shape, win), exact=False)


@st.composite
def matrices(draw, values):
    rows, f = draw(st.integers(1, 40)), draw(st.integers(1, 20))
    return special_array(draw, (rows, f), values), special_array(draw, (f,), values)


@given(matrices(MOVE))
def test_bias_relu_relu_backward_and_column_sums(case):
    z, b = case
    y, y_ref = jit.bias_relu(z.copy(), b), reference.bias_relu(z.copy(), b)
    assert_same(y, y_ref, exact=True)
    assert np.isnan(y).sum() == np.isnan(z + b).sum()      # NaN is never turned into 0
    assert_same(jit.relu_backward(z, y), reference.relu_backward(z, y_ref), exact=True)
    assert_same(jit.column_sums(z), reference.column_sums(z), exact=True)


@given(matrices(MOVE), st.integers(0, 2 ** 64 - 1), st.integers(0, 10 ** 6),
       st.floats(0, 0.99))
def test_dropout_apply(case, key, start, rate):
    """Kept cells are x * scale, dropped ones x * 0 (NaN and inf stay NaN), the same
    cells in both twins, bit for bit, and -0 keeps its sign."""
    x, _ = case
    threshold = int(np.ceil(rate * 2 ** 32))
    scale = np.float32(1 / (1 - rate))
    y, y_ref = (twin.dropout_apply(x, key, start, threshold, scale) for twin in (jit, reference))
    assert_same(y, y_ref, exact=True)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(y_ref))
    assert np.isnan(y).sum() >= np.isnan(x).sum()                # NaN never becomes a number


@given(matrices(ADD), matrices(ADD))
def test_matrix_products(first, second):
    a, _ = first
    b, _ = second
    b = np.ascontiguousarray(np.resize(b, (a.shape[1], 3)))
    assert_same(jit.matmul(a, b), reference.matmul(a, b), exact=False)
    c = np.ascontiguousarray(np.resize(first[0], (a.shape[0], 2)))
    assert_same(jit.matmul_tn(a, c), reference.matmul_tn(a, c), exact=False)


@given(image_and_window(ADD))
def test_whole_convolution(case):
    x, win = case
    kernel = np.linspace(-1, 1, win.size[0] * win.size[1] * x.shape[3] * 2, dtype=np.float32)
    kernel = kernel.reshape(*win.size, x.shape[3], 2)
    bias = np.array([0.5, np.nan], dtype=np.float32)
    y, cache = jit.conv2d_forward(x, kernel, bias, win, relu=True)
    y_ref, cache_ref = reference.conv2d_forward(x, kernel, bias, win, relu=True)
    assert_same(y, y_ref, exact=False)
    assert np.isnan(y[..., 1]).all()                         # a NaN bias is never hidden
    for got, want in zip(jit.conv2d_backward(y, cache), reference.conv2d_backward(y_ref, cache_ref)):
        assert_same(got, want, exact=False)


@pytest.mark.parametrize("c", [1, 6, 15, 16, 17])
@pytest.mark.parametrize("hw, padding", [((6, 8), "valid"), ((7, 5), "valid"), ((6, 4), "same"),
                                         ((5, 5), "same")])
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pooling_2x2_every_path(c, hw, padding, parallel, dtype, monkeypatch):
    """2x2 windows at stride 2 take loops of their own: row by row below
    ``jit.POOL_ROWS_BELOW_C`` channels, unrolled over the channels from there
    (forward; backward keeps the tiled loop there). Whichever runs, serial or
    parallel, gives the reference's maxima, winners and gradients bit for bit,
    ties, NaN and inf included. Odd sizes leave a row or column to no window
    (valid) or to a padded one (same), which these loops must leave to the
    general ones."""
    calls = []
    for name in ("_maxpool2x2_forward", "_maxpool2x2_rows_forward", "_maxpool2x2_rows_backward"):
        kernel = getattr(jit, name)
        monkeypatch.setattr(jit, name, lambda *a, k=kernel, n=name: calls.append(n) or k(*a))
    monkeypatch.setattr(jit, "SERIAL_BELOW", 0 if parallel else 2**62)
    rng = np.random.default_rng(c * 100 + hw[0] * 10 + hw[1])
    x = rng.choice(np.array(MOVE, dtype), size=(3, *hw, c))
    win = kernels.window(hw, (2, 2), (2, 2), padding=padding)
    (y, arg), (y_ref, arg_ref) = jit.maxpool_forward(x, win), reference.maxpool_forward(x, win)
    assert_same(y, y_ref, exact=True)
    np.testing.assert_array_equal(arg, arg_ref)
    dy = rng.choice(np.array(MOVE, dtype), size=y.shape)
    assert_same(jit.maxpool_backward(dy, arg, x.shape, win),
                reference.maxpool_backward(dy, arg_ref, x.shape, win), exact=True)
    inside = padding == "valid" or hw[0] % 2 == hw[1] % 2 == 0
    exact = hw[0] % 2 == hw[1] % 2 == 0
    narrow = c < jit.POOL_ROWS_BELOW_C
    forward = ["_maxpool2x2_rows_forward" if narrow else "_maxpool2x2_forward"] if inside else []
    assert calls == forward + (["_maxpool2x2_rows_backward"] if exact and narrow else [])
