"""Keras habits (issue: a package people can trust): the same lines run against Keras
and against minicnn, and the outcomes are compared.

Each check is written once as a function of ``K``, the library (``keras`` or
``minicnn``), the way a user ports a script by changing its imports.
"""
import subprocess
import sys

import numpy as np
import pytest

import minicnn

keras = pytest.importorskip("keras", reason="the comparison needs Keras")


def small(K, name="net"):
    L = K.layers
    return K.Sequential([K.Input((6, 6, 2)), L.Conv2D(3, 3, activation="relu", name="conv"),
                         L.Flatten(name="flat"), L.Dense(4, activation="softmax", name="out")],
                        name=name)


def _both(build, *args):
    minicnn.clear_session()
    keras.backend.clear_session()
    ours, theirs = build(minicnn, *args), build(keras, *args)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


X = np.random.default_rng(0).random((5, 6, 6, 2), dtype=np.float32)


def test_model_trainable_false_freezes_every_layer():
    for K in (minicnn, keras):
        model = small(K)
        model.trainable = False
        assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
        assert all(not layer.trainable for layer in model.layers)
        model.trainable = True
        assert len(model.trainable_weights) == 4
    ours = small(minicnn)
    ours.trainable = False
    text = "\n".join(minicnn.summary.summary_lines(ours))
    assert "Trainable params: 0 " in text and "Non-trainable params: 253 " in text


def test_predict_on_batch_like_keras():
    ours, theirs = _both(small)
    np.testing.assert_allclose(ours.predict_on_batch(X), theirs.predict_on_batch(X),
                               rtol=1e-5, atol=1e-6)


def test_kernel_bias_and_weights_attributes():
    ours, theirs = _both(small)
    for mine, other in zip(ours.layers, theirs.layers):
        assert [w.shape for w in mine.weights] == [tuple(w.shape) for w in other.weights]
        if hasattr(other, "kernel"):
            assert mine.kernel.shape == tuple(other.kernel.shape)
            np.testing.assert_array_equal(mine.kernel, np.asarray(other.kernel))
            assert mine.bias.shape == tuple(other.bias.shape)
    dense = ours.get_layer("out")
    dense.kernel[...] = 0                          # the live array, as Keras's variable
    assert not ours.get_weights()[2].any()


@pytest.mark.parametrize("suffix", [".weights.npz", ".weights.h5"])
def test_save_weights_and_load_weights(tmp_path, suffix):
    ours, _ = _both(small)
    path = tmp_path / f"net{suffix}"
    ours.save_weights(path)
    fresh = small(minicnn, "other")
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    if suffix == ".weights.h5":                     # Keras reads minicnn's .weights.h5
        theirs = small(keras, "keras_net")
        theirs.load_weights(str(path))
        np.testing.assert_allclose(theirs.predict(X, verbose=0), ours.predict(X),
                                   rtol=1e-5, atol=1e-6)


