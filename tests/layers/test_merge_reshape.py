"""Merge, reshaping, global pooling and advanced activation layers, and the new
activation functions, without a reference framework: float64 finite
differences, hand-computed values (ties, bilinear weights), adjoint
identities, clear errors, and configs that save and load.

Their Keras parity is in tests/parity/test_merge_reshape.py.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicnn
from minicnn import activations
from minicnn import layers as L
from minicnn.layers.reshaping import bilinear_matrix
from tests.gradcheck import check_layer, directional_check

F64 = {"dtype": "float64"}
NEW_ACTIVATIONS = ["elu", "selu", "gelu", "swish", "silu", "softplus", "softsign",
                   "leaky_relu", "hard_sigmoid", "exponential"]


def _away_from(x, kinks, gap=0.05):
    """Move values within ``gap`` of a kink out of that band (no kink in a difference)."""
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap)
    return x


# -- float64 finite differences ---------------------------------------------------------
def check_merge(layer, xs, rng):
    """Every input's gradient of a built float64 merge layer, along random directions."""
    y = layer.forward(xs)
    w_out = rng.standard_normal(y.shape)                 # loss = sum(w_out * y): dy = w_out
    dxs = layer.backward(w_out.copy())
    assert [d.shape for d in dxs] == [x.shape for x in xs]
    directional_check(lambda: float((layer.forward(xs) * w_out).sum()), xs, dxs, rng)


MERGE_GRAD_CASES = [
    ("Concatenate", {}, [(2, 3, 4, 2), (2, 3, 4, 5)]),
    ("Concatenate", {"axis": 1}, [(2, 1, 3), (2, 4, 3), (2, 2, 3)]),
    ("Add", {}, [(2, 3, 4), (2, 3, 4), (2, 3, 4)]),
    ("Add", {}, [(2, 1, 4), (2, 3, 4)]),
    ("Add", {}, [(2, 4), (2, 3, 4)]),
    ("Subtract", {}, [(2, 3, 4), (2, 3, 1)]),
    ("Multiply", {}, [(2, 3, 4), (2, 3, 4), (2, 1, 4)]),
    ("Average", {}, [(2, 5), (2, 5), (2, 5), (2, 1)]),
    ("Maximum", {}, [(2, 3, 4), (2, 3, 4), (2, 3, 4)]),
    ("Maximum", {}, [(2, 3, 4), (2, 1, 4)]),
]


@pytest.mark.parametrize("name, kwargs, shapes", MERGE_GRAD_CASES,
                         ids=[f"{n}{s}" for n, _, s in MERGE_GRAD_CASES])
def test_merge_gradients(name, kwargs, shapes):
    rng = np.random.default_rng(0)
    layer = getattr(L, name)(**kwargs, **F64)
    layer.build([(None, *s[1:]) for s in shapes])
    if name == "Maximum":      # well-separated values: no two inputs within 1e-3 of a tie
        n = sum(int(np.prod(s)) for s in shapes)
        values = rng.permutation(n) * 0.01
        xs, start = [], 0
        for s in shapes:
            xs.append(values[start:start + int(np.prod(s))].reshape(s))
            start += int(np.prod(s))
    else:
        xs = [rng.standard_normal(s) for s in shapes]
    check_merge(layer, xs, rng)


SINGLE_INPUT_LAYERS = [
    (lambda: L.Reshape((-1, 3), **F64), (2, 4, 5, 3), False),
    (lambda: L.Permute((3, 1, 2), **F64), (2, 4, 5, 3), False),
    (lambda: L.Cropping2D(((1, 0), (2, 1)), **F64), (2, 4, 5, 3), False),
    (lambda: L.UpSampling2D((2, 3), **F64), (2, 4, 5, 3), False),
    (lambda: L.UpSampling2D(3, interpolation="bilinear", **F64), (2, 4, 5, 3), False),
    (lambda: L.GlobalAveragePooling2D(**F64), (2, 4, 5, 3), False),
    (lambda: L.GlobalAveragePooling2D(keepdims=True, **F64), (2, 4, 5, 3), False),
    (lambda: L.GlobalMaxPooling2D(**F64), (2, 4, 5, 3), True),
    (lambda: L.GlobalAveragePooling1D(**F64), (3, 6, 2), False),
    (lambda: L.GlobalMaxPooling1D(keepdims=True, **F64), (3, 6, 2), True),
    (lambda: L.LeakyReLU(**F64), (2, 4, 5, 3), False),
    (lambda: L.ELU(alpha=0.7, **F64), (2, 4, 5, 3), False),
    (lambda: L.PReLU(alpha_initializer="random_normal", **F64), (3, 7), False),
    (lambda: L.PReLU(alpha_initializer="random_normal", shared_axes=[1, 2], **F64),
     (2, 4, 5, 3), False),
]


