"""Work arrays a layer keeps between steps (Layer.scratch) change no number."""
import numpy as np
import pytest

import minicnn
from minicnn import layers
from minicnn.kernels import jit, reference
from minicnn.layers import base


def _step(conv, x, dy):
    y = conv.forward(x, training=True)
    dx = conv.backward(dy)
    return y.copy(), dx.copy(), conv.grads["kernel"].copy(), conv.grads["bias"].copy()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_reused_buffers_give_the_same_steps(monkeypatch, backend):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 9, 9, 3)).astype(np.float32) for _ in range(3)]
    conv = layers.Conv2D(5, 3, padding="same", activation="relu")
    conv.build((None, 9, 9, 3))
    dy = rng.standard_normal((4, 9, 9, 5)).astype(np.float32)
    minicnn.set_backend(backend)
    try:
        monkeypatch.setattr(base, "SCRATCH_FROM_BYTES", 1 << 62)      # never reuse
        fresh = [_step(conv, x, dy) for x in xs]
        assert conv._scratch == {}
        monkeypatch.setattr(base, "SCRATCH_FROM_BYTES", 0)            # always reuse
        reused = [_step(conv, x, dy) for x in xs]
    finally:
        minicnn.set_backend("numba")
    assert set(conv._scratch) == {"cols", "dcols"}
    assert np.shares_memory(conv._cache["cols"], conv._scratch["cols"])
    for a, b in zip(fresh, reused):             # step by step, bit for bit
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_scratch_is_only_for_large_arrays():
    conv = layers.Conv2D(2, 3)
    assert conv.scratch("cols", (10, 9), np.float32) is None
    big = (base.SCRATCH_FROM_BYTES // 4, 1)
    first = conv.scratch("cols", big, np.float32)
    assert first.shape == big and conv.scratch("cols", big, np.float32) is first
    assert conv.scratch("cols", big, np.float64) is not first    # dtype changed


@pytest.mark.parametrize("module", [jit, reference])
def test_kernels_write_into_out_and_reject_a_wrong_one(module):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    geo = (3, 3, 1, 1, 1, 1, (0, 0, 0, 0))
    out = np.empty((18, 27), np.float32)
    assert module.im2col(x, *geo, out=out) is out
    np.testing.assert_array_equal(out, reference.im2col(x, *geo))
    a, b = rng.standard_normal((700, 8)).astype(np.float32), rng.standard_normal((8, 4)).astype(np.float32)
    mout = np.empty((700, 4), np.float32)
    assert module.matmul(a, b, out=mout) is mout
    np.testing.assert_allclose(mout, a @ b, rtol=1e-6)
    if module is jit:
        with pytest.raises(ValueError, match="shape"):
            jit.im2col(x, *geo, out=np.empty((18, 26), np.float32))
        with pytest.raises(ValueError, match="float32"):
            jit.matmul(a, b, out=np.empty((700, 4), np.float64))
