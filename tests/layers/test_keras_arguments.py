"""Constructor arguments and the behaviours issue 16 names, against Keras 3.

* a value Keras refuses, minicnn refuses too, with a ValueError naming the
  layer, the argument and the value (KERAS_REFUSES);
* a value Keras accepts and minicnn does not implement ("channels_first",
  ``groups=2``, an activity regularizer, ...) gets a ValueError saying so (KERAS_ONLY);
* Keras's own config of each layer builds the minicnn layer, whose config keeps
  the same settings;
* Softmax's axis, ``layer.activation = None`` and Dropout's noise_shape behave as
  in Keras; the few values minicnn refuses although Keras takes them are listed
  in ``test_stricter_than_keras``.

The Keras halves skip where keras is not installed.
"""
import numpy as np
import pytest

from minicnn import layers as L


def _keras():
    return pytest.importorskip("keras", reason="keras is not installed: nothing to compare with")


def _raises_value_error(make):
    try:
        make()
    except ValueError:
        return True
    return False


# -- values Keras refuses ----------------------------------------------------------------
# (layer, arguments, what minicnn's message names)
KERAS_REFUSES = [
    ("Conv2D", {"filters": 0, "kernel_size": 3}, "filters=0"),
    ("Conv2D", {"filters": 2.5, "kernel_size": 3}, "filters=2.5"),
    ("Conv2D", {"filters": 4, "kernel_size": 0}, "kernel_size=0"),
    ("Conv2D", {"filters": 4, "kernel_size": (3,)}, r"kernel_size.*\(3,\)"),
    ("Conv2D", {"filters": 4, "kernel_size": 2.0}, "kernel_size.*2.0"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 0}, "strides=0"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": 0}, "dilation_rate=0"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
     "dilation_rate"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "causal"}, "'causal'"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 0}, "groups=0"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "nhwc"}, "data_format='nhwc'"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "trainable": 1}, "trainable=1"),
    ("Dense", {"units": 0}, "units=0"),
    ("Dense", {"units": 2.0}, "units=2.0"),
    ("Dense", {"units": 3, "activation": "no_such_thing"}, "'no_such_thing'"),
    ("Activation", {"activation": "no_such_thing"}, "'no_such_thing'"),
    ("MaxPooling2D", {"pool_size": 0}, "pool_size=0"),
    ("MaxPooling2D", {"pool_size": (2,)}, r"pool_size.*\(2,\)"),
    ("AveragePooling2D", {"pool_size": 2.0}, "pool_size.*2.0"),
    ("AveragePooling2D", {"pool_size": 2, "data_format": "x"}, "data_format='x'"),
    ("ZeroPadding2D", {"padding": (1, -1)}, r"\(1, -1\)"),
    ("ZeroPadding2D", {"padding": ((1, 2), (3, -1))}, r"\(3, -1\)"),
    ("ZeroPadding2D", {"padding": (1, 2, 3)}, r"\(1, 2, 3\)"),
    ("ZeroPadding2D", {"padding": "a"}, "'a'"),
    ("ZeroPadding2D", {"padding": 1.5}, "1.5"),
    ("Dropout", {"rate": -0.1}, "rate=-0.1"),
    ("Dropout", {"rate": 1.5}, "rate=1.5"),
    # the noise shapes: Keras validates them at construction
    ("Dropout", {"rate": 0.5, "noise_shape": "Invalid"}, "noise_shape='Invalid'"),
    ("Dropout", {"rate": 0.5, "noise_shape": (20, 1.5, 10)}, r"noise_shape=\(20, 1.5, 10\)"),
    ("Dropout", {"rate": 0.5, "noise_shape": (20, -1, 10)}, r"noise_shape=\(20, -1, 10\)"),
    ("Dropout", {"rate": 0.5, "noise_shape": (20, 0, 10)}, r"noise_shape=\(20, 0, 10\)"),
    ("Dropout", {"rate": 0.5, "noise_shape": 5}, "noise_shape=5"),
    ("ReLU", {"negative_slope": None}, "negative_slope=None"),
    ("ReLU", {"threshold": None}, "threshold=None"),
    ("ReLU", {"max_value": -1.0}, "max_value=-1.0"),
]

