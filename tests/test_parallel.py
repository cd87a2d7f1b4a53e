"""A batch split across workers gives the whole batch's numbers (issue: one shard per core)."""
import threading

import numpy as np
import pytest

import minicnn
from minicnn import layers, parallel
from minicnn.parity.compare import TOLERANCES


@pytest.fixture
def workers():
    """set_num_threads for one test, then back to the default."""
    yield minicnn.set_num_threads
    minicnn.set_num_threads(None)


def _net(seed=0):
    minicnn.set_random_seed(seed)
    model = minicnn.Sequential([
        layers.Input((10, 9, 2)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.3),
        layers.Conv2D(5, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(6, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=24, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 10, 9, 2)).astype(dtype), rng.integers(0, 3, n)


def _gradients(count, workers):
    workers(count)
    model = _net()
    x, y = _data()
    minicnn.set_random_seed(7)                       # the dropout masks
    loss, grads = model.compute_gradients(x, y)
    stats = [layer.state["moving_mean"].copy() for layer in model.layers if layer.state]
    return loss, grads, stats


@pytest.fixture
def float64():
    minicnn.set_floatx("float64")
    yield
    minicnn.set_floatx("float32")


@pytest.mark.parametrize("count", [2, 3])
def test_split_batch_gives_the_whole_batch_loss_gradients_and_statistics(float64, workers, count):
    """float64: every shard count agrees with one thread to 1e-12 (summation order only):
    batch norm sees the whole batch, dropout masks do not depend on the split."""
    loss1, grads1, stats1 = _gradients(1, workers)
    lossk, gradsk, statsk = _gradients(count, workers)
    assert len(parallel.shard_bounds(24)) == count
    assert abs(loss1 - lossk) <= 1e-12 * abs(loss1)
    for g1, gk in zip(grads1, gradsk):
        np.testing.assert_allclose(gk, g1, rtol=1e-12, atol=1e-13)
    for s1, sk in zip(stats1, statsk):
        np.testing.assert_allclose(sk, s1, rtol=1e-12, atol=1e-14)


def test_float32_split_training_stays_within_parity_tolerance(workers):
    x, y = _data(dtype=np.float32)
    results = []
    for count in (1, 2):
        workers(count)
        model = _net()
        minicnn.set_random_seed(3)
        model.fit(x, y, batch_size=12, epochs=2, verbose=0)
        results.append(model.get_weights())
    # The network holds batch norm, so the documented float32 batch-norm tolerance applies
    # (docs/keras_semantics.md "Tolerances"); Adam also turns summation-order noise in a
    # near-zero gradient (a Dense bias whose ReLU units are mostly off) into part of a step.
    rtol, atol = TOLERANCES["batchnorm"]["cpu"]
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_same_seed_and_worker_count_give_the_same_numbers_bit_for_bit(workers):
    workers(2)
    x, y = _data(dtype=np.float32)
    runs = []
    for _ in range(2):
        model = _net()
        minicnn.set_random_seed(5)
        history = model.fit(x, y, batch_size=12, epochs=2, verbose=0)
        runs.append((history.history["loss"], model.get_weights(), model.predict(x)))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1] + [runs[0][2]], runs[1][1] + [runs[1][2]]):
        np.testing.assert_array_equal(a, b)


def test_predict_and_evaluate_split_equal_one_thread(workers):
    x, y = _data(dtype=np.float32)
    model = _net()
    out = {}
    for count in (1, 2):
        workers(count)
        out[count] = model.predict(x, batch_size=24), model.evaluate(x, y, batch_size=24, verbose=0)
    np.testing.assert_allclose(out[2][0], out[1][0], rtol=1e-6)
    np.testing.assert_allclose(out[2][1], out[1][1], rtol=1e-6)


def test_small_batches_stay_on_one_thread(workers):
    workers(2)
    assert parallel.shard_bounds(1) == [(0, 1)]
    assert parallel.shard_bounds(7) == [(0, 7)]          # under MIN_ROWS_PER_SHARD each
    assert parallel.shard_bounds(9) == [(0, 4), (4, 9)]


def test_worker_count_setting_and_environment(workers, monkeypatch):
    monkeypatch.setenv("MINICNN_NUM_THREADS", "3")
    assert minicnn.num_threads() == 3
    workers(1)
    assert minicnn.num_threads() == 1
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match="positive int"):
            minicnn.set_num_threads(bad)
    workers(None)
    monkeypatch.setenv("MINICNN_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="MINICNN_NUM_THREADS"):
        minicnn.num_threads()


def test_an_error_in_one_shard_reaches_the_caller_and_frees_the_others():
    group = parallel.ShardGroup([(0, 4), (4, 8)])

    def work(shard):
        if shard.index == 1:
            raise RuntimeError("shard 1 failed")
        return shard.allreduce(np.ones(2))              # would wait for shard 1 forever
    with pytest.raises(RuntimeError, match="shard 1 failed"):
        parallel.run(group, work)
    ok = parallel.ShardGroup([(0, 4), (4, 8)])          # the workers still serve
    assert [s.tolist() for s in parallel.run(ok, lambda s: s.allreduce(np.ones(2)))] == \
        [[2.0, 2.0], [2.0, 2.0]]


def test_shards_run_on_other_threads_with_one_kernel_thread_each():
    group = parallel.ShardGroup([(0, 4), (4, 8)])
    seen = parallel.run(group, lambda s: (threading.get_ident(), __import__("numba").get_num_threads()))
    assert seen[0][0] == threading.get_ident() and seen[1][0] != seen[0][0]
    assert [threads for _, threads in seen] == [1, 1]


def test_the_fork_hook_forgets_the_parents_workers_and_locks():
    """A forked child has none of the parent's threads (the hook runs in the child;
    here it is called directly: Numba's OpenMP layer itself refuses to run in a
    forked child, so a real fork cannot show it)."""
    group = parallel.ShardGroup([(0, 4), (4, 8)])
    parallel.run(group, lambda s: s.index)               # at least one worker exists
    lock = parallel.exclusive()
    parallel._after_fork_in_child()
    assert parallel._POOL == [] and parallel.exclusive() is not lock
    assert parallel.run(parallel.ShardGroup([(0, 4), (4, 8)]), lambda s: s.index) == [0, 1]


def test_the_numpy_twins_split_the_same_way(float64, workers):
    """With the readable NumPy kernels too, two shards give the one-thread numbers."""
    minicnn.set_backend("numpy")
    try:
        loss1, grads1, _ = _gradients(1, workers)
        loss2, grads2, _ = _gradients(2, workers)
    finally:
        minicnn.set_backend("numba")
    assert abs(loss1 - loss2) <= 1e-12 * abs(loss1)
    for g1, g2 in zip(grads1, grads2):
        np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-13)