@pytest.mark.parametrize("make, shape, distinct", SINGLE_INPUT_LAYERS,
                         ids=[repr(m()) + str(s) for m, s, _ in SINGLE_INPUT_LAYERS])
def test_single_input_layer_gradients(make, shape, distinct):
    rng = np.random.default_rng(1)
    layer = make()
    layer.build((None, *shape[1:]))
    if distinct:               # max pooling: no ties, gaps of 0.01
        x = rng.permutation(np.arange(np.prod(shape)) * 0.01).reshape(shape) - 1.0
    else:                      # (leaky) ReLU-like layers: off the kink at 0
        x = _away_from(rng.standard_normal(shape), [0.0])
    check_layer(layer, x, rng)


@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_new_activation_gradients_through_dense(activation):
    rng = np.random.default_rng(2)
    layer = L.Dense(4, activation=activation, bias_initializer="random_normal", **F64)
    layer.build((None, 6))
    x = rng.standard_normal((5, 6))
    z = x @ layer.params["kernel"] + layer.params["bias"]
    if np.min(np.abs(np.stack([z, z + 3, z - 3]))) < 1e-3:    # no pre-activation on a kink
        pytest.fail("the drawn pre-activations sit on a kink; change the seed")
    check_layer(layer, x, rng)


@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_new_activation_derivative_by_central_differences(activation):
    """f'(z) elementwise against (f(z + h) - f(z - h)) / 2h over a wide range."""
    z = _away_from(np.linspace(-8, 8, 321), [0.0, -3.0, 3.0], gap=1e-3)
    f = activations.FORWARD[activation]
    y = f(z)
    slope = activations.BACKWARD[activation](np.ones_like(z), y, z)
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(slope, numeric, rtol=1e-6, atol=1e-8)


def test_conv2d_with_a_new_activation_gradients():
    rng = np.random.default_rng(3)
    layer = L.Conv2D(3, 3, padding="same", activation="gelu",
                     bias_initializer="random_normal", **F64)
    layer.build((None, 5, 5, 2))
    check_layer(layer, rng.standard_normal((2, 5, 5, 2)), rng)


# -- values worked out by hand ------------------------------------------------------------
def test_activation_values_and_keras_defaults():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(activations.leaky_relu(z), [-0.4, -0.1, 0, 0.5, 2])  # 0.2
    np.testing.assert_allclose(activations.hard_sigmoid(np.array([-4.0, -3, 0, 1.5, 3, 4])),
                               [0, 0, 0.5, 0.75, 1, 1])
    np.testing.assert_allclose(activations.elu(z), [np.expm1(-2), np.expm1(-0.5), 0, 0.5, 2])
    np.testing.assert_allclose(activations.selu(np.array([1.0])), [1.0507009873554805])
    np.testing.assert_allclose(activations.gelu(np.array([1.0])), [0.8413447460685429])
    np.testing.assert_allclose(activations.swish(np.array([1.0])), [1 / (1 + np.exp(-1))])
    np.testing.assert_allclose(activations.softplus(np.array([0.0, 1000.0])),
                               [np.log(2), 1000.0])
    np.testing.assert_allclose(activations.softsign(z), z / (1 + np.abs(z)))
    assert activations.get("SiLU") == "silu" and activations.get(None) == "linear"