# -- values Keras accepts and minicnn does not implement -------------------------------------
KERAS_ONLY = [
    ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     "data_format='channels_last' only, received data_format='channels_first'"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2},
     "groups=1 only, received groups=2"),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activity_regularizer": "l2"},
     "activity_regularizer=None only, received activity_regularizer='l2'"),
    ("Dense", {"units": 3, "activity_regularizer": "l1"}, "activity_regularizer='l1'"),
    ("Dense", {"units": 3, "lora_rank": 2}, "lora_rank=None only, received lora_rank=2"),
    ("Dense", {"units": 3, "quantization_config": {}}, "quantization_config={}"),
    ("Dropout", {"rate": 0.5, "activity_regularizer": "l2"}, "activity_regularizer='l2'"),
    ("MaxPooling2D", {"data_format": "channels_first"}, "data_format='channels_first'"),
    ("AveragePooling2D", {"pool_size": 2, "data_format": "channels_first"},
     "data_format='channels_first'"),
    ("ZeroPadding2D", {"data_format": "channels_first"}, "data_format='channels_first'"),
    ("Flatten", {"data_format": "channels_first"}, "data_format='channels_first'"),
    ("BatchNormalization", {"renorm": True}, "renorm=False only, received renorm=True"),
    ("InputLayer", {"shape": (3,), "sparse": True}, "sparse=True"),
    ("InputLayer", {"shape": (3,), "ragged": True}, "ragged=True"),
    ("InputLayer", {"shape": (3,), "optional": True}, "optional=True"),
]
# (layer, arguments, what the message says after the layer's name, does Keras accept it)
CASES = ([(name, kwargs, match, False) for name, kwargs, match in KERAS_REFUSES]
         + [(name, kwargs, f"minicnn supports .*{match}", True)
            for name, kwargs, match in KERAS_ONLY])
IDS = [f"{name}{kwargs}" for name, kwargs, *_ in CASES]


@pytest.mark.parametrize("name,kwargs,match,keras_accepts", CASES, ids=IDS)
def test_refused_with_a_value_error_naming_layer_and_argument(name, kwargs, match,
                                                              keras_accepts):
    with pytest.raises(ValueError, match=f"^{name} '.*'.*{match}"):
        getattr(L, name)(**kwargs)


@pytest.mark.parametrize("name,kwargs,match,keras_accepts", CASES, ids=IDS)
def test_keras_refuses_or_accepts_as_listed(name, kwargs, match, keras_accepts):
    """KERAS_REFUSES is what Keras refuses with a ValueError at construction;
    KERAS_ONLY what it accepts (ragged and sparse inputs need its TensorFlow backend)."""
    keras = _keras()
    if {"sparse", "ragged"} & set(kwargs) and keras.backend.backend() != "tensorflow":
        pytest.skip("sparse and ragged inputs need Keras's TensorFlow backend")
    assert _raises_value_error(lambda: getattr(keras.layers, name)(**kwargs)) != keras_accepts


def test_accepted_keras_values_are_kept():
    assert L.Conv2D(4, 3, data_format="CHANNELS_LAST", groups=1).data_format == "channels_last"
    assert L.Flatten(data_format=None).get_config()["data_format"] == "channels_last"
    assert L.Dense(3, lora_alpha=4.0).lora_alpha == 4.0             # no effect without lora_rank
    bn = L.BatchNormalization(renorm_clipping={"rmax": 3.0}, renorm_momentum=0.9)
    assert bn.get_config()["renorm_clipping"] == {"rmax": 3.0}
    assert bn.get_config()["renorm_momentum"] == 0.9
    assert L.Dense(3, input_dim=7)._declared_input_shape == (None, 7)
    assert L.ReLU(autocast=False).autocast is False


def test_synchronized_batch_norm_computes_the_same_on_one_device():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    outputs = []
    for synchronized in (False, True):
        layer = L.BatchNormalization(synchronized=synchronized)
        layer.build(x.shape)
        outputs.append((layer.forward(x, training=True), layer.backward(dy),
                        layer.state["moving_mean"].copy()))
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)


