"""Keras models in and out: from_keras, to_keras and .keras / .h5 files (minicnn.keras_io).

Every round trip is checked on predictions: ``to_keras(from_keras(k))`` and
``from_keras(k)`` predict like ``k``, ``from_keras(to_keras(m))`` and
``to_keras(m)`` like ``m``, within the parity suite's "forward" tolerance.
Models are small: building a TensorFlow model is the slow part.
"""
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras", reason="Keras 3 is not installed (pip install keras)")
if int(keras.__version__.split(".")[0]) < 3:
    pytest.skip("these tests need Keras 3", allow_module_level=True)

import minicnn  # noqa: E402
from minicnn import layers, zoo  # noqa: E402
from minicnn.layers import LAYER_CLASSES, Layer  # noqa: E402
from minicnn.parity.compare import tolerance  # noqa: E402

K = keras.layers
RTOL, ATOL = tolerance("forward", "tf-cpu")
RNG = np.random.default_rng(0)


def _random(shape, positive=False):
    if positive:
        return RNG.uniform(0.5, 1.5, size=shape).astype("float32")
    return (RNG.standard_normal(shape) * 0.3).astype("float32")


def _randomize_keras(kmodel):
    """Random weights everywhere (moving variances positive), so a wrong copy shows."""
    for v in kmodel.weights:
        v.assign(_random(tuple(v.shape), positive="variance" in v.path))


def _randomize_minicnn(model):
    for layer in model.leaf_layers():
        layer.set_weights([_random(w.shape, positive="variance" in key)
                           for key, w in zip(layer.weight_keys(), layer.get_weights())])


def _keras_predict(kmodel, x):
    y = kmodel(x, training=False)
    return [np.asarray(t) for t in y] if isinstance(y, (list, tuple)) else np.asarray(y)


def _minicnn_predict(model, x, upto=None):
    y = model.forward(x, training=False, upto=upto)
    return list(y) if isinstance(y, (list, tuple)) else y


def _close(ours, theirs):
    ours = ours if isinstance(ours, list) else [ours]
    theirs = theirs if isinstance(theirs, list) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def _x(*shape):
    return RNG.uniform(-1, 1, size=shape).astype("float32")


# ---------------------------------------------------------------------------
# Sequential
# ---------------------------------------------------------------------------
def _keras_all_layers():
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        K.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
        K.BatchNormalization(name="bn"),
        K.MaxPooling2D(2, name="mp"),
        K.ZeroPadding2D(((1, 0), (0, 1)), name="zp"),
        K.Conv2D(5, 2, strides=1, dilation_rate=1, use_bias=False, name="c2"),
        K.AveragePooling2D(2, padding="same", name="ap"),
        K.Activation("tanh", name="act"),
        K.ReLU(max_value=0.5, name="relu"),
        K.Dropout(0.3, name="drop"),
        K.Flatten(name="flat"),
        K.Dense(6, activation="sigmoid", name="d1"),
        K.Dense(4, name="d2"),
        K.Softmax(name="sm"),
    ], name="all_layers")


def test_sequential_from_keras_and_back():
    k = _keras_all_layers()
    _randomize_keras(k)
    x = _x(3, 12, 12, 3)
    m = minicnn.from_keras(k)
    assert isinstance(m, minicnn.Sequential) and m.name == "all_layers"
    assert [l.name for l in m.layers] == [l.name for l in k.layers]
    assert [type(l).__name__ for l in m.layers] == [type(l).__name__ for l in k.layers]
    assert m.layers[7].max_value == 0.5 and m.layers[3].padding == ((1, 0), (0, 1))
    for a, b in zip(m.get_weights(), k.get_weights()):
        np.testing.assert_array_equal(a, b)
    _close(_minicnn_predict(m, x), _keras_predict(k, x))
    k2 = minicnn.to_keras(m)
    assert isinstance(k2, keras.Sequential)
    assert [l.name for l in k2.layers] == [l.name for l in k.layers]
    _close(_keras_predict(k2, x), _keras_predict(k, x))


# smaller inputs for the zoo's big networks (the tests compare numbers, not accuracy)
ZOO_ARGS = {"vgg16": dict(input_shape=(32, 32, 3), classes=10),
            "vgg19": dict(input_shape=(32, 32, 3), classes=10),
            "small_vgg": dict(input_shape=(64, 64, 3)),
            "conv1d_text_classifier": dict(max_features=500, max_len=60)}


