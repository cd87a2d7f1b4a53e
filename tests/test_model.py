"""Sequential: summary, training, gradients, save/load, callbacks and bad input."""
import numpy as np
import pytest

import minicnn
from minicnn import layers as L
from minicnn.datasets import mnist
from tests.gradcheck import directional_check


def convnet(filters3=128):
    """docs/source_networks.md "Keras MNIST convnet" (filters3=64: the Sequential version)."""
    return minicnn.Sequential([
        L.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(filters3, 3, activation="relu"), L.Flatten(),
        L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])


def small(dtype=None):
    return minicnn.Sequential([
        L.Input((6, 6, 2), dtype=dtype), L.Conv2D(3, 3, activation="tanh", dtype=dtype),
        L.BatchNormalization(dtype=dtype), L.AveragePooling2D(2, dtype=dtype),
        L.Flatten(dtype=dtype), L.Dense(4, activation="softmax", dtype=dtype)])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 6, 6, 2)).astype(np.float32), rng.integers(0, 4, 20)


def test_summary_matches_keras_parameter_counts():
    lines = []
    minicnn.clear_session()           # names restart at conv2d, as after keras.backend.clear_session()
    model = convnet()
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for expected in ["(None, 26, 26, 32)", "320", "(None, 13, 13, 32)", "18,496",
                     "(None, 5, 5, 64)", "73,856", "(None, 3, 3, 128)", "(None, 1152)"]:
        assert expected in text
    assert model.count_params() == 320 + 18_496 + 73_856 + 1152 * 64 + 64 + 650
    for name in ["conv2d (Conv2D)", "conv2d_1 (Conv2D)", "max_pooling2d_1 (MaxPooling2D)",
                 "dense_1 (Dense)"]:
        assert name in text


def test_compute_gradients_match_finite_differences_float64():
    rng = np.random.default_rng(1)
    model = small("float64")
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = rng.standard_normal((5, 6, 6, 2)), rng.integers(0, 4, 5)
    loss, grads = model.compute_gradients(x, y, training=False)

    def f():
        return model.evaluate(x, y, verbose=0, batch_size=5)

    assert loss == pytest.approx(f(), rel=1e-12)
    directional_check(f, model.trainable_weights, grads, rng)


def test_backward_reaches_the_input_image():
    rng = np.random.default_rng(2)
    model = small("float64")
    x = rng.standard_normal((2, 6, 6, 2))
    w = rng.standard_normal((2, 4))
    model.forward(x)
    dx = model.backward(w)
    directional_check(lambda: float((model.forward(x) * w).sum()), [x], [dx], rng)


def test_fit_reduces_loss_and_reports_history(data):
    minicnn.set_random_seed(0)
    x, y = data
    model = small()
    model.compile(minicnn.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=5, epochs=15, verbose=0, validation_split=0.2)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 15
    assert history["loss"][-1] < history["loss"][0] * 0.7


def test_same_seed_same_numbers(data):
    x, y = data
    results = []
    for _ in range(2):
        minicnn.set_random_seed(123)
        model = small()
        model.add(L.Dropout(0.0))
        model.compile("rmsprop", "sparse_categorical_crossentropy")
        results.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0)["loss"])
    assert results[0] == results[1]


