"""float64 central-difference checks of dx and every weight gradient, per layer."""
import numpy as np
import pytest

import minicnn
from minicnn import layers as L
from tests.gradcheck import check_layer

F64 = dict(dtype="float64")


def _input(rng, shape, away_from_zero=False):
    x = rng.standard_normal(shape)
    if away_from_zero:       # keep ReLU inputs off the kink at 0
        x = np.sign(x) * (np.abs(x) + 0.2)
    return x


def _distinct(rng, shape):
    """Values with no ties and gaps of >= 0.01 between them (max pooling)."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.01).reshape(shape) - 1.0


CONV_CASES = [
    dict(filters=3, kernel_size=3),
    dict(filters=2, kernel_size=(2, 3), strides=(2, 1), padding="same"),
    dict(filters=4, kernel_size=1),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", activation="tanh"),
    dict(filters=3, kernel_size=3, strides=3, padding=((1, 0), (2, 1)), activation="sigmoid"),
    dict(filters=2, kernel_size=2, padding=1, use_bias=False),
    dict(filters=2, kernel_size=5, strides=2, padding="same", activation="softmax"),
]


@pytest.mark.parametrize("config", CONV_CASES, ids=str)
def test_conv2d_gradients(config):
    rng = np.random.default_rng(0)
    layer = L.Conv2D(**config, bias_initializer="random_normal", **F64)
    layer.build((None, 7, 8, 3))
    check_layer(layer, _input(rng, (2, 7, 8, 3)), rng)


def test_conv2d_relu_gradients_away_from_kinks():
    rng = np.random.default_rng(1)
    layer = L.Conv2D(3, 3, activation="relu", padding="same", **F64)
    layer.build((None, 6, 6, 2))
    x = _input(rng, (2, 6, 6, 2))
    # nudge the bias so that no pre-activation sits within 1e-3 of the kink
    z = layer.forward(x) * 0
    layer.params["bias"][...] = 0.05
    check_layer(layer, x, rng)
    assert z.shape == (2, 6, 6, 3)


@pytest.mark.parametrize("cls", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("config", [dict(pool_size=2), dict(pool_size=3, strides=2),
                                    dict(pool_size=(2, 3), padding="same"),
                                    dict(pool_size=3, strides=3, padding="same")], ids=str)
def test_pooling_gradients(cls, config):
    rng = np.random.default_rng(2)
    layer = cls(**config, **F64)
    layer.build((None, 7, 7, 2))
    check_layer(layer, _distinct(rng, (2, 7, 7, 2)), rng)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_dense_gradients(activation):
    rng = np.random.default_rng(3)
    layer = L.Dense(5, activation=activation, bias_initializer="random_normal", **F64)
    layer.build((None, 6))
    check_layer(layer, _input(rng, (4, 6), away_from_zero=True), rng)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(training):
    rng = np.random.default_rng(4)
    layer = L.BatchNormalization(gamma_initializer="random_normal",
                                 beta_initializer="random_normal", **F64)
    layer.build((None, 4, 5, 3))
    layer.state["moving_variance"][...] = [0.5, 2.0, 1.5]
    check_layer(layer, 2 + 3 * _input(rng, (3, 4, 5, 3)), rng, training=training)


@pytest.mark.parametrize("layer", [
    L.Flatten(**F64), L.ZeroPadding2D(((1, 2), (0, 1)), **F64), L.Activation("tanh", **F64),
    L.Activation("sigmoid", **F64), L.Softmax(**F64), L.ReLU(**F64),
    L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.3, **F64)], ids=repr)
def test_shape_and_activation_layer_gradients(layer):
    rng = np.random.default_rng(5)
    layer.build((None, 4, 5, 3))
    check_layer(layer, _input(rng, (2, 4, 5, 3), away_from_zero=True), rng)


def test_dropout_gradient_uses_the_same_mask():
    rng = np.random.default_rng(6)
    layer = L.Dropout(0.4, **F64)
    layer.build((None, 10))
    x = rng.standard_normal((3, 10))
    mask = rng.random((3, 10)) > 0.4
    y = layer.forward(x, training=True, mask=mask)
    np.testing.assert_array_equal(y, np.where(mask, x / 0.6, 0))
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.where(mask, 1 / 0.6, 0))


def test_dropout_backward_recomputes_the_forward_decisions():
    minicnn.set_random_seed(3)
    layer = L.Dropout(0.3)
    layer.build((None, 6, 7))
    x = np.random.default_rng(3).uniform(1, 2, (5, 6, 7)).astype(np.float32)   # no zeros
    y = layer.forward(x, training=True)
    kept = y != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_array_equal(y, np.where(kept, x * np.float32(1 / 0.7), 0))
    dy = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dy), np.where(kept, dy * np.float32(1 / 0.7), 0))


def test_dropout_draw_rows_are_the_whole_batch_rows():
    """Any rows of a batch's draw, drawn alone, are those rows of the whole draw
    (what lets each worker compute its own shard's mask)."""
    from minicnn.layers.core import DropoutDraw
    draw = DropoutDraw(key=2 ** 63 + 12345, shape=(10, 3, 4), rate=0.25)
    whole = draw.keep()
    for lo, hi in [(0, 10), (0, 3), (3, 7), (9, 10), (4, 4)]:
        np.testing.assert_array_equal(draw[lo:hi].keep(), whole[lo:hi])
    x = np.ones((3, 3, 4), np.float32)
    part = draw[3:6]
    y = minicnn.kernels.dropout_apply(x, part.key, part.start, part.threshold, 4 / 3)
    np.testing.assert_array_equal(y != 0, whole[3:6])
    assert abs(DropoutDraw(7, (1000, 1000), 0.25).keep().mean() - 0.75) < 0.002


def test_dropout_statistics_and_inference_identity():
    minicnn.set_random_seed(0)
    layer = L.Dropout(0.2)
    layer.build((None, 100_000))
    x = np.ones((2, 100_000), dtype=np.float32)
    assert layer.forward(x, training=False) is x
    y = layer.forward(x, training=True)
    kept = y[y > 0]
    np.testing.assert_allclose(kept, np.float32(1 / 0.8))
    assert abs(y.mean() - 1) < 0.01
    assert abs((y == 0).mean() - 0.2) < 0.01


def test_backward_overwrites_grads_and_never_accumulates():
    rng = np.random.default_rng(7)
    layer = L.Dense(3, **F64)
    layer.build((None, 4))
    x = rng.standard_normal((2, 4))
    dy = rng.standard_normal((2, 3))
    layer.forward(x)
    layer.backward(dy)
    first = layer.grads["kernel"].copy()
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_array_equal(layer.grads["kernel"], first)


def test_float32_layers_never_produce_float64():
    rng = np.random.default_rng(8)
    model = minicnn.Sequential([L.Input((8, 8, 2)), L.Conv2D(3, 3, activation="relu"),
                                L.BatchNormalization(), L.MaxPooling2D(), L.AveragePooling2D(1),
                                L.Flatten(), L.Dropout(0.5), L.Dense(4, activation="sigmoid"),
                                L.Softmax()])
    x = rng.standard_normal((2, 8, 8, 2)).astype(np.float32)
    for layer, out in model.layer_outputs(x, training=True):
        assert out.dtype == np.float32, layer.name
    dx = model.backward(np.ones((2, 4), dtype=np.float32))
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for l in model.layers for g in l.grads.values())


def test_set_floatx_float64_builds_float64_models():
    minicnn.set_floatx("float64")
    try:
        layer = L.Dense(2)
        layer.build((None, 3))
        assert layer.params["kernel"].dtype == np.float64
    finally:
        minicnn.set_floatx("float32")
