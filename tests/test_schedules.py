"""Learning-rate schedules against keras.optimizers.schedules, and training with them."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, optimizers
from minicnn.optimizers import schedules
from minicnn.parity.compare import TOLERANCES

keras = pytest.importorskip("keras")
OPT, GRAD = TOLERANCES["optimizer"]["cpu"], TOLERANCES["grad"]["cpu"]

CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=37, decay_rate=0.8)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=37, decay_rate=0.8,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[50, 120, 200], values=[0.1, 0.05, 0.01, 1e-3])),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=20, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=20, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=250, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=200, warmup_target=0.1,
                         warmup_steps=50)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100, power=2.0,
                             cycle=True)),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_schedule_values_match_keras_over_300_steps(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    steps = range(300)
    np.testing.assert_allclose([float(ours(s)) for s in steps],
                               [float(theirs(s)) for s in steps], *OPT)
    assert ours.get_config() == theirs.get_config()
    again = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(momentum=0.9)), ("Adam", {})])
def test_training_with_a_schedule_matches_keras_train_on_batch(name, kwargs):
    minicnn.set_random_seed(0)
    ours = minicnn.Sequential([layers.Input((4,)), layers.Dense(5, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    theirs = minicnn.to_keras(ours, compile=False)
    spec = dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)
    ours.compile(getattr(optimizers, name)(learning_rate=schedules.ExponentialDecay(**spec),
                                           **kwargs), "sparse_categorical_crossentropy")
    theirs.compile(getattr(keras.optimizers, name)(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(**spec), **kwargs),
        "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8)
    for _ in range(5):
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, *GRAD)
    assert ours.optimizer.learning_rate == pytest.approx(
        float(theirs.optimizer.learning_rate), rel=1e-6)


def test_a_schedule_is_not_settable_and_survives_save_and_load(tmp_path):
    opt = optimizers.Adam(learning_rate=schedules.CosineDecay(0.01, 100))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([layers.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile(opt, "sparse_categorical_crossentropy")
    model.fit(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1]), verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = minicnn.load_model(tmp_path / "m.npz")
    schedule = loaded.optimizer.learning_rate_schedule
    assert isinstance(schedule, schedules.CosineDecay)
    assert schedule.get_config() == opt.learning_rate_schedule.get_config()
    assert loaded.optimizer.learning_rate == opt.learning_rate      # same step, same rate


def test_the_demos_learning_rates_per_epoch_are_unchanged():
    """The demos' old EpochDecay set initial * decay**epoch at each epoch start."""
    from minicnn.demos._common import epoch_decay
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([layers.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    seen = []
    probe = minicnn.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(model.optimizer.learning_rate))
    model.fit(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1]), batch_size=4, epochs=4,
              verbose=0, callbacks=[epoch_decay(0.05, 0.7), probe])
    assert seen == [0.05 * 0.7 ** epoch for epoch in range(4)]
