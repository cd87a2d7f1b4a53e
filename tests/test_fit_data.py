"""fit / evaluate / predict fed by generators, PyDatasets and duck-typed datasets,
with sample and class weights: compared with Keras 3 on the same weights and batches."""
import warnings

import numpy as np
import pytest

import minicnn
from minicnn import layers
from minicnn.parity.compare import TOLERANCES

keras = pytest.importorskip("keras")
FWD, GRAD = TOLERANCES["forward"]["cpu"], TOLERANCES["grad"]["cpu"]

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 3)).astype(np.float32)
Y = RNG.integers(0, 3, 16)
W = RNG.uniform(0.2, 2.0, 16)


def _pair(activation="softmax", units=3, loss="sparse_categorical_crossentropy", lr=0.1):
    minicnn.set_random_seed(0)
    ours = minicnn.Sequential([layers.Input((3,)), layers.Dense(units, activation=activation)])
    theirs = minicnn.to_keras(ours, compile=False)
    ours.compile(minicnn.optimizers.SGD(lr), loss, metrics=["acc"])
    theirs.compile(keras.optimizers.SGD(lr), loss, metrics=["acc"])
    return ours, theirs


def _close_history(ours, theirs):
    assert set(ours.history) == set(theirs.history)
    for key in theirs.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], *FWD)


def _close_weights(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, *GRAD)


def _batches(n=16, size=4, weights=False):
    for i in range(0, n, size):
        rows = slice(i % 16, i % 16 + size)
        yield (X[rows], Y[rows], W[rows]) if weights else (X[rows], Y[rows])


@pytest.mark.parametrize("kind", ["sample_weight", "class_weight"])
def test_weighted_fit_matches_keras(kind):
    ours, theirs = _pair()
    kw = {"sample_weight": W} if kind == "sample_weight" else {"class_weight": {0: 2.0, 2: 0.5}}
    h1 = ours.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, **kw)
    h2 = theirs.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, **kw)
    _close_history(h1, h2)
    _close_weights(ours, theirs)


def test_weighted_sigmoid_cross_entropy_steps_match_keras():
    """The fused sigmoid + cross-entropy gradient, weighted."""
    ours, theirs = _pair("sigmoid", 1, "binary_crossentropy")
    yb = (Y > 0).astype(np.float32)
    for _ in range(3):
        a = ours.train_on_batch(X, yb, sample_weight=W)
        b = theirs.train_on_batch(X, yb, sample_weight=W)
        np.testing.assert_allclose(a, b, *FWD)
    _close_weights(ours, theirs)


def test_weighted_evaluate_and_test_on_batch_match_keras():
    ours, theirs = _pair()
    np.testing.assert_allclose(ours.evaluate(X, Y, sample_weight=W, batch_size=5, verbose=0),
                               theirs.evaluate(X, Y, sample_weight=W, batch_size=5, verbose=0),
                               *FWD)
    np.testing.assert_allclose(ours.test_on_batch(X, Y, sample_weight=W),
                               theirs.test_on_batch(X, Y, sample_weight=W), *FWD)


def test_weighted_loss_is_divided_by_the_batch_not_the_weights():
    loss = minicnn.losses.MeanSquaredError()
    y_pred = np.array([[1.0], [2.0]], np.float32)
    value, grad, _ = loss.value_and_gradient(np.zeros((2, 1), np.float32), y_pred,
                                             sample_weight=np.array([3.0, 0.0]))
    assert value == pytest.approx(1.5)               # (3 * 1 + 0 * 4) / 2
    np.testing.assert_allclose(grad, [[3.0], [0.0]])  # 3 * 2 * 1 / 2


def test_the_worker_split_gives_the_same_weighted_numbers():
    results = []
    for threads in (1, 2):
        minicnn.parallel.set_num_threads(threads)
        try:
            ours, _ = _pair()
            x, y, w = np.tile(X, (2, 1)), np.tile(Y, 2), np.tile(W, 2)
            results.append((ours.train_on_batch(x, y, sample_weight=w), ours.get_weights()))
        finally:
            minicnn.parallel.set_num_threads(None)
    np.testing.assert_allclose(results[0][0], results[1][0], *FWD)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, *GRAD)