def test_save_load_round_trip_continues_training_identically(tmp_path, data):
    minicnn.set_random_seed(5)
    x, y = data
    model = small()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "model.npz"
    model.save(path)
    again = minicnn.load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert [l.name for l in again.layers] == [l.name for l in model.layers]
    a = model.train_on_batch(x, y)
    b = again.train_on_batch(x, y)
    assert a == b
    for w1, w2 in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(w1, w2)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, data, monkeypatch):
    x, y = data
    model = small()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.predict(x)
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_load_rejects_truncated_foreign_and_pickled_files(tmp_path, data):
    x, y = data
    model = small()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.predict(x)
    good = tmp_path / "good.npz"
    model.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a minicnn model file"):
        minicnn.load_model(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ValueError, match="no '__minicnn__' header"):
        minicnn.load_model(foreign)
    pickled = tmp_path / "pickled.npz"
    marker = tmp_path / "ran"
    np.savez(pickled, __minicnn__=np.array([_Evil(str(marker))], dtype=object))
    with pytest.raises(ValueError, match="not a readable minicnn model file"):
        minicnn.load_model(pickled)
    assert not marker.exists()
    with pytest.raises(FileNotFoundError):
        minicnn.load_model(tmp_path / "missing.npz")


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_bad_inputs_get_clear_errors(data):
    x, y = data
    model = convnet()
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 28, 28, 1\), "
                                         r"received shape \(2, 28, 28\)"):
        model.predict(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(TypeError, match="float array, received dtype uint8"):
        model.predict(np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.raises(TypeError, match="dtype object"):
        model.predict(np.array([[None]] * 2, dtype=object))
    xs = np.zeros((4, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\].*received values from 0 to 10"):
        model.fit(xs, np.array([0, 1, 2, 10]), verbose=0)
    with pytest.raises(ValueError, match="4 inputs and 3 labels"):
        model.fit(xs, np.array([0, 1, 2]), verbose=0)


@pytest.mark.parametrize("make,match", [
    (lambda: L.Conv2D(0, 3), "filters=0"),
    (lambda: L.Conv2D(8, 3, strides=0), "strides must be >= 1"),
    (lambda: L.Conv2D(8, 3, padding="full"), "padding must be"),
    (lambda: L.Conv2D(8, 3, activation="swishy"), "unknown activation 'swishy'"),
    (lambda: L.Conv2D(8, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: L.Dropout(1.0), "rate=1.0"),
    (lambda: L.Dense(-1), "units=-1"),
    (lambda: L.MaxPooling2D(0), "pool_size must be >= 1"),
])
def test_impossible_hyperparameters_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kernel_larger_than_input_is_rejected():
    with pytest.raises(ValueError, match="does not fit input 4x4"):
        minicnn.Sequential([L.Input((4, 4, 1)), L.Conv2D(2, 5)])


def test_nan_loss_stops_fit_and_keeps_finite_weights(data, capsys):
    x, y = data
    model = small()
    model.compile(minicnn.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    model.predict(x)
    x_bad = x.copy()
    x_bad[7] = np.nan
    before = model.get_weights()
    history = model.fit(x_bad, y, batch_size=5, epochs=3, verbose=0, shuffle=False)
    assert "NaN or inf" in capsys.readouterr().err
    assert model.stop_training
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations == 1          # the first batch was fine
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])  # the partial epoch
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_frozen_layers_get_no_update_but_pass_gradients(data):
    x, y = data
    model = small()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.predict(x)
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    frozen = [w.copy() for w in model.layers[0].get_weights() + model.layers[1].get_weights()]
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights() + model.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)       # batch-norm moving stats frozen too
    assert len(model.trainable_weights) == 2
    model.forward(x)
    assert model.backward(np.ones((20, 4), np.float32)).shape == x.shape


def test_early_stopping_and_checkpoint(tmp_path, data):
    x, y = data
    model = small()
    model.compile(minicnn.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    ckpt = tmp_path / "best.npz"
    history = model.fit(x, y, epochs=10, verbose=0, validation_data=(x, y), callbacks=[
        minicnn.callbacks.EarlyStopping(patience=2),
        minicnn.callbacks.ModelCheckpoint(ckpt, save_best_only=True)])
    assert len(history["loss"]) == 3          # learning rate 0: no improvement after epoch 1
    assert minicnn.load_model(ckpt).count_params() == model.count_params()


def test_numpy_backend_gives_the_same_training(data):
    x, y = data
    results = []
    for name in ("numba", "numpy"):
        minicnn.set_backend(name)
        try:
            minicnn.set_random_seed(9)
            model = small()
            model.compile("adam", "sparse_categorical_crossentropy")
            results.append(model.fit(x, y, batch_size=5, epochs=2, verbose=0)["loss"])
        finally:
            minicnn.set_backend("numba")
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)


def test_trains_keras_convnet_on_real_mnist():
    """A few hundred steps on the real digits get well above chance."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()   # the copy shipped in minicnn
    x = (x_train[:12_800, :, :, None] / 255).astype(np.float32)
    y = y_train[:12_800]
    xt = (x_test[:2000, :, :, None] / 255).astype(np.float32)
    minicnn.set_random_seed(0)
    model = convnet(64)
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    loss, acc = model.evaluate(xt, y_test[:2000], verbose=0)
    assert acc > 0.9
