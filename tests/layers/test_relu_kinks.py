"""ReLU at its kinks: the output at z == threshold and the gradient where the slope jumps.

Keras passes x only where x > threshold (0 at x == threshold). Where the slope is
undefined (at the threshold and at max_value) minicnn returns the gradient Keras
on TensorFlow computes; the table below is what ``tf.GradientTape`` gave with
Keras 3.15 / TensorFlow 2.21, and ``test_relu_kinks_match_keras`` measures it again.
"""
import numpy as np
import pytest

from minicnn import layers as L

# (ReLU arguments, inputs, Keras's outputs, Keras's dy/dx)
KINKS = [
    # the examples
    ({"max_value": 8, "threshold": 5}, [4, 5, 6, 8, 9], [0, 0, 6, 8, 8], [0, 0, 1, 1, 0]),
    ({"negative_slope": 0.2, "threshold": 1.0}, [0, 1, 2], [-0.2, 0, 2], [0.2, 0, 1]),
    # plain ReLU: 0 at 0 (tf.nn.relu)
    ({}, [-1, 0, 1], [0, 0, 1], [0, 0, 1]),
    # leaky ReLU without max_value, threshold 0: negative_slope at 0 (tf.nn.leaky_relu)
    ({"negative_slope": 0.2}, [-1, 0, 1], [-0.2, 0, 1], [0.2, 0.2, 1]),
    # max_value: 1 at z == max_value (the clip passes it) ...
    ({"max_value": 8}, [0, 8, 9], [0, 8, 8], [0, 1, 0]),
    ({"negative_slope": 0.2, "max_value": 2.0, "threshold": 0.25}, [0.25, 2, 3],
     [0, 2, 2], [0, 1, 0]),
    # ... but 0 for max_value 6 with threshold 0 (tf.nn.relu6), with or without a slope
    ({"max_value": 6}, [0, 6, 7], [0, 6, 6], [0, 0, 0]),
    ({"max_value": 6, "negative_slope": 0.5}, [-1, 0, 6], [-0.5, 0, 6], [0.5, 0, 0]),
    # a threshold above max_value: the clip acts only above the threshold
    ({"max_value": 1.0, "threshold": 2.0, "negative_slope": 0.5}, [1, 1.5, 2, 3],
     [-0.5, -0.25, 0, 1], [0.5, 0.5, 0, 0]),
]
IDS = [str(kwargs) for kwargs, *_ in KINKS]


def _minicnn(kwargs, x):
    layer = L.ReLU(**kwargs)
    x = np.asarray(x, np.float32)[None, :]
    y = layer(x)
    dx = layer.backward(np.ones_like(y))
    return y[0], dx[0]


@pytest.mark.parametrize("kwargs,x,y_keras,dx_keras", KINKS, ids=IDS)
def test_relu_kinks(kwargs, x, y_keras, dx_keras):
    y, dx = _minicnn(kwargs, x)
    np.testing.assert_array_equal(y, np.float32(y_keras))
    np.testing.assert_array_equal(dx, np.float32(dx_keras))


@pytest.mark.parametrize("kwargs,x,y_keras,dx_keras", KINKS, ids=IDS)
def test_relu_kinks_match_keras(kwargs, x, y_keras, dx_keras):
    """The same points through Keras's ReLU under tf.GradientTape."""
    tf = pytest.importorskip("tensorflow", reason="TensorFlow measures Keras's gradient here")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"Keras runs on {keras.backend.backend()}; the table is TensorFlow's")
    xt = tf.constant(np.asarray(x, np.float32)[None, :])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = keras.layers.ReLU(**kwargs)(xt)
    dxt = tape.gradient(yt, xt)
    y, dx = _minicnn(kwargs, x)
    np.testing.assert_array_equal(y, yt.numpy()[0])
    np.testing.assert_array_equal(dx, dxt.numpy()[0])
    np.testing.assert_array_equal(dx, np.float32(dx_keras))     # the table is still right


def test_relu_from_logits_passes_dy_through():
    layer = L.ReLU(max_value=8, threshold=5)
    layer(np.float32([[4, 5, 6]]))
    dy = np.float32([[1, 2, 3]])
    np.testing.assert_array_equal(layer.backward(dy, from_logits=True), dy)


@pytest.mark.parametrize("kwargs,match", [
    ({"negative_slope": None}, "negative_slope=None"),   # Keras: ValueError (was TypeError)
    ({"threshold": None}, "threshold=None"),
    ({"max_value": -1.0}, "max_value=-1.0"),
    ({"max_value": "8"}, "max_value='8'"),             # Keras: a TypeError from '<'
    ({"negative_slope": float("nan")}, "negative_slope=nan"),
])
def test_relu_rejects_with_value_error(kwargs, match):
    with pytest.raises(ValueError, match=f"ReLU 're_lu.*': .* must be a float >= 0, "
                                         f"received {match}"):
        L.ReLU(**kwargs)


def test_relu_none_arguments_rejected_by_keras_with_value_error():
    keras = pytest.importorskip("keras")
    for kwargs in ({"negative_slope": None}, {"threshold": None}, {"max_value": -1.0}):
        with pytest.raises(ValueError):
            keras.layers.ReLU(**kwargs)
