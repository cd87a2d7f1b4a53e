"""fit's NaN guard: a step that would leave a NaN or inf anywhere is undone."""
import threading

import numpy as np
import pytest

import minicnn
from minicnn import layers, optimizers, regularizers


def _model(optimizer):
    minicnn.set_random_seed(0)
    # the L2 penalty makes the first kernel's gradient about 1e10: finite, but a
    # step of learning rate 1e30 takes the weights past float32's 3.4e38
    model = minicnn.Sequential([
        layers.Input((4,)), layers.Dense(3, activation="relu",
                                         kernel_regularizer=regularizers.L2(1e10)),
        layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(1)
    return (1e6 * rng.standard_normal((16, 4))).astype(np.float32), np.arange(16) % 2


def test_an_update_that_overflows_keeps_the_previous_weights_and_optimizer_state():
    model = _model(optimizers.SGD(learning_rate=1e30, momentum=0.9))
    x, y = _data()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(FloatingPointError, match="an updated weight"):
        model.train_on_batch(x, y)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)          # moving statistics too
    state = model.optimizer.get_state()
    assert int(state["iterations"]) == 0
    assert all(np.all(v == 0) for k, v in state.items() if k.startswith("slot/"))


def test_fit_stops_on_the_first_bad_step_and_reports_it(capsys):
    model = _model(optimizers.SGD(learning_rate=1e30))
    x, y = _data()
    weights = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history == {}
    assert "an updated weight became NaN or inf" in capsys.readouterr().err
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_nan_input_stops_training_instead_of_a_confident_answer():
    """The fused ReLU once turned NaN into 0: a NaN image trained at loss ln 2."""
    model = _model("adam")
    x, y = _data()
    x[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="the loss"):
        model.train_on_batch(x, y)
    assert np.isnan(model.predict(x[:1])).all()


def test_a_second_concurrent_fit_is_refused_not_interleaved():
    model = _model("adam")
    x, y = _data()
    x /= 1e6
    inside, release = threading.Event(), threading.Event()

    class Hold(minicnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            inside.set()
            release.wait(30)
    errors = []
    thread = threading.Thread(target=lambda: model.fit(x, y, batch_size=8, verbose=0,
                                                       callbacks=[Hold()]))
    thread.start()
    assert inside.wait(30)
    try:
        with pytest.raises(RuntimeError, match="already training in another thread"):
            model.fit(x, y, verbose=0)
        with pytest.raises(RuntimeError, match="already training"):
            model.train_on_batch(x, y)
        assert model.predict(x).shape == (16, 2)       # inference is still welcome
    except BaseException as exc:                        # pragma: no cover - reported below
        errors.append(exc)
    finally:
        release.set()
        thread.join(30)
    assert not errors, errors
    assert model.train_on_batch(x, y) > 0               # free again once fit returned
