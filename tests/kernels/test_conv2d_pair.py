"""The readable conv2d_forward / conv2d_backward pair: what Conv2D computes, and
the true gradient (float64 central differences)."""
import numpy as np
import pytest

import minicnn
from minicnn import kernels, layers
from minicnn.kernels import jit, reference
from tests.gradcheck import directional_check


def _case(rng, dtype=np.float64):
    x = rng.standard_normal((2, 7, 6, 3)).astype(dtype)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    window = kernels.window((7, 6), (3, 2), (2, 1), (1, 1), "same")
    return x, kernel, bias, window


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("relu", [False, True])
def test_pure_pair_matches_conv2d_layer(backend, relu):
    rng = np.random.default_rng(0)
    x, kernel, bias, window = _case(rng, np.float32)
    conv = layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same",
                         activation="relu" if relu else None)
    conv.build((None, 7, 6, 3))
    conv.set_weights([kernel, bias])
    minicnn.set_backend(backend)
    try:
        y_layer = conv.forward(x)
        dy = rng.standard_normal(y_layer.shape).astype(np.float32)
        dx_layer = conv.backward(dy)
    finally:
        minicnn.set_backend("numba")
    y, cache = reference.conv2d_forward(x, kernel, bias, window, relu=relu)
    np.testing.assert_allclose(y, y_layer, rtol=1e-6, atol=1e-6)
    dz = np.where(y > 0, dy, 0) if relu else dy
    dx, dkernel, dbias = reference.conv2d_backward(dz, cache)
    np.testing.assert_allclose(dx, dx_layer, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dkernel, conv.grads["kernel"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dbias, conv.grads["bias"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("module", [reference, jit], ids=["reference", "jit"])
def test_pure_pair_gradients_match_finite_differences(module):
    rng = np.random.default_rng(1)
    x, kernel, bias, window = _case(rng)
    y, cache = module.conv2d_forward(x, kernel, bias, window)
    w_out = rng.standard_normal(y.shape)                  # loss = sum(w_out * y)
    dx, dkernel, dbias = module.conv2d_backward(w_out, cache)

    def loss():
        return float((module.conv2d_forward(x, kernel, bias, window)[0] * w_out).sum())
    directional_check(loss, [x, kernel, bias], [dx, dkernel, dbias], rng, directions=4)


def test_pure_pair_skips_dx_and_handles_no_bias():
    rng = np.random.default_rng(2)
    x, kernel, _, window = _case(rng)
    y, cache = reference.conv2d_forward(x, kernel, None, window)
    dx, dkernel, dbias = reference.conv2d_backward(np.ones_like(y), cache, need_dx=False)
    assert dx is None and dbias is None and dkernel.shape == kernel.shape


def test_fast_pointwise_shortcut_equals_the_equations():
    """A 1x1 stride-1 kernel skips im2col in the fast twin; same numbers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4, 6))
    kernel, bias = rng.standard_normal((1, 1, 6, 2)), rng.standard_normal(2)
    window = kernels.window((5, 4), (1, 1))
    y_fast, fast = jit.conv2d_forward(x, kernel, bias, window, relu=True)
    y_ref, ref = reference.conv2d_forward(x, kernel, bias, window, relu=True)
    np.testing.assert_allclose(y_fast, y_ref, rtol=1e-12)
    dz = rng.standard_normal(y_ref.shape)
    for a, b in zip(jit.conv2d_backward(dz, fast), reference.conv2d_backward(dz, ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.fixture
def one_core_kernels():
    """The kernels as a batch worker runs them: one Numba thread, declared."""
    import numba
    before = numba.get_num_threads()
    jit.one_thread(True)
    yield
    jit.one_thread(False)
    numba.set_num_threads(before)


@pytest.mark.parametrize("geometry", [
    ((5, 7, 6, 4), (3, 2), (1, 1), (1, 1), "same"),
    ((4, 9, 9, 5), (3, 3), (2, 2), (1, 1), "valid"),
    ((3, 8, 7, 4), (2, 3), (1, 2), (2, 1), "same"),
    ((6, 6, 6, 8), (3, 3), (1, 1), (1, 1), ((1, 0), (2, 1))),
])
@pytest.mark.parametrize("bias, relu, need_dx", [(True, True, True), (True, False, False),
                                                 (False, True, True), (False, False, True)])
def test_blocked_convolution_equals_the_equations(monkeypatch, one_core_kernels, geometry,
                                                  bias, relu, need_dx):
    """A worker convolves large batches a few images at a time, building each
    block's cols again in backward: the same numbers as the readable twin (float64:
    only the order of dkernel's sums differs), block sizes of one image and more."""
    shape, size, strides, dilation, padding = geometry
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    kernel = rng.standard_normal((*size, shape[-1], 3))
    b = rng.standard_normal(3) if bias else None
    window = kernels.window(shape[1:3], size, strides, dilation, padding)
    y_ref, ref = reference.conv2d_forward(x, kernel, b, window, relu=relu)
    dz = rng.standard_normal(y_ref.shape) * (y_ref != 0 if relu else 1)
    expected = reference.conv2d_backward(dz, ref, need_dx=need_dx)
    monkeypatch.setattr(jit, "BLOCKED_FROM_BYTES", 0)
    cols_per_image = np.prod(y_ref.shape[1:3]) * np.prod(kernel.shape[:3]) * x.itemsize
    for images in (1, 2, shape[0]):
        monkeypatch.setattr(jit, "BLOCK_BYTES", images * cols_per_image)
        y, cache = jit.conv2d_forward(x, kernel, b, window, relu=relu)
        assert "cols" not in cache and cache["x"] is x        # blocked: no cols kept
        np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
        for got, want in zip(jit.conv2d_backward(dz, cache, need_dx=need_dx), expected):
            if want is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_blocked_convolution_only_on_one_core_for_large_colour_inputs(monkeypatch,
                                                                      one_core_kernels):
    window = kernels.window((6, 6), (3, 3))
    kernel = np.ones((3, 3, 4, 2), np.float32)
    big = np.ones((3, 6, 6, 4), np.float32)
    monkeypatch.setattr(jit, "BLOCKED_FROM_BYTES", 0)
    assert "x" in jit.conv2d_forward(big, kernel, None, window)[1]
    gray = np.ones((3, 6, 6, 1), np.float32)                     # short patches: whole
    assert "cols" in jit.conv2d_forward(gray, np.ones((3, 3, 1, 2), np.float32), None,
                                        window)[1]
    monkeypatch.setattr(jit, "BLOCKED_FROM_BYTES", big.size * 9 * 4 + 4)   # below the rule
    assert "cols" in jit.conv2d_forward(big, kernel, None, window)[1]
    monkeypatch.setattr(jit, "BLOCKED_FROM_BYTES", 0)
    jit.one_thread(False)                                        # every core: whole
    import numba
    if numba.config.NUMBA_NUM_THREADS > 1:
        numba.set_num_threads(2)
        assert "cols" in jit.conv2d_forward(big, kernel, None, window)[1]