def test_a_generator_of_weighted_batches_trains_like_the_arrays():
    ours, theirs = _pair()
    with pytest.warns(UserWarning, match="ran out of data"):
        h1 = ours.fit(_batches(weights=True), epochs=1, verbose=0, shuffle=False)
    h2 = theirs.fit(X, Y, sample_weight=W, batch_size=4, epochs=1, verbose=0, shuffle=False)
    _close_history(h1, h2)
    _close_weights(ours, theirs)


class Batches(minicnn.utils.PyDataset):
    def __init__(self, count=4, **kwargs):
        super().__init__(**kwargs)
        self.count, self.calls = count, []

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        self.calls.append(i)
        rows = slice(4 * (i % 4), 4 * (i % 4) + 4)
        return X[rows], Y[rows]

    def on_epoch_end(self):
        self.calls.append("end")


def test_a_pydataset_trains_like_the_arrays_and_calls_on_epoch_end():
    ours, theirs = _pair()
    data = Batches()
    h1 = ours.fit(data, epochs=2, verbose=0, shuffle=False)
    h2 = theirs.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    _close_history(h1, h2)
    _close_weights(ours, theirs)
    assert data.calls == ["end", 0, 1, 2, 3, "end", 0, 1, 2, 3, "end"]


def test_steps_per_epoch_continues_through_a_pydataset_as_keras_does():
    """Keras's EpochIterator: an epoch of 2 steps, the next continues; the end of the
    data ends an epoch early (with a warning) and the next epoch starts again."""
    ours, _ = _pair()
    data = Batches(count=5)
    seen = []
    cb = minicnn.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append([]),
                                          on_train_batch_end=lambda b, logs: seen[-1].append(b))
    with pytest.warns(UserWarning, match="ran out of data"):
        ours.fit(data, steps_per_epoch=2, epochs=4, verbose=0, shuffle=False, callbacks=[cb])
    assert [c for c in data.calls if c != "end"] == [0, 1, 2, 3, 4, 0, 1]
    assert seen == [[0, 1], [0, 1], [0], [0, 1]]


def test_a_generator_that_runs_out_stops_training_with_keras_warning():
    ours, _ = _pair()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = ours.fit(_batches(20), steps_per_epoch=2, epochs=4, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 3                # 2 + 2 + 1 batches, then none


def test_pydataset_shuffle_visits_every_batch_in_a_seeded_order():
    ours, _ = _pair()
    data = Batches()
    minicnn.set_random_seed(3)
    ours.fit(data, epochs=1, verbose=0)
    order = [c for c in data.calls if c != "end"]
    assert sorted(order) == [0, 1, 2, 3] and order != [0, 1, 2, 3]


class DuckIterator:
    """Like Keras's image iterators: __len__/__getitem__ and an endless __next__."""

    def __init__(self):
        self.i = 0

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return X[4 * i:4 * i + 4], Y[4 * i:4 * i + 4]

    def __iter__(self):
        return self

    def __next__(self):
        self.i += 1
        return self[(self.i - 1) % 4]


def test_a_duck_typed_dataset_is_read_by_index():
    ours, theirs = _pair()
    h1 = ours.fit(DuckIterator(), epochs=1, verbose=0, shuffle=False,
                  validation_data=DuckIterator())
    h2 = theirs.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False,
                    validation_data=(X, Y))
    _close_history(h1, h2)
    np.testing.assert_array_equal(ours.predict(DuckIterator()), ours.predict(X))