def test_input_batch_shape_as_keras():
    tensor = L.Input(batch_shape=(8, 28, 28, 1))       # a KerasTensor, as keras.Input gives
    assert tensor.shape == (8, 28, 28, 1)
    layer = tensor.node.layer
    assert (layer.batch_size, layer.shape) == (8, (28, 28, 1))
    again = L.InputLayer.from_config(layer.get_config())
    assert (again.batch_size, again.shape) == (8, (28, 28, 1))
    with pytest.raises(ValueError, match="either batch_shape or shape"):
        L.Input(shape=(28, 28, 1), batch_shape=(None, 28, 28, 1))
    with pytest.raises(ValueError, match="minicnn supports input_tensor=None only"):
        L.Input(shape=(3,), tensor=np.zeros((1, 3), np.float32))


# -- Softmax axis ------------------------------------------------------------------------
@pytest.mark.parametrize("axis,shape", [(1, (2, 5)), (-1, (2, 5)), ([1], (2, 5)),
                                        (3, (2, 3, 3, 4)), ((-1,), (2, 3, 3, 4))])
def test_softmax_accepts_any_name_of_the_last_axis(axis, shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    layer = L.Softmax(axis=axis)
    y = layer(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=-1, keepdims=True), rtol=1e-6)
    assert layer.get_config()["axis"] == axis


def test_softmax_axis_1_on_2d_input_matches_keras():
    keras = _keras()
    x = np.float32([[1, 2, 3], [0, -1, 4]])
    ours = L.Softmax(axis=1)(x)
    theirs = np.asarray(keras.layers.Softmax(axis=1)(x))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("axis,shape", [(0, (2, 5)), (1, (2, 3, 4)), (-2, (2, 5)), (2, (2, 5)),
                                        ((1, 2), (2, 3, 4))])
def test_softmax_refuses_other_axes_at_build_and_forward(axis, shape):
    layer = L.Softmax(axis=axis)
    with pytest.raises(ValueError, match=f"Softmax 'softmax.*' supports the last axis only.*"
                                         f"received axis={axis!r}".replace("(", r"\(")
                                                                   .replace(")", r"\)")):
        layer.build((None, *shape[1:]))
    with pytest.raises(ValueError, match="supports the last axis only"):
        L.Softmax(axis=axis).forward(np.zeros(shape, np.float32))


@pytest.mark.parametrize("axis", ["a", 1.0, [], None])
def test_softmax_axis_must_be_ints(axis):
    with pytest.raises(ValueError, match="axis must be an int or a list of ints"):
        L.Softmax(axis=axis)


# -- activation = None --------------------------------------------------------------------
def test_setting_activation_to_none_means_linear():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 4, 2)).astype(np.float32)
    dense, conv, act = L.Dense(3, activation="softmax"), L.Conv2D(2, 3, activation="relu"), \
        L.Activation("tanh")
    for layer in (dense, conv, act):
        layer.build(x.shape)
        layer.activation = None
        assert layer.activation == "linear"
    dy = rng.standard_normal(dense.compute_output_shape(x.shape)).astype(np.float32)
    np.testing.assert_allclose(dense.forward(x), x @ dense.params["kernel"] + dense.params["bias"],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.backward(dy), dy @ dense.params["kernel"].T, rtol=1e-5,
                               atol=1e-6)
    assert conv.forward(x).min() < 0                     # no ReLU any more
    np.testing.assert_array_equal(act.forward(x), x)
    with pytest.raises(ValueError, match="Dense 'dense.*': unknown activation 'nope'"):
        dense.activation = "nope"


def test_activation_none_matches_keras_dense():
    keras = _keras()
    x = np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)
    ours, theirs = L.Dense(3, activation="relu"), keras.layers.Dense(3, activation="relu")
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    ours.activation = theirs.activation = None
    np.testing.assert_allclose(ours.forward(x), np.asarray(theirs(x)), rtol=1e-6, atol=1e-6)