def test_slopes_at_the_kinks_are_tensorflows():
    """TF's gradients at the kinks (tests/parity checks them against TF itself)."""
    one = np.ones(3)
    zero_etc = np.array([-3.0, 0.0, 3.0])
    lr = activations.leaky_relu(zero_etc)
    assert activations.leaky_relu_backward(one, lr)[1] == 0.2
    hs = activations.hard_sigmoid(zero_etc)
    np.testing.assert_array_equal(activations.hard_sigmoid_backward(one, hs, zero_etc),
                                  [0, 1 / 6, 0])
    y = activations.elu(zero_etc, alpha=0.5)
    assert activations.elu_backward(one, y, alpha=0.5)[1] == 0.5
    assert activations.selu_backward(one, activations.selu(zero_etc))[1] == \
        activations.SELU_SCALE
    prelu = L.PReLU(alpha_initializer="ones", **F64)
    prelu.build((None, 3))
    prelu.forward(np.array([[-1.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(prelu.backward(np.ones((1, 3))), [[1, 0, 1]])


def test_maximum_gives_a_tie_to_the_first_input():
    layer = L.Maximum(**F64)
    a, b, c = np.array([[1.0, 2, 3]]), np.array([[1.0, 1, 3]]), np.array([[1.0, 2, 0]])
    np.testing.assert_array_equal(layer([a, b, c]), [[1, 2, 3]])
    da, db, dc = layer.backward(np.array([[10.0, 20, 30]]))
    np.testing.assert_array_equal(da, [[10, 20, 30]])
    np.testing.assert_array_equal(db, [[0, 0, 0]])
    np.testing.assert_array_equal(dc, [[0, 0, 0]])
    # c wins where it is strictly larger than the maximum so far
    layer.forward([a, b, c + 5])
    da, db, dc = layer.backward(np.ones((1, 3)))
    np.testing.assert_array_equal(dc, [[1, 1, 1]])
    np.testing.assert_array_equal(da + db, [[0, 0, 0]])


def test_global_max_pooling_splits_the_gradient_among_ties():
    layer = L.GlobalMaxPooling2D(**F64)
    x = np.array([1.0, 3.0, 3.0, 0.0, 3.0, 2.0]).reshape(1, 2, 3, 1)
    np.testing.assert_array_equal(layer(x), [[3.0]])
    dx = layer.backward(np.array([[6.0]]))
    np.testing.assert_array_equal(dx.ravel(), [0, 2, 2, 0, 2, 0])


def test_broadcast_merges_sum_the_gradient_over_stretched_axes():
    layer = L.Add(**F64)
    a, b = np.ones((2, 1, 3)), np.ones((2, 4, 3))
    assert layer([a, b]).shape == (2, 4, 3)
    da, db = layer.backward(np.ones((2, 4, 3)))
    np.testing.assert_array_equal(da, np.full((2, 1, 3), 4.0))
    np.testing.assert_array_equal(db, np.ones((2, 4, 3)))
    lower = L.Multiply(**F64)                      # (N, 3) is seen as (N, 1, 3)
    y = lower([np.full((2, 3), 2.0), np.arange(24.0).reshape(2, 4, 3)])
    np.testing.assert_array_equal(y, 2 * np.arange(24.0).reshape(2, 4, 3))
    d_low, _ = lower.backward(np.ones((2, 4, 3)))
    np.testing.assert_array_equal(d_low, np.arange(24.0).reshape(2, 4, 3).sum(axis=1))


def test_average_and_subtract_values():
    a, b, c = np.full((1, 2), 1.0), np.full((1, 2), 2.0), np.full((1, 2), 6.0)
    avg = L.Average(**F64)
    np.testing.assert_array_equal(avg([a, b, c]), [[3.0, 3.0]])
    assert all(np.array_equal(g, [[2.0, 2.0]]) for g in avg.backward(np.full((1, 2), 6.0)))
    sub = L.Subtract(**F64)
    np.testing.assert_array_equal(sub([c, b]), [[4.0, 4.0]])
    da, db = sub.backward(np.array([[1.0, -2.0]]))
    np.testing.assert_array_equal(da, [[1, -2]])
    np.testing.assert_array_equal(db, [[-1, 2]])


def test_bilinear_weights_of_a_2x_upsampling():
    """Half-pixel centres: output pixel o samples s = (o + 0.5) / 2 - 0.5."""
    np.testing.assert_allclose(bilinear_matrix(2, 4), [[1, 0], [0.75, 0.25],
                                                       [0.25, 0.75], [0, 1]])
    layer = L.UpSampling2D(interpolation="bilinear", **F64)
    x = np.array([[0.0, 4.0], [8.0, 12.0]]).reshape(1, 2, 2, 1)
    np.testing.assert_allclose(layer(x)[0, :, :, 0],
                               [[0, 1, 3, 4], [2, 3, 5, 6], [6, 7, 9, 10], [8, 9, 11, 12]])


def test_nearest_upsampling_and_cropping_values():
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    up = L.UpSampling2D((1, 2), **F64)
    np.testing.assert_array_equal(up(x)[0, :, :, 0], [[0, 0, 1, 1], [2, 2, 3, 3]])
    np.testing.assert_array_equal(up.backward(np.ones((1, 2, 4, 1)))[0, :, :, 0],
                                  [[2, 2], [2, 2]])
    crop = L.Cropping2D(((1, 0), (0, 1)), **F64)
    np.testing.assert_array_equal(crop(np.arange(9.0).reshape(1, 3, 3, 1))[0, :, :, 0],
                                  [[3, 4], [6, 7]])
    np.testing.assert_array_equal(crop.backward(np.ones((1, 2, 2, 1)))[0, :, :, 0],
                                  [[0, 0, 0], [1, 1, 0], [1, 1, 0]])
    assert L.Cropping2D((1, 2)).cropping == ((1, 1), (2, 2))


def test_prelu_alpha_shape_follows_shared_axes_as_keras():
    assert L.PReLU()(np.zeros((2, 4, 5, 3), "float32")).shape == (2, 4, 5, 3)
    for shared, shape in ((None, (4, 5, 3)), ([1, 2], (1, 1, 3)), (1, (1, 5, 3)),
                          ((3,), (4, 5, 1))):
        layer = L.PReLU(shared_axes=shared)
        layer.build((None, 4, 5, 3))
        assert layer.params["alpha"].shape == shape
        assert layer.count_params() == int(np.prod(shape))
        np.testing.assert_array_equal(layer.get_weights()[0], np.zeros(shape))   # "Zeros"


# -- adjoint identities and geometry (hypothesis) ---------------------------------------------
def _adjoint_gap(layer, x, rng):
    """|<layer(x), dy> - <x, backward(dy)>|, which is 0 for a linear layer."""
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    return abs(float((y * dy).sum()) - float((x * layer.backward(dy)).sum()))


@settings(max_examples=10)
@given(data=st.data())
def test_upsampling_and_cropping_backward_is_the_adjoint(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), "seed"))
    h, w = data.draw(st.integers(1, 6), "h"), data.draw(st.integers(1, 6), "w")
    size = (data.draw(st.integers(1, 4), "sh"), data.draw(st.integers(1, 4), "sw"))
    x = rng.standard_normal((data.draw(st.integers(1, 3), "n"), h, w,
                             data.draw(st.integers(1, 3), "c")))
    for interpolation in ("nearest", "bilinear"):
        up = L.UpSampling2D(size, interpolation=interpolation, **F64)
        assert up(x).shape == (x.shape[0], h * size[0], w * size[1], x.shape[3])
        assert _adjoint_gap(up, x, rng) < 1e-9 * max(1.0, float(np.abs(x).sum()))
    crop = ((data.draw(st.integers(0, h - 1), "t"), 0), (0, data.draw(st.integers(0, w - 1))))
    crop = ((crop[0][0], data.draw(st.integers(0, h - 1 - crop[0][0]), "b")), crop[1])
    layer = L.Cropping2D(crop, **F64)
    y = layer(x)
    assert y.shape == (x.shape[0], h - sum(crop[0]), w - sum(crop[1]), x.shape[3])
    assert _adjoint_gap(layer, x, rng) < 1e-9 * max(1.0, float(np.abs(x).sum()))


@settings(max_examples=10)
@given(data=st.data())
def test_reshape_permute_and_global_pooling_geometry(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), "seed"))
    dims = [data.draw(st.integers(1, 4), f"d{i}") for i in range(data.draw(st.integers(1, 3)))]
    x = rng.standard_normal((2, *dims))
    perm = data.draw(st.permutations(range(1, len(dims) + 1)), "perm")
    permute = L.Permute(perm, **F64)
    y = permute(x)
    assert y.shape == (2, *(dims[p - 1] for p in perm))
    np.testing.assert_array_equal(permute.backward(y), x)          # the inverse permutation
    target = [int(np.prod(dims)), 1][::data.draw(st.sampled_from([1, -1]), "order")]
    target[data.draw(st.integers(0, 1), "unknown")] = -1
    reshape = L.Reshape(target, **F64)
    y = reshape(x)
    assert y.size == x.size and y.shape[0] == 2
    np.testing.assert_array_equal(reshape.backward(y), x)
    x2 = rng.standard_normal((2, dims[0] + 1, dims[-1] + 1, 3))
    gap, gmp = L.GlobalAveragePooling2D(**F64), L.GlobalMaxPooling2D(keepdims=True, **F64)
    np.testing.assert_allclose(gap(x2), x2.mean(axis=(1, 2)))
    np.testing.assert_array_equal(gmp(x2), x2.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(gap.backward(np.ones((2, 3))).sum(axis=(1, 2)), np.ones((2, 3)))


# -- errors -----------------------------------------------------------------------------
ERRORS = [
    (lambda: L.Concatenate()([np.zeros((2, 3, 4), "float32"), np.zeros((2, 4, 4), "float32")]),
     r"matching shapes except for the concatenation axis -1.*\(None, 3, 4\), \(None, 4, 4\)"),
    (lambda: L.Concatenate(axis=0)([np.zeros((2, 3), "float32")] * 2), "axis=0"),
    (lambda: L.Concatenate(axis=3)([np.zeros((2, 3), "float32")] * 2), "axis=3"),
    (lambda: L.Concatenate()([np.zeros((2, 3), "float32"), np.zeros((2, 3, 1), "float32")]),
     "one rank"),
    (lambda: L.Add()([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")]),
     r"incompatible shapes.*\(None, 3\), \(None, 4\)"),
    (lambda: L.Add()([np.zeros((2, 3), "float32"), np.zeros((3, 3), "float32")]),
     "different batch sizes"),
    (lambda: L.Add()(np.zeros((2, 3), "float32")), "list of inputs"),
    (lambda: L.Subtract()([np.zeros((2, 3), "float32")] * 3), "exactly 2 inputs, received 3"),
    (lambda: L.Multiply()([np.zeros((2, 3), "float32"), np.zeros((2, 3), "float64")]),
     "float32"),
    (lambda: L.Reshape((-1, -1)), "at most one unknown"),
    (lambda: L.Reshape((0, 3)), "target_shape"),
    (lambda: L.Reshape((4, 5))(np.zeros((2, 3, 6), "float32")), "unchanged.*20.*18"),
    (lambda: L.Reshape((-1, 4))(np.zeros((2, 3, 6), "float32")), "18 values"),
    (lambda: L.Permute((1, 3)), "dims=\\(1, 3\\)"),
    (lambda: L.Permute((2, 1))(np.zeros((2, 3, 4, 5), "float32")), "permutes 2 axes"),
    (lambda: L.Cropping2D(-1), "cropping=-1"),
    (lambda: L.Cropping2D((1, 2, 3)), r"cropping=\(1, 2, 3\)"),
    (lambda: L.Cropping2D(((1, 2), (3,))), "cropping"),
    (lambda: L.Cropping2D(2)(np.zeros((1, 4, 9, 1), "float32")), "at least one row"),
    (lambda: L.UpSampling2D(0), "size"),
    (lambda: L.UpSampling2D(interpolation="bicubic"), "interpolation='bicubic'"),
    (lambda: L.UpSampling2D(data_format="channels_first"), "channels_first"),
    (lambda: L.GlobalMaxPooling2D(data_format="channels_first"), "channels_first"),
    (lambda: L.GlobalAveragePooling2D()(np.zeros((2, 3, 4), "float32")), "4-D NHWC"),
    (lambda: L.GlobalAveragePooling1D()(np.zeros((2, 3, 4, 5), "float32")), "3-D"),
    (lambda: L.GlobalAveragePooling2D(keepdims=1), "keepdims=1"),
    (lambda: L.LeakyReLU(negative_slope=-0.1), "negative_slope=-0.1"),
    (lambda: L.LeakyReLU(negative_slope=None), "negative_slope=None"),
    (lambda: L.ELU(alpha="big"), "alpha='big'"),
    (lambda: L.PReLU(shared_axes=[0]), r"shared_axes=\[0\]"),
    (lambda: L.PReLU(shared_axes=[3])(np.zeros((2, 4), "float32")), "names axis 3"),
    (lambda: L.Dense(3, activation="gelu_tanh"), "'gelu_tanh'"),
]


@pytest.mark.parametrize("make, match", ERRORS, ids=[m for _, m in ERRORS])
def test_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


# -- configs, saving, graphs ---------------------------------------------------------------
def _all_new_layers():
    return [L.Concatenate(axis=1), L.Add(), L.Subtract(), L.Multiply(), L.Average(),
            L.Maximum(), L.GlobalAveragePooling2D(keepdims=True), L.GlobalMaxPooling2D(),
            L.GlobalAveragePooling1D(), L.GlobalMaxPooling1D(keepdims=True),
            L.Reshape((-1, 2)), L.Permute((2, 1)), L.Cropping2D(((1, 2), (0, 1))),
            L.UpSampling2D((2, 3), interpolation="bilinear"), L.LeakyReLU(0.1),
            L.ELU(alpha=0.5), L.PReLU(alpha_initializer="ones", shared_axes=[1, 2])]


def test_configs_round_trip_through_serialize():
    for layer in _all_new_layers():
        config = layer.get_config()
        again = L.deserialize(L.serialize(layer))
        assert type(again) is type(layer) and again.get_config() == config, config


def test_a_sequential_model_with_the_new_layers_saves_and_loads(tmp_path):
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        L.Input(shape=(6, 6, 2)), L.Conv2D(4, 3, padding="same", activation="swish"),
        L.PReLU(shared_axes=[1, 2], alpha_initializer="random_normal"),
        L.Cropping2D(1), L.UpSampling2D(interpolation="bilinear"), L.LeakyReLU(),
        L.Permute((2, 1, 3)), L.Reshape((-1, 4)), L.GlobalMaxPooling1D(), L.ELU(),
        L.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 2)).astype("float32")
    path = str(tmp_path / "m.npz")
    model.save(path)
    loaded = minicnn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in loaded.layers][-4:] == [
        "Reshape", "GlobalMaxPooling1D", "ELU", "Dense"]