def test_batch_size_y_and_class_weight_are_refused_for_generators():
    ours, _ = _pair()
    with pytest.raises(ValueError, match="batch_size must be None"):
        ours.fit(_batches(), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        ours.fit(_batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        ours.fit(_batches(), class_weight={0: 1.0}, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="validation_split"):
        ours.fit(Batches(), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="at the same time"):
        ours.fit(X, Y, sample_weight=W, class_weight={0: 1.0}, verbose=0)


def test_validation_freq_and_steps_give_keras_history():
    ours, theirs = _pair()
    kw = dict(epochs=4, verbose=0, shuffle=False, validation_freq=2)
    h1 = ours.fit(X, Y, batch_size=4, validation_data=(X, Y, W), validation_batch_size=8, **kw)
    h2 = theirs.fit(X, Y, batch_size=4, validation_data=(X, Y, W), validation_batch_size=8, **kw)
    assert {k: len(v) for k, v in h1.history.items()} == \
        {k: len(v) for k, v in h2.history.items()}
    _close_history(h1, h2)
    ours2, _ = _pair()
    h3 = ours2.fit(X, Y, batch_size=4, epochs=1, verbose=0, validation_data=Batches(),
                   validation_steps=2)
    assert set(h3.history) == {"loss", "acc", "val_loss", "val_acc"}


def _two_by_two():
    minicnn.set_random_seed(0)
    a, b = minicnn.Input((3,)), minicnn.Input((2,))
    h = layers.Concatenate()([a, b])
    out1 = layers.Dense(3, activation="softmax", name="c")(h)
    out2 = layers.Dense(1, name="r")(h)
    model = minicnn.Model([a, b], [out1, out2])
    model.compile(minicnn.optimizers.SGD(0.05), ["sparse_categorical_crossentropy", "mse"],
                  metrics=[["acc"], []], loss_weights=[1.0, 0.5])
    return model


def test_multi_input_output_batches_train_like_the_arrays():
    x2 = RNG.standard_normal((16, 2)).astype(np.float32)
    r = RNG.standard_normal((16, 1)).astype(np.float32)
    first = _two_by_two()
    h1 = first.fit([X, x2], [Y, r], sample_weight=W, batch_size=4, epochs=2, verbose=0,
                   shuffle=False)

    def gen():
        for _ in range(2):
            for i in range(0, 16, 4):
                s = slice(i, i + 4)
                yield (X[s], x2[s]), (Y[s], r[s]), W[s]
    second = _two_by_two()
    h2 = second.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0, shuffle=False)
    assert h1.history.keys() == h2.history.keys()
    for key in h1.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-6)
    theirs = minicnn.to_keras(_two_by_two())
    h3 = theirs.fit([X, x2], [Y, r], sample_weight=W, batch_size=4, epochs=2, verbose=0,
                    shuffle=False)
    assert set(h3.history) == set(h1.history)
    for key in h3.history:
        np.testing.assert_allclose(h1.history[key], h3.history[key], *FWD)


def test_progress_bars_count_samples_for_arrays_and_steps_for_batches(capsys):
    ours, _ = _pair()
    ours.fit(X, Y, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "16/16" in out and "img" in out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(_batches(), verbose=1, shuffle=False)
    out = capsys.readouterr().out
    assert "4step" in out and "/4" not in out            # a generator's length is unknown
    ours.fit(Batches(), verbose=1)
    assert "4/4" in capsys.readouterr().out
    ours.evaluate(X, Y, verbose=1)
    out = capsys.readouterr().out
    assert "evaluate" in out and "acc=" in out and "16/16" in out
    ours.fit(X, Y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.count("Epoch") == 2 and "img" not in out


def test_predict_takes_batches_of_x_or_x_tuples():
    ours, _ = _pair()
    expected = ours.predict(X)
    np.testing.assert_array_equal(ours.predict((X[i:i + 4] for i in range(0, 16, 4))),
                                  expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ours.predict(((X[i:i + 4],) for i in range(0, 16, 4)), steps=2)
    np.testing.assert_array_equal(got, expected[:8])


def test_weighted_metrics_are_weighted_and_named_as_keras_names_them():
    """compile(metrics=[...], weighted_metrics=[...]) with sample weights in fit."""
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(11)
    x = rng.random((32, 5), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    w = rng.uniform(0.1, 2.0, 32).astype(np.float32)
    histories, weights = [], None
    for K in (minicnn, keras):
        keras.backend.clear_session()
        model = K.Sequential([K.Input((5,)), K.layers.Dense(3, activation="softmax")])
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(K.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                      metrics=["accuracy"], weighted_metrics=["accuracy"])
        histories.append(model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, verbose=0,
                                   shuffle=False).history)
    ours, theirs = histories
    assert set(ours) == set(theirs) == {"loss", "accuracy", "weighted_accuracy"}
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