def _input_for(model, n=2):
    t = model.inputs[0]
    if t.dtype.kind in "iu":
        return RNG.integers(0, 100, size=(n, *t.shape[1:])).astype(t.dtype)
    return _x(n, *t.shape[1:])


@pytest.mark.parametrize("name", sorted(zoo.MODELS))
def test_zoo_to_keras_and_back(name):
    m = zoo.build(name, **ZOO_ARGS.get(name, {}))
    x = _input_for(m)
    k = minicnn.to_keras(m)
    sequential = isinstance(m, minicnn.Sequential)
    assert isinstance(k, keras.Sequential) == sequential
    assert k.count_params() == m.count_params()
    _close(_keras_predict(k, x), _minicnn_predict(m, x))
    m2 = minicnn.from_keras(k)
    assert isinstance(m2, minicnn.Sequential) == sequential
    _close(_minicnn_predict(m2, x), _minicnn_predict(m, x))
    assert [l.get_config() for l in m2.leaf_layers()] == [l.get_config() for l in m.leaf_layers()]


# ---------------------------------------------------------------------------
# functional graphs
# ---------------------------------------------------------------------------
def _two_in_two_out():
    """Two inputs, one Conv2D shared by both, two outputs."""
    a = layers.Input((8, 8, 3), name="a")
    b = layers.Input((8, 8, 3), name="b")
    shared = layers.Conv2D(4, 3, activation="relu", name="shared")
    fa = layers.Flatten(name="fa")(shared(a))
    fb = layers.Flatten(name="fb")(layers.MaxPooling2D(2, name="pool")(shared(b)))
    out1 = layers.Dense(3, activation="softmax", name="out1")(fa)
    out2 = layers.Dense(2, name="out2")(fb)
    return minicnn.Model([a, b], [out1, out2], name="two_heads")


def test_functional_two_inputs_two_outputs_shared_layer():
    m = _two_in_two_out()
    _randomize_minicnn(m)
    xs = [_x(2, 8, 8, 3), _x(2, 8, 8, 3)]
    k = minicnn.to_keras(m)
    assert isinstance(k, keras.Model) and not isinstance(k, keras.Sequential)
    assert [t.name for t in k.inputs] == ["a", "b"]
    shared = k.get_layer("shared")
    assert len(shared._inbound_nodes) == 2                  # one layer, two calls
    _close(_keras_predict(k, xs), _minicnn_predict(m, xs))
    m2 = minicnn.from_keras(k)
    assert isinstance(m2, minicnn.Model) and not isinstance(m2, minicnn.Sequential)
    assert len([n for n in m2._nodes if n.layer.name == "shared"]) == 2
    assert sum(1 for l in m2.layers if l.name == "shared") == 1
    assert m2.output_names == ["out1", "out2"]
    _close(_minicnn_predict(m2, xs), _minicnn_predict(m, xs))


def _keras_nested():
    """A Keras Sequential conv base (BatchNormalization in inference mode) under a
    functional head."""
    base = keras.Sequential([keras.Input((10, 10, 3)), K.Conv2D(4, 3, activation="relu"),
                             K.BatchNormalization(), K.MaxPooling2D(2)], name="base")
    inputs = keras.Input((10, 10, 3), name="image")
    x = base(inputs, training=False)
    x = K.Flatten()(x)
    outputs = K.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="classifier")


def test_nested_model_from_keras_and_back():
    k = _keras_nested()
    _randomize_keras(k)
    x = _x(2, 10, 10, 3)
    m = minicnn.from_keras(k)
    base = m.get_layer("base")
    assert isinstance(base, minicnn.Sequential) and len(base.layers) == 3
    node = next(n for n in m._nodes if n.layer is base)
    assert node.training is False
    _close(_minicnn_predict(m, x), _keras_predict(k, x))
    k2 = minicnn.to_keras(m)
    assert isinstance(k2.get_layer("base"), keras.Sequential)
    _close(_keras_predict(k2, x), _keras_predict(k, x))
    # and a functional base inside a Sequential
    k3 = keras.Sequential([k2.get_layer("base"), K.Flatten(), K.Dense(2)], name="outer")
    m3 = minicnn.from_keras(k3)
    assert isinstance(m3, minicnn.Sequential) and isinstance(m3.layers[0], minicnn.Sequential)
    _close(_minicnn_predict(m3, x), _keras_predict(k3, x))


