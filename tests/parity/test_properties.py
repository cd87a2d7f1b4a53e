"""Property-based tests (hypothesis): drawn geometries against Keras, float64
directional finite differences for every layer and two whole networks, and
invariants that need no reference.

Geometries are drawn with ``st.data()`` so that each parameter can depend on
the ones before it (a 'valid' window never exceeds its input, dilation only
with stride 1, as Keras). Profiles (tests/conftest.py): ``ci`` by default,
``pytest --hypothesis-profile=thorough`` for long runs.
"""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import minicnn
from minicnn import layers as L
from minicnn.parity import cases
from tests.gradcheck import check_layer, directional_check

F64 = {"dtype": "float64"}


# -- drawing valid geometries --------------------------------------------------------
def draw_conv(data, max_hw=12):
    """A valid Conv2D configuration and input shape, drawn parameter by parameter."""
    kernel = (data.draw(st.integers(1, 5), "kh"), data.draw(st.integers(1, 5), "kw"))
    strides = (data.draw(st.integers(1, 3), "sh"), data.draw(st.integers(1, 3), "sw"))
    dilation = (1, 1)
    if strides == (1, 1):            # Keras: no dilation together with strides > 1
        dilation = (data.draw(st.integers(1, 3), "dh"), data.draw(st.integers(1, 3), "dw"))
    padding = data.draw(st.sampled_from(["valid", "same", "explicit"]), "padding")
    pads = ((0, 0), (0, 0))
    if padding == "explicit":
        pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in "hw")
    hw = []
    for axis in range(2):
        eff = dilation[axis] * (kernel[axis] - 1) + 1
        if padding != "same" and eff - sum(pads[axis]) > max_hw:   # too wide: no dilation
            dilation = tuple(1 if a == axis else d for a, d in enumerate(dilation))
            eff = kernel[axis]
        low = 1 if padding == "same" else max(1, eff - sum(pads[axis]))
        hw.append(data.draw(st.integers(low, max_hw), f"hw{axis}"))
    kwargs = {"filters": data.draw(st.integers(1, 6), "filters"), "kernel_size": kernel,
              "strides": strides, "dilation_rate": dilation,
              "padding": pads if padding == "explicit" else padding}
    shape = (data.draw(st.integers(1, 4), "batch"), *hw, data.draw(st.integers(1, 5), "c"))
    return kwargs, shape


def draw_pool(data):
    pool = (data.draw(st.integers(1, 4), "ph"), data.draw(st.integers(1, 4), "pw"))
    strides = (data.draw(st.integers(1, 3), "sh"), data.draw(st.integers(1, 3), "sw"))
    padding = data.draw(st.sampled_from(["valid", "same"]), "padding")
    low = (1, 1) if padding == "same" else pool
    hw = [data.draw(st.integers(low[a], 10), f"hw{a}") for a in range(2)]
    shape = (data.draw(st.integers(1, 3), "batch"), *hw, data.draw(st.integers(1, 4), "c"))
    return {"pool_size": pool, "strides": strides, "padding": padding}, shape