def test_weights_file_errors_name_the_problem(tmp_path):
    ours = small(minicnn)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.npz`"):
        ours.save_weights(tmp_path / "net.npz")
    theirs = small(keras)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        theirs.save_weights(str(tmp_path / "net.npz"))
    ours.save_weights(tmp_path / "net.weights.npz")
    other = minicnn.Sequential([minicnn.Input((6, 6, 2)), minicnn.layers.Conv2D(5, 3),
                                minicnn.layers.Flatten(), minicnn.layers.Dense(4)])
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match="holds the weights of layers conv"):
        other.load_weights(tmp_path / "net.weights.npz")
    for a, b in zip(other.get_weights(), before):           # left unchanged
        np.testing.assert_array_equal(a, b)


def scale_layer_class(K, register):
    @register(package="habits")
    class Scale(K.layers.Layer):
        """y = x * w, one learned factor per channel."""

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w

    return Scale


class Scale(minicnn.layers.Layer):
    """minicnn's side of the custom layer: forward and backward written out."""

    def build(self, input_shape):
        self.add_weight("w", (input_shape[-1],), "ones")
        super().build(input_shape)

    def forward(self, x, training=False):
        self.cache = {"x": x}
        return x * self.params["w"]

    def backward(self, dy, from_logits=False, compute_dx=True):
        self.grads["w"] = (dy * self.cache["x"]).reshape(-1, dy.shape[-1]).sum(axis=0)
        return dy * self.params["w"]


def test_custom_layer_survives_save_and_load(tmp_path):
    minicnn.saving.register_serializable(package="habits")(Scale)
    KScale = scale_layer_class(keras, keras.saving.register_keras_serializable)
    results = {}
    for K, cls, path in ((minicnn, Scale, tmp_path / "m.npz"),
                         (keras, KScale, str(tmp_path / "m.keras"))):
        model = K.Sequential([K.Input((3,)), cls(name="scale"), K.layers.Dense(2, name="d")])
        model.layers[0].set_weights([np.array([1.0, 2.0, 3.0], np.float32)])
        model.layers[1].set_weights([np.eye(3, 2, dtype=np.float32), np.zeros(2, np.float32)])
        model.save(path)
        again = K.models.load_model(path)
        results[K.__name__] = again.predict(np.ones((1, 3), np.float32), verbose=0)
    np.testing.assert_array_equal(results["minicnn"], results["keras"])
    np.testing.assert_array_equal(results["minicnn"], [[1.0, 2.0]])
    # without registration: custom_objects, as in Keras
    from minicnn.layers import REGISTERED
    del REGISTERED["Scale"]
    with pytest.raises(ValueError, match="unknown layer class 'Scale'.*custom_objects"):
        minicnn.load_model(tmp_path / "m.npz")
    again = minicnn.load_model(tmp_path / "m.npz", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(again.predict(np.ones((1, 3), np.float32)), [[1.0, 2.0]])


@pytest.mark.parametrize("functional", [False, True])
def test_get_config_and_from_config_rebuild_the_architecture(functional):
    def build(K):
        if not functional:
            return small(K)
        a = K.Input((4,), name="a")
        h = K.layers.Dense(3, activation="tanh", name="h")(a)
        out = K.layers.Concatenate(name="cat")([h, K.layers.Dense(2, name="skip")(a)])
        return K.Model(a, out, name="graph")

    ours, theirs = _both(build)
    ours2 = type(ours).from_config(ours.get_config())
    theirs2 = type(theirs).from_config(theirs.get_config())
    assert [l.name for l in ours2.layers] == [l.name for l in theirs2.layers]
    assert ours2.count_params() == theirs2.count_params() == ours.count_params()
    assert [w.shape for w in ours2.get_weights()] == [w.shape for w in theirs2.get_weights()]


def test_duplicate_layer_names_are_rejected():
    for K in (minicnn, keras):
        with pytest.raises(ValueError, match="unique"):
            K.Sequential([K.Input((3,)), K.layers.Dense(2, name="d"), K.layers.Dense(2, name="d")])
        a = K.Input((3,))
        with pytest.raises(ValueError, match="unique"):
            K.Model(a, K.layers.Dense(2, name="x")(K.layers.Dense(2, name="x")(a)))


def test_submodules_load_lazily_without_tensorflow():
    code = ("import sys, minicnn; assert 'minicnn.zoo' not in sys.modules; "
            "print(minicnn.zoo.lenet5().count_params(), minicnn.datasets.__name__, "
            "minicnn.viz.__name__, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["61706", "minicnn.datasets", "minicnn.viz", "False", "False"]


@pytest.mark.parametrize("name,kwargs", [
    ("sparse_categorical_crossentropy", {}), ("sparse_categorical_crossentropy", {"from_logits": True}),
    ("categorical_crossentropy", {}), ("categorical_crossentropy", {"label_smoothing": 0.1}),
    ("binary_crossentropy", {}), ("binary_crossentropy", {"from_logits": True}),
    ("mean_squared_error", {}), ("mean_absolute_error", {})])
def test_function_style_losses_return_keras_per_sample_values(name, kwargs):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y_pred = logits if kwargs.get("from_logits") else (
        1 / (1 + np.exp(-logits)) if name == "binary_crossentropy" else probs)
    labels = rng.integers(0, 4, 6)
    y_true = {"sparse_categorical_crossentropy": labels,
              "binary_crossentropy": rng.integers(0, 2, (6, 4)).astype(np.float32)}.get(
        name, np.eye(4, dtype=np.float32)[labels] if "categorical" in name
        else rng.standard_normal((6, 4)).astype(np.float32))
    ours = getattr(minicnn.losses, name)(y_true, y_pred, **kwargs)
    theirs = np.asarray(getattr(keras.losses, name)(y_true, y_pred, **kwargs))
    assert ours.shape == theirs.shape == (6,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_function_style_loss_on_a_tape_gives_the_gradient():
    model = small(minicnn)
    y = np.array([0, 1, 2, 3, 0])
    with minicnn.GradientTape() as tape:
        loss = minicnn.ops.mean(minicnn.losses.sparse_categorical_crossentropy(y, model(X)))
    grads = tape.gradient(loss, model.trainable_weights)
    model.compile("sgd", "sparse_categorical_crossentropy")
    value, expected = model.compute_gradients(X, y, training=False)
    np.testing.assert_allclose(float(loss), value, rtol=1e-5)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