def test_keras_applications_base_under_a_new_head():
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    x = K.Flatten()(base(inputs, training=False))
    k = keras.Model(inputs, K.Dense(3, activation="softmax", name="head")(x))
    m = minicnn.from_keras(k)
    vgg = m.get_layer("vgg16")
    assert isinstance(vgg, minicnn.Model) and len(vgg.layers) == len(base.layers)
    assert m.count_params() == k.count_params()
    x = _x(2, 32, 32, 3)
    _close(_minicnn_predict(m, x), _keras_predict(k, x))
    _close(_minicnn_predict(m, x, upto="vgg16"), np.asarray(base(x)))


# ---------------------------------------------------------------------------
# layers other helpers are adding: tested once they are there
# ---------------------------------------------------------------------------
def _merge_model():
    a = keras.Input((6, 6, 2), name="a")
    b = keras.Input((6, 6, 2), name="b")
    c = K.Conv2D(2, 3, padding="same", name="c")(a)
    added = K.Add(name="add")([c, b])
    cat = K.Concatenate(name="cat")([added, a])
    return keras.Model([a, b], K.Flatten()(cat), name="merge"), [_x(2, 6, 6, 2), _x(2, 6, 6, 2)]


OPTIONAL = {
    "Concatenate": _merge_model,
    "GlobalAveragePooling2D": lambda: (keras.Sequential(
        [keras.Input((6, 6, 3)), K.Conv2D(4, 3), K.GlobalAveragePooling2D()]), _x(2, 6, 6, 3)),
    "SeparableConv2D": lambda: (keras.Sequential(
        [keras.Input((8, 8, 3)), K.SeparableConv2D(4, 3, depth_multiplier=2, activation="relu")]),
        _x(2, 8, 8, 3)),
    "Conv1D": lambda: (keras.Sequential(
        [keras.Input((10, 3)), K.Conv1D(4, 3, activation="relu"), K.Flatten(), K.Dense(2)]),
        _x(2, 10, 3)),
    "Embedding": lambda: (keras.Sequential(
        [keras.Input((5,), dtype="int32"), K.Embedding(20, 4), K.Flatten(), K.Dense(2)]),
        RNG.integers(0, 20, size=(2, 5)).astype("int32")),
}


def _sequential(shape, *stack):
    return lambda: (keras.Sequential([keras.Input(shape), *stack]), _x(2, *shape))


def _binary(merge):
    def build():
        a, b = keras.Input((4, 4, 2), name="a"), keras.Input((4, 4, 2), name="b")
        return keras.Model([a, b], merge()([a, b])), [_x(2, 4, 4, 2), _x(2, 4, 4, 2)]
    return build


OPTIONAL.update({
    "Conv2DTranspose": _sequential((6, 6, 2), K.Conv2DTranspose(3, 3, strides=2, padding="same")),
    "Cropping2D": _sequential((6, 6, 2), K.Cropping2D(((1, 0), (0, 2)))),
    "DepthwiseConv2D": _sequential((6, 6, 2), K.DepthwiseConv2D(3, depth_multiplier=2)),
    "ELU": _sequential((6, 6, 2), K.ELU(alpha=0.7)),
    "LeakyReLU": _sequential((6, 6, 2), K.LeakyReLU(negative_slope=0.2)),
    "PReLU": _sequential((6, 6, 2), K.PReLU(shared_axes=[1, 2])),
    "Permute": _sequential((6, 5, 2), K.Permute((2, 1, 3)), K.Reshape((30, 2))),
    "UpSampling2D": _sequential((3, 3, 2), K.UpSampling2D(2, interpolation="bilinear")),
    "MaxPooling1D": _sequential((10, 3), K.MaxPooling1D(2), K.AveragePooling1D(2, padding="same"),
                                K.GlobalMaxPooling1D()),
    "GlobalAveragePooling1D": _sequential((10, 3), K.GlobalAveragePooling1D()),
    "GlobalMaxPooling2D": _sequential((6, 6, 2), K.GlobalMaxPooling2D(keepdims=True)),
    "Multiply": _binary(K.Multiply), "Subtract": _binary(K.Subtract),
    "Maximum": _binary(K.Maximum), "Average": _binary(K.Average),
})
NEEDS = {"Concatenate": ("Concatenate", "Add"), "Permute": ("Permute", "Reshape"),
         "MaxPooling1D": ("MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D")}