def expected_conv_shape(kwargs, shape):
    """docs/keras_semantics.md "Padding and output size", written out independently."""
    n, h, w, _ = shape
    out = []
    for n_in, k, s, d, a in zip((h, w), kwargs["kernel_size"], kwargs["strides"],
                                kwargs["dilation_rate"], range(2)):
        padding = kwargs["padding"]
        if padding == "valid":
            out.append((n_in - d * (k - 1) - 1) // s + 1)
        elif padding == "same":
            out.append(-(-n_in // s))
        else:
            out.append((n_in + sum(padding[a]) - d * (k - 1) - 1) // s + 1)
    return (n, *out, kwargs["filters"])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), "seed"))


def _distinct(rng, shape):
    """Values with no ties and gaps of 0.01 between neighbours (max pooling)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 - 1.0


def _built(layer, shape, rng):
    layer.build((None, *shape[1:]))
    layer.set_weights([w.astype(np.float64) for w in cases.draw_weights(layer, rng)])
    return layer


# -- against Keras ------------------------------------------------------------------
@given(data=st.data())
def test_drawn_conv_matches_keras(data, reference, assert_parity):
    kwargs, shape = draw_conv(data)
    case = cases.LayerCase("Conv2D", kwargs, shape)
    assert_parity(cases.run_layer_case(case, reference, seed=data.draw(st.integers(0, 99))),
                  "Conv2D (hypothesis)", reference.device)


@given(data=st.data())
def test_drawn_pooling_matches_keras(data, reference, assert_parity):
    kwargs, shape = draw_pool(data)
    cls = data.draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"]), "cls")
    exact = ("output",) if cls == "MaxPooling2D" else ()
    case = cases.LayerCase(cls, kwargs, shape, data="distinct", exact=exact)
    assert_parity(cases.run_layer_case(case, reference), f"{cls} (hypothesis)",
                  reference.device)


# -- float64 directional finite differences, every layer -------------------------------
@given(data=st.data())
def test_conv_gradients_finite_differences(data):
    kwargs, shape = draw_conv(data, max_hw=8)
    rng = _rng(data)
    activation = data.draw(st.sampled_from(cases.ACTIVATIONS), "activation")
    layer = _built(L.Conv2D(**kwargs, activation=activation, **F64), shape, rng)
    x = rng.standard_normal(shape)
    if activation == "relu":        # keep pre-activations off the kink
        z = L.Conv2D(**kwargs, **F64)
        z.build((None, *shape[1:]))
        z.set_weights(layer.get_weights())
        assume(np.abs(z.forward(x)).min() > 1e-3)
    check_layer(layer, x, rng)


@given(data=st.data())
def test_pooling_gradients_finite_differences(data):
    kwargs, shape = draw_pool(data)
    rng = _rng(data)
    cls = data.draw(st.sampled_from([L.MaxPooling2D, L.AveragePooling2D]), "cls")
    check_layer(_built(cls(**kwargs, **F64), shape, rng), _distinct(rng, shape), rng)


@given(data=st.data())
def test_dense_gradients_finite_differences(data):
    rng = _rng(data)
    rank = data.draw(st.sampled_from([2, 4]), "rank")
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    activation = data.draw(st.sampled_from([a for a in cases.ACTIVATIONS if a != "relu"]))
    layer = L.Dense(data.draw(st.integers(1, 6), "units"), activation=activation,
                    use_bias=data.draw(st.booleans(), "bias"), **F64)
    check_layer(_built(layer, shape, rng), rng.standard_normal(shape), rng)


@given(data=st.data())
def test_batchnorm_gradients_finite_differences(data):
    rng = _rng(data)
    shape = (data.draw(st.integers(2, 4)), data.draw(st.integers(1, 4)),
             data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    layer = L.BatchNormalization(center=data.draw(st.booleans()),
                                 scale=data.draw(st.booleans()), **F64)
    check_layer(_built(layer, shape, rng), rng.standard_normal(shape), rng,
                training=data.draw(st.booleans(), "training"))


def _away_from(x, kinks, gap=0.01):
    for kink in kinks:
        near = np.abs(x - kink) < gap
        x[near] = kink + np.where(x[near] >= kink, gap, -gap)
    return x


@given(data=st.data())
def test_elementwise_layer_gradients_finite_differences(data):
    rng = _rng(data)
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5)),
             data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4)))
    which = data.draw(st.sampled_from(["Activation", "ReLU", "Softmax", "Flatten",
                                       "ZeroPadding2D"]), "layer")
    x, kinks = rng.standard_normal(shape), ()
    if which == "Activation":
        name = data.draw(st.sampled_from(cases.ACTIVATIONS), "activation")
        layer, kinks = L.Activation(name, **F64), (0.0,)
    elif which == "ReLU":
        max_value = data.draw(st.sampled_from([None, 1.0, 2.5]))
        threshold = data.draw(st.sampled_from([0.0, 0.3]))
        layer = L.ReLU(max_value=max_value, negative_slope=data.draw(st.sampled_from([0, 0.2])),
                       threshold=threshold, **F64)
        kinks = (threshold,) + (() if max_value is None else (max_value,))
    elif which == "Softmax":
        layer = L.Softmax(**F64)
    elif which == "Flatten":
        layer = L.Flatten(**F64)
    else:
        layer = L.ZeroPadding2D(((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))),
                                 (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))),
                                **F64)
    check_layer(_built(layer, shape, rng), _away_from(x, kinks), rng)


class _MaskedDropout:
    """A Dropout whose mask stays fixed across the finite-difference forward passes."""

    def __init__(self, rate, mask):
        self.layer, self.mask = L.Dropout(rate, **F64), mask
        self.params = self.grads = self.state = {}

    def forward(self, x, training=True):
        return self.layer.forward(x, training=True, mask=self.mask)

    def backward(self, dy):
        return self.layer.backward(dy)


@given(data=st.data())
def test_dropout_gradients_finite_differences(data):
    rng = _rng(data)
    shape = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 6)))
    rate = data.draw(st.sampled_from([0.1, 0.5, 0.8]))
    layer = _MaskedDropout(rate, rng.random(shape) >= rate)
    check_layer(layer, rng.standard_normal(shape), rng, training=True)


# -- two whole networks, float64 ---------------------------------------------------------
def _small_convnet():
    return minicnn.Sequential([
        L.Input((8, 8, 2), dtype="float64"),
        L.Conv2D(3, 3, padding="same", activation="tanh", kernel_regularizer="l2", **F64),
        L.MaxPooling2D(2, **F64), L.Conv2D(4, 3, activation="sigmoid", **F64),
        L.Flatten(**F64), L.Dense(5, activation="softmax", **F64)])


def _small_bn_net():
    return minicnn.Sequential([
        L.Input((6, 7, 1), dtype="float64"), L.ZeroPadding2D(1, **F64),
        L.Conv2D(4, (2, 3), strides=(2, 1), **F64), L.BatchNormalization(**F64),
        L.Activation("tanh", **F64), L.AveragePooling2D(2, padding="same", **F64),
        L.Flatten(**F64), L.Dense(3, **F64)])


def _window_gap(x):
    """Smallest gap between the two largest values of any 2x2 / stride-2 window."""
    n, h, w, c = x.shape
    windows = x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c)
    top2 = np.sort(windows.transpose(0, 1, 3, 5, 2, 4).reshape(-1, 4), axis=1)[:, -2:]
    return float((top2[:, 1] - top2[:, 0]).min())


@pytest.mark.parametrize("build,loss", [(_small_convnet, "sparse_categorical_crossentropy"),
                                        (_small_bn_net, "mse")], ids=["convnet", "bn_net"])
@given(data=st.data())
def test_whole_network_gradients_finite_differences(build, loss, data):
    """``compute_gradients`` (fused softmax loss, L2 penalty, batch norm) vs the loss itself."""
    rng = _rng(data)
    model = build()
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([w.astype(np.float64) for w in cases.draw_weights(layer, rng)])
    model.compile(optimizer="sgd", loss=loss)
    x = rng.standard_normal((3, *model.input_shape[1:]))
    classes = model.output_shape[-1]
    sparse = loss.startswith("sparse")
    y = rng.integers(0, classes, 3) if sparse else rng.standard_normal((3, classes))
    training = data.draw(st.booleans(), "training")
    outputs = model.layer_outputs(x)
    for i, layer in enumerate(model.layers):
        if isinstance(layer, L.MaxPooling2D):   # no near-ties for the perturbation to swap
            assume(_window_gap(outputs[i - 1][1]) > 1e-4)
    _, grads = model.compute_gradients(x, y, training=training)

    def loss_value():
        state = [v.copy() for layer in model.layers for v in layer.state.values()]
        out = model.forward(x, training=training)
        value = model.loss.value_and_gradient(y, out, model._fused_logits())[0]
        for v, saved in zip([v for layer in model.layers for v in layer.state.values()], state):
            v[...] = saved
        return value + model.regularization_loss()

    directional_check(loss_value, model.trainable_weights, grads, rng)


# -- invariants ---------------------------------------------------------------------------
@given(data=st.data())
def test_conv_output_shape_formula(data):
    kwargs, shape = draw_conv(data)
    layer = L.Conv2D(**kwargs)
    layer.build((None, *shape[1:]))
    y = layer.forward(np.zeros(shape, np.float32))
    assert y.shape == layer.compute_output_shape(shape) == expected_conv_shape(kwargs, shape)


@given(data=st.data())
def test_conv_is_linear_in_input_and_kernel(data):
    kwargs, shape = draw_conv(data, max_hw=8)
    rng = _rng(data)
    layer = L.Conv2D(**kwargs, use_bias=False, **F64)
    layer.build((None, *shape[1:]))
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    k1, k2 = (rng.standard_normal(layer.params["kernel"].shape) for _ in range(2))
    a, b = rng.standard_normal(2)

    def conv(x, k):
        layer.set_weights([k])
        return layer.forward(x)

    tol = dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv(a * x1 + b * x2, k1), a * conv(x1, k1) + b * conv(x2, k1),
                               **tol)
    np.testing.assert_allclose(conv(x1, a * k1 + b * k2), a * conv(x1, k1) + b * conv(x1, k2),
                               **tol)


@given(data=st.data())
def test_maxpool_gradient_sum_equals_upstream_sum(data):
    """Each window hands its whole upstream gradient to one input cell."""
    kwargs, shape = draw_pool(data)
    rng = _rng(data)
    layer = L.MaxPooling2D(**kwargs, **F64)
    layer.build((None, *shape[1:]))
    y = layer.forward(_distinct(rng, shape))
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    assert dx.shape == shape
    np.testing.assert_allclose(dx.sum(axis=(1, 2)), dy.sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)


@given(data=st.data())
def test_valid_conv_commutes_with_translation(data):
    """Shifting the input by (i, j) cells shifts a stride-1 'valid' output by (i, j)."""
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    h, w = data.draw(st.integers(kh + 1, 12)), data.draw(st.integers(kw + 1, 12))
    shape = (data.draw(st.integers(1, 3)), h, w, data.draw(st.integers(1, 4)))
    rng = _rng(data)
    layer = _built(L.Conv2D(data.draw(st.integers(1, 5)), (kh, kw), **F64), shape, rng)
    oh, ow = h - kh + 1, w - kw + 1
    i, j = data.draw(st.integers(0, oh - 1), "i"), data.draw(st.integers(0, ow - 1), "j")
    x = rng.standard_normal(shape)
    shifted = np.zeros_like(x)
    shifted[:, i:, j:] = x[:, :h - i, :w - j]
    y, ys = layer.forward(x), layer.forward(shifted)
    np.testing.assert_allclose(ys[:, i:, j:], y[:, :oh - i, :ow - j], rtol=1e-12, atol=1e-12)
