"""Work arrays the fast conv kernel keeps between steps (a layer's ``workspace``)
change no number, and are never shared between threads."""
import threading

import numpy as np
import pytest

import minicnn
from minicnn import kernels, layers, zoo
from minicnn.kernels import jit, reference


def _step(conv, x, dy):
    y = conv.forward(x, training=True)
    dx = conv.backward(dy)
    return y.copy(), dx.copy(), conv.grads["kernel"].copy(), conv.grads["bias"].copy()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_reused_work_arrays_give_the_same_steps(monkeypatch, backend):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 9, 9, 3)).astype(np.float32) for _ in range(3)]
    conv = layers.Conv2D(5, 3, padding="same", activation="relu")
    conv.build((None, 9, 9, 3))
    dy = rng.standard_normal((4, 9, 9, 5)).astype(np.float32)
    minicnn.set_backend(backend)
    try:
        monkeypatch.setattr(jit, "WORKSPACE_FROM_BYTES", 1 << 62)      # never reuse
        fresh = [_step(conv, x, dy) for x in xs]
        assert conv.workspace == {}
        monkeypatch.setattr(jit, "WORKSPACE_FROM_BYTES", 0)            # always reuse
        reused = [_step(conv, x, dy) for x in xs]
    finally:
        minicnn.set_backend("numba")
    if backend == "numba":
        assert set(conv.workspace) == {"cols", "dcols"}
        assert np.shares_memory(conv.cache["conv"]["cols"], conv.workspace["cols"])
    else:                                        # the readable twin allocates afresh
        assert conv.workspace == {}
    for a, b in zip(fresh, reused):             # step by step, bit for bit
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_work_arrays_are_only_for_large_arrays():
    workspace = {}
    assert jit._work_array(workspace, "cols", (10, 9), np.float32) is None
    big = (jit.WORKSPACE_FROM_BYTES // 4, 1)
    first = jit._work_array(workspace, "cols", big, np.float32)
    assert first.shape == big and jit._work_array(workspace, "cols", big, np.float32) is first
    assert jit._work_array(workspace, "cols", big, np.float64) is not first    # dtype changed
    assert jit._work_array(None, "cols", big, np.float32) is None               # no workspace


def test_each_thread_has_its_own_cache_and_workspace():
    conv = layers.Conv2D(2, 3)
    conv.workspace["cols"] = "main"
    conv.cache = {"conv": "main"}
    seen = {}

    def other():
        seen["workspace"], seen["cache"] = dict(conv.workspace), dict(conv.cache)
    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == {"workspace": {}, "cache": {}}
    assert conv.workspace == {"cols": "main"} and conv.cache == {"conv": "main"}


@pytest.mark.parametrize("module", [jit, reference])
def test_kernels_write_into_out_and_reject_a_wrong_one(module):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    window = kernels.window((5, 5), (3, 3))
    out = np.empty((18, 27), np.float32)
    assert module.im2col(x, window, out=out) is out
    np.testing.assert_array_equal(out, reference.im2col(x, window))
    a, b = rng.standard_normal((700, 8)).astype(np.float32), rng.standard_normal((8, 4)).astype(np.float32)
    mout = np.empty((700, 4), np.float32)
    assert module.matmul(a, b, out=mout) is mout
    np.testing.assert_allclose(mout, a @ b, rtol=1e-6)
    if module is jit:
        with pytest.raises(ValueError, match="shape"):
            jit.im2col(x, window, out=np.empty((18, 26), np.float32))
        with pytest.raises(ValueError, match="float32"):
            jit.matmul(a, b, out=np.empty((700, 4), np.float64))


@pytest.mark.parametrize("batch", [1, 32, 256])
def test_predict_from_four_threads_equals_one_thread(monkeypatch, batch):
    """Concurrent predict on one model gives each caller its own answer, bit for bit
    (work arrays kept from call to call made them overwrite each other)."""
    monkeypatch.setattr(jit, "WORKSPACE_FROM_BYTES", 0)      # keep every work array
    minicnn.set_random_seed(3)
    model = zoo.keras_mnist_convnet()
    rng = np.random.default_rng(4)
    inputs = [rng.random((batch, 28, 28, 1), dtype=np.float32) for _ in range(4)]
    expected = [model.predict(x, batch_size=batch) for x in inputs]
    results = [None] * 4
    barrier = threading.Barrier(4)

    def run(k):
        barrier.wait()
        for _ in range(3):
            out = model.predict(inputs[k], batch_size=batch)
            if results[k] is None or not np.array_equal(out, expected[k]):
                results[k] = out
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)