@pytest.mark.parametrize("name", sorted(OPTIONAL))
def test_newer_layers_round_trip(name):
    needs = NEEDS.get(name, (name,))
    missing = [n for n in needs if n not in LAYER_CLASSES]
    if missing:
        pytest.skip(f"minicnn has no {missing} layer yet")
    k, x = OPTIONAL[name]()
    _randomize_keras(k)
    m = minicnn.from_keras(k)
    _close(_minicnn_predict(m, x), _keras_predict(k, x))
    _close(_keras_predict(minicnn.to_keras(m), x), _keras_predict(k, x))


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------
def _small_compiled():
    m = minicnn.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(3, 3, activation="relu"),
                            layers.BatchNormalization(), layers.Flatten(),
                            layers.Dense(4, activation="softmax")], name="small")
    _randomize_minicnn(m)
    m.compile(optimizer=minicnn.optimizers.Adam(learning_rate=3e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_and_load_keras_files(tmp_path, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py", reason="h5py is not installed; .h5 needs it")
    m = _small_compiled()
    x = _x(3, 8, 8, 1)
    path = tmp_path / f"model{suffix}"
    m.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]   # no temporary left
    if suffix == ".keras":
        assert zipfile.is_zipfile(path)                   # a real Keras archive, not an npz
        assert "config.json" in zipfile.ZipFile(path).namelist()
    k = keras.models.load_model(path, compile=False)      # Keras reads it
    _close(_keras_predict(k, x), _minicnn_predict(m, x))
    m2 = minicnn.load_model(path)
    assert isinstance(m2, minicnn.Sequential)
    _close(_minicnn_predict(m2, x), _minicnn_predict(m, x))
    assert type(m2.optimizer).__name__ == "Adam"
    assert m2.optimizer.learning_rate == pytest.approx(3e-3)
    assert type(m2.loss).__name__ == "SparseCategoricalCrossentropy"
    assert [name for name, _ in m2.metrics] == ["accuracy"]
    m.save(path)                                          # saving over works too
    assert minicnn.load_model(path, compile=False).optimizer is None


def test_keras_file_of_a_functional_model(tmp_path):
    k = _keras_nested()
    _randomize_keras(k)
    k.compile(optimizer="sgd", loss="categorical_crossentropy")
    path = tmp_path / "nested.keras"
    k.save(path)
    x = _x(2, 10, 10, 3)
    m = minicnn.load_model(path)
    assert isinstance(m.get_layer("base"), minicnn.Sequential)
    assert type(m.optimizer).__name__ == "SGD"
    _close(_minicnn_predict(m, x), _keras_predict(k, x))
    m.save(tmp_path / "again.keras")
    _close(_minicnn_predict(minicnn.load_model(tmp_path / "again.keras"), x),
           _keras_predict(k, x))


def test_load_keras_weights_from_a_weights_file(tmp_path):
    from minicnn.keras_io import load_keras_weights
    m = _two_in_two_out()
    _randomize_minicnn(m)
    path = tmp_path / "two.weights.h5"
    minicnn.to_keras(m).save_weights(path)
    fresh = _two_in_two_out()                  # same architecture, other weights
    xs = [_x(2, 8, 8, 3), _x(2, 8, 8, 3)]
    assert load_keras_weights(fresh, path) is fresh
    _close(_minicnn_predict(fresh, xs), _minicnn_predict(m, xs))


def test_compile_settings_travel_both_ways_or_warn():
    k = _keras_nested()
    k.compile(optimizer=keras.optimizers.RMSprop(learning_rate=5e-4, rho=0.8),
              loss="categorical_crossentropy", metrics=["accuracy"])
    m = minicnn.from_keras(k)
    assert type(m.optimizer).__name__ == "RMSprop"
    assert (m.optimizer.learning_rate, m.optimizer.rho) == pytest.approx((5e-4, 0.8))
    assert [name for name, _ in m.metrics] == ["accuracy"]
    k2 = minicnn.to_keras(m)
    assert type(k2.optimizer).__name__ == "RMSprop"
    assert float(k2.optimizer.rho) == pytest.approx(0.8)
    assert minicnn.from_keras(k, compile=False).optimizer is None
    k.compile(optimizer="adam", loss="huber")      # a loss minicnn does not have
    with pytest.warns(UserWarning, match="left uncompiled"):
        m = minicnn.from_keras(k)
    assert m.optimizer is None


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------
def test_unsupported_keras_layer_is_named():
    k = keras.Sequential([keras.Input((4,)), K.Dense(3), K.GaussianNoise(0.1, name="noise")])
    with pytest.raises(ValueError, match=r"from_keras: layer 'noise' \(GaussianNoise\) has no "
                                         r"minicnn equivalent; minicnn has: \[.*'Conv2D'"):
        minicnn.from_keras(k)


def test_keras_argument_without_minicnn_equivalent_is_named():
    class Dense(K.Dense):                      # a Keras layer with one more argument
        def __init__(self, *args, fancy=False, **kwargs):
            super().__init__(*args, **kwargs)
            self.fancy = fancy

        def get_config(self):
            return {**super().get_config(), "fancy": self.fancy}

    ok = keras.Sequential([keras.Input((4,)), Dense(3, fancy=False)])
    assert isinstance(minicnn.from_keras(ok).layers[0], layers.Dense)  # the default: dropped
    bad = keras.Sequential([keras.Input((4,)), Dense(3, fancy=True, name="fd")])
    with pytest.raises(ValueError, match=r"from_keras: layer 'fd' \(Dense\): argument "
                                         r"fancy=True has no minicnn equivalent"):
        minicnn.from_keras(bad)
    grouped = keras.Sequential([keras.Input((6, 6, 4)), K.Conv2D(4, 3, groups=2, name="g")])
    with pytest.raises(ValueError, match=r"from_keras: layer 'g' \(Conv2D\).*groups"):
        minicnn.from_keras(grouped)


def test_minicnn_layer_keras_lacks_is_named():
    class Wobble(Layer):                        # a layer of the user's own: Keras has none
        def forward(self, x, training=False):
            return x

    m = minicnn.Sequential([layers.Input((4, 4, 2)), Wobble(name="w")])
    with pytest.raises(ValueError, match=r"to_keras: layer 'w' \(Wobble\) "
                                         r"has no Keras equivalent"):
        minicnn.to_keras(m)
    explicit = minicnn.Sequential([layers.Input((6, 6, 1)),
                                   layers.Conv2D(2, 3, padding=((1, 0), (0, 1)), name="pc")])
    with pytest.raises(ValueError, match=r"to_keras: layer 'pc' \(Conv2D\): padding=.*ZeroPadding2D"):
        minicnn.to_keras(explicit)


def test_lrn_leaves_as_a_keras_twin_and_comes_back(tmp_path):
    """Keras has no LRN layer: to_keras writes minicnn's Keras twin (keras.ops, the
    tf.nn.lrn formula), which computes the same, saves in a .keras file and loads back."""
    tf = pytest.importorskip("tensorflow")
    m = minicnn.Sequential([layers.Input((5, 5, 7)),
                            layers.LocalResponseNormalization(depth_radius=2, alpha=2e-5,
                                                              beta=0.75, name="lrn")])
    x = _x(3, 5, 5, 7) * 40
    k = minicnn.to_keras(m)
    reference = tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=2e-5,
                                                   beta=0.75).numpy()
    _close(_keras_predict(k, x), reference)
    _close(_minicnn_predict(m, x), reference)
    m.save(tmp_path / "lrn.keras")
    again = minicnn.load_model(tmp_path / "lrn.keras")
    assert type(again.layers[0]).__name__ == "LocalResponseNormalization"
    assert again.layers[0].get_config() == m.layers[0].get_config()
    _close(_minicnn_predict(again, x), reference)


def test_clear_error_without_keras(monkeypatch, tmp_path):
    m = _small_compiled()
    monkeypatch.setitem(sys.modules, "keras", None)            # `import keras` fails
    for call in (lambda: minicnn.to_keras(m), lambda: minicnn.from_keras(object()),
                 lambda: m.save(tmp_path / "m.keras"),
                 lambda: minicnn.load_model(tmp_path / "m.h5")):
        with pytest.raises(ImportError, match=r"pip install keras"):
            call()
    assert list(tmp_path.iterdir()) == []
    m.save(tmp_path / "m.npz")                                # the npz format needs no Keras
    assert minicnn.load_model(tmp_path / "m.npz").count_params() == m.count_params()


def test_import_minicnn_does_not_import_tensorflow():
    code = ("import sys, minicnn; minicnn.from_keras; minicnn.to_keras; "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
            "assert not bad, bad")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_learning_rate_schedules_cross_both_ways(tmp_path):
    from minicnn.optimizers import schedules
    m = minicnn.Sequential([layers.Input((3,)), layers.Dense(2)])
    m.compile(minicnn.optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.5)), "mse")
    k = minicnn.to_keras(m)
    assert isinstance(k.optimizer.learning_rate, keras.optimizers.schedules.ExponentialDecay) or \
        type(k.optimizer._learning_rate).__name__ == "ExponentialDecay"
    back = minicnn.from_keras(k)
    lr = back.optimizer.learning_rate_schedule
    assert type(lr).__name__ == "ExponentialDecay" and lr.get_config()["decay_steps"] == 10