# -- Dropout noise_shape -----------------------------------------------------------------
def test_dropout_noise_shape_shares_one_draw_along_its_unit_axes():
    layer = L.Dropout(0.5, noise_shape=[None, 1, 1, None], seed=0)
    assert layer.noise_shape == (None, 1, 1, None)
    y = layer.forward(np.ones((4, 3, 3, 8), np.float32), training=True)
    kept = y != 0
    assert (kept == kept[:, :1, :1, :]).all()              # whole feature maps kept or dropped
    assert 0 < kept.mean() < 1
    np.testing.assert_array_equal(y[kept], np.float32(2.0))


def test_dropout_noise_shape_that_does_not_fit_the_input():
    layer = L.Dropout(0.5, noise_shape=(None, 2))
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 2\) does not fit input "
                                         r"shape \(4, 3\)"):
        layer.forward(np.ones((4, 3), np.float32), training=True)
    with pytest.raises(ValueError, match="does not fit"):
        L.Dropout(0.5, noise_shape=(None, 1, 1)).forward(np.ones((4, 3), np.float32),
                                                           training=True)


# -- stricter than Keras, on purpose ----------------------------------------------------------
@pytest.mark.parametrize("name,kwargs,match", [
    ("BatchNormalization", {"momentum": 1.5}, "momentum=1.5"),
    ("BatchNormalization", {"epsilon": 0}, "epsilon=0"),
    ("BatchNormalization", {"axis": "1"}, "axis='1'"),
    ("Dropout", {"rate": 1.0}, "rate=1.0"),
    ("MaxPooling2D", {"pool_size": 2, "strides": 0}, "strides"),   # Keras: fails when called
])
def test_stricter_than_keras(name, kwargs, match):
    with pytest.raises(ValueError, match=f"^{name} '.*'.*{match}"):
        getattr(L, name)(**kwargs)


# -- Keras's own configs -----------------------------------------------------------------
def _keras_layers(keras):
    K = keras.layers
    return [K.Activation("tanh"), K.ReLU(max_value=8.0, threshold=5.0), K.Softmax(axis=1),
            K.Conv2D(4, (3, 2), strides=2, padding="same", activation="relu"),
            K.Dense(3, use_bias=False), K.Dropout(0.3, noise_shape=(None, 1, 1, None), seed=2),
            K.Flatten(), K.InputLayer(shape=(5, 5, 3)), K.ZeroPadding2D(((1, 2), (0, 3))),
            K.BatchNormalization(momentum=0.9, synchronized=True), K.MaxPooling2D(3, 2),
            K.AveragePooling2D((2, 3), padding="same")]


def _plain(value):
    """Tuples as lists, so Keras's and minicnn's configs compare."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("index", range(12))
def test_keras_config_builds_the_same_layer(index):
    keras = _keras()
    theirs = _keras_layers(keras)[index]
    config = theirs.get_config()
    # The parts of a Keras config that other modules read: a dtype policy (backend.py)
    # and initializer configs (initializers.py; Keras 3.15's GlorotUniform added
    # input_axes/output_axes) are passed in their plain form here.
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"]["config"]["name"]
    for key in [k for k in config if k.endswith("_initializer")]:
        config[key] = config[key]["class_name"]
    ours = getattr(L, type(theirs).__name__).from_config(config)
    mine = ours.get_config()
    assert set(mine) == set(config)
    for key in config:
        if not key.endswith(("_initializer", "_regularizer", "_constraint")):
            assert _plain(mine[key]) == _plain(config[key]), key


def test_minicnn_config_round_trips_the_keras_arguments():
    """``from_config(get_config())`` rebuilds each layer with the same settings."""
    made = [L.Conv2D(4, 3, data_format="channels_last", groups=1, activity_regularizer=None),
            L.Dense(3, quantization_config=None), L.Flatten(data_format="channels_last"),
            L.ZeroPadding2D(2, data_format=None), L.MaxPooling2D(3, data_format=None),
            L.AveragePooling2D(2, strides=1), L.Softmax(axis=[1]),
            L.BatchNormalization(synchronized=True, renorm_momentum=0.5),
            L.Dropout(0.2, noise_shape=(None, 1, 1, None)), L.InputLayer(batch_shape=(2, 3)),
            L.ReLU(max_value=8, threshold=5)]
    for layer in made:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config, type(layer).__name__
    assert made[7].get_config()["synchronized"] is True
    assert made[6].get_config()["axis"] == [1]
