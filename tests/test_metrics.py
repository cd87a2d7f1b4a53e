"""Stateful metrics against Keras 3's metric objects; epoch values over the whole epoch."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, metrics
from minicnn.parity.compare import TOLERANCES

keras = pytest.importorskip("keras")
FWD = TOLERANCES["forward"]["cpu"]
RNG = np.random.default_rng(2)


def _batches(kind):
    out = []
    for n in (7, 16, 5):
        if kind == "binary":
            p = RNG.uniform(size=(n, 1)).astype(np.float32)
            p[0, 0] = 0.5                                     # on a threshold
            out.append(((RNG.uniform(size=(n, 1)) < p).astype(np.float32), p))
        else:
            scores = RNG.standard_normal((n, 8)).astype(np.float32)
            scores[0, :3] = scores[0, 3]                      # ties at the top-k boundary
            out.append((RNG.integers(0, 8, n), scores))
    return out


@pytest.mark.parametrize("name, kwargs, kind", [
    ("AUC", {}, "binary"), ("AUC", dict(curve="PR"), "binary"),
    ("AUC", dict(num_thresholds=13, summation_method="minoring"), "binary"),
    ("AUC", dict(thresholds=[0.3, 0.5, 0.9]), "binary"),
    ("Precision", {}, "binary"), ("Recall", {}, "binary"),
    ("Precision", dict(thresholds=[0.2, 0.7]), "binary"),
    ("SparseTopKCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", dict(k=2), "onehot"),
    ("BinaryAccuracy", {}, "binary")])
@pytest.mark.parametrize("weighted", [False, True])
def test_metric_objects_accumulate_like_keras(name, kwargs, kind, weighted):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y, p in _batches(kind):
        if kind == "onehot":
            y = np.eye(8, dtype=np.float32)[y]
        w = RNG.uniform(0.1, 2, len(p)).astype(np.float32) if weighted else None
        ours.update_state(y, p, sample_weight=w)
        theirs.update_state(y, p, sample_weight=w)
        np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), *FWD)
    assert theirs.name in (ours.name, ) or theirs.name.rsplit("_", 1)[0] == ours.name  # auc_3
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), *FWD)


def _model(metric_list):
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    theirs = minicnn.to_keras(model, compile=False)
    model.compile(minicnn.optimizers.SGD(0.0), "binary_crossentropy", metrics=metric_list[0])
    theirs.compile(keras.optimizers.SGD(0.0), "binary_crossentropy", metrics=metric_list[1])
    return model, theirs


def test_epoch_values_are_computed_over_the_whole_epoch_as_keras_does():
    x = RNG.standard_normal((40, 3)).astype(np.float32)
    y = (RNG.uniform(size=40) < 0.5).astype(np.float32)
    w = RNG.uniform(0.5, 2, 40)
    ours, theirs = _model([["acc", metrics.AUC(), "precision", metrics.Recall(name="rec")],
                           ["acc", keras.metrics.AUC(name="auc"), "precision",
                            keras.metrics.Recall(name="rec")]])
    kw = dict(batch_size=6, epochs=2, verbose=0, shuffle=False, sample_weight=w)
    h1, h2 = ours.fit(x, y, **kw), theirs.fit(x, y, **kw)
    assert set(h1.history) == set(h2.history) == {"loss", "acc", "auc", "precision", "rec"}
    for key in h2.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], *FWD)
    whole = metrics.AUC()
    whole.update_state(y, ours.predict(x))            # learning rate 0: fixed predictions
    assert h1.history["auc"][-1] == pytest.approx(whole.result(), rel=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                               theirs.evaluate(x, y, verbose=0), *FWD)


def test_acc_is_logged_under_acc_and_top_k_strings_resolve():
    x = RNG.standard_normal((20, 3)).astype(np.float32)
    y = RNG.integers(0, 6, 20)
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([layers.Input((3,)), layers.Dense(6, activation="softmax")])
    theirs = minicnn.to_keras(model, compile=False)
    names = ["acc", "sparse_top_k_categorical_accuracy"]
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=names)
    theirs.compile("sgd", "sparse_categorical_crossentropy", metrics=names)
    h1 = model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    h2 = theirs.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    assert h1.history.keys() == h2.history.keys() and "acc" in h1.history
    for key in h2.history:
        np.testing.assert_allclose(h1.history[key], h2.history[key], *FWD)


def test_unknown_metric_names_are_refused():
    with pytest.raises(ValueError, match="unknown metric 'dice'"):
        metrics.get("dice")