def test_a_functional_residual_block_with_add_and_concatenate():
    """y = Concatenate([x, Add([x, Dense(x)])]): forward by hand, dx by differences."""
    inputs = L.Input(shape=(4,), dtype="float64")
    dense = L.Dense(4, activation="gelu", bias_initializer="random_normal", dtype="float64")
    h = dense(inputs)
    y = L.Concatenate(dtype="float64")([inputs, L.Add(dtype="float64")([inputs, h])])
    model = minicnn.Model(inputs=inputs, outputs=y)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4))
    out = model.forward(x)
    w, b = dense.params["kernel"], dense.params["bias"]
    np.testing.assert_allclose(out, np.concatenate([x, x + activations.gelu(x @ w + b)], -1))
    w_out = rng.standard_normal(out.shape)
    dx = model.backward(w_out)
    directional_check(lambda: float((model.forward(x) * w_out).sum()), [x], [dx], rng)


def test_prelu_alpha_regularizer_and_constraint_apply():
    layer = L.PReLU(alpha_initializer="ones", alpha_regularizer="l2",
                    alpha_constraint="non_neg", shared_axes=[1], **F64)
    layer.build((None, 3, 2))
    assert layer.params["alpha"].shape == (1, 2)
    assert layer.regularization_loss() == pytest.approx(0.01 * 2)       # l2 = 0.01 * sum a^2
    layer.params["alpha"][...] = [[-1.0, 0.5]]
    layer.apply_constraints()
    np.testing.assert_array_equal(layer.params["alpha"], [[0.0, 0.5]])
    config = layer.get_config()
    assert config["shared_axes"] == [1] and config["alpha_constraint"] is not None
