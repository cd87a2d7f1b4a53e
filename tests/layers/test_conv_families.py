"""Conv1D, MaxPooling1D / AveragePooling1D, DepthwiseConv2D, SeparableConv2D,
Conv2DTranspose, Embedding and LocalResponseNormalization without a reference
framework: float64 finite differences of dx and every weight gradient, output
shapes against Keras's formulas (hypothesis), the identities each layer is
built on (a 1 x L image, the adjoint of a convolution, depthwise then
pointwise), the clear errors, and config / save round trips.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicnn
from minicnn import layers as L
from tests.gradcheck import check_layer, directional_check

F64 = {"dtype": "float64"}


def _built(layer, input_shape, rng=None):
    layer.build((None, *input_shape[1:]))
    if rng is not None:                    # nonzero biases, so they are really checked
        layer.set_weights([rng.standard_normal(w.shape) * (0.5 if w.ndim > 1 else 0.2)
                           for w in layer.get_weights()])
    return layer


def _distinct(rng, shape):
    """No ties, gaps >= 0.01 (max pooling's winner never flips under eps)."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.01).reshape(shape) - 1.0


# -- float64 finite differences -----------------------------------------------------------
CONV1D = [dict(filters=3, kernel_size=3), dict(filters=2, kernel_size=4, strides=2),
          dict(filters=2, kernel_size=3, padding="same", activation="tanh"),
          dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2),
          dict(filters=2, kernel_size=2, strides=3, padding="causal", use_bias=False),
          dict(filters=4, kernel_size=5, padding="same", strides=2, activation="softmax")]
DEPTHWISE = [dict(kernel_size=3), dict(kernel_size=(2, 3), depth_multiplier=2, strides=2),
             dict(kernel_size=3, padding="same", dilation_rate=2, activation="sigmoid"),
             dict(kernel_size=3, strides=2, dilation_rate=(2, 1), padding="same"),
             dict(kernel_size=1, depth_multiplier=3, use_bias=False)]
SEPARABLE = [dict(filters=3, kernel_size=3), dict(filters=2, kernel_size=3, depth_multiplier=2,
                                                  strides=2, padding="same", activation="tanh"),
             dict(filters=4, kernel_size=(3, 2), dilation_rate=2, use_bias=False)]
TRANSPOSE = [dict(filters=3, kernel_size=3), dict(filters=2, kernel_size=3, strides=2),
             dict(filters=2, kernel_size=4, strides=2, padding="same", activation="tanh"),
             dict(filters=3, kernel_size=3, strides=3, output_padding=(2, 1)),
             dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
             dict(filters=2, kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
             dict(filters=2, kernel_size=(2, 3), dilation_rate=(1, 2))]


@pytest.mark.parametrize("config", CONV1D, ids=str)
def test_conv1d_gradients(config):
    rng = np.random.default_rng(0)
    layer = _built(L.Conv1D(**config, **F64), (2, 11, 3), rng)
    check_layer(layer, rng.standard_normal((2, 11, 3)), rng)


@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D])
@pytest.mark.parametrize("config", [dict(pool_size=2), dict(pool_size=3, strides=2),
                                    dict(pool_size=3, strides=2, padding="same")], ids=str)
def test_pooling1d_gradients(cls, config):
    rng = np.random.default_rng(1)
    layer = _built(cls(**config, **F64), (2, 9, 3))
    check_layer(layer, _distinct(rng, (2, 9, 3)), rng)


@pytest.mark.parametrize("config", DEPTHWISE, ids=str)
def test_depthwise_gradients(config):
    rng = np.random.default_rng(2)
    layer = _built(L.DepthwiseConv2D(**config, **F64), (2, 7, 8, 3), rng)
    check_layer(layer, rng.standard_normal((2, 7, 8, 3)), rng)


@pytest.mark.parametrize("config", SEPARABLE, ids=str)
def test_separable_gradients(config):
    rng = np.random.default_rng(3)
    layer = _built(L.SeparableConv2D(**config, **F64), (2, 7, 8, 3), rng)
    check_layer(layer, rng.standard_normal((2, 7, 8, 3)), rng)


@pytest.mark.parametrize("config", TRANSPOSE, ids=str)
def test_conv2d_transpose_gradients(config):
    rng = np.random.default_rng(4)
    layer = _built(L.Conv2DTranspose(**config, **F64), (2, 4, 5, 3), rng)
    check_layer(layer, rng.standard_normal((2, 4, 5, 3)), rng)


@pytest.mark.parametrize("config", [dict(), dict(depth_radius=2, bias=2.0, alpha=0.5, beta=0.75),
                                    dict(depth_radius=0, beta=1.0), dict(depth_radius=7)],
                         ids=str)
def test_lrn_gradients(config):
    rng = np.random.default_rng(5)
    layer = _built(L.LocalResponseNormalization(**config, **F64), (2, 3, 4, 6))
    check_layer(layer, rng.standard_normal((2, 3, 4, 6)), rng)


def test_embedding_gradient_and_no_dx():
    rng = np.random.default_rng(6)
    layer = _built(L.Embedding(5, 3, **F64), (2, 9), rng)
    ids = rng.integers(0, 5, (2, 9))
    w_out = rng.standard_normal((2, 9, 3))
    layer.forward(ids)
    assert layer.backward(w_out) is None                   # integer ids have no gradient
    grad = layer.grads["embeddings"].copy()
    directional_check(lambda: float((layer.forward(ids) * w_out).sum()),
                      [layer.params["embeddings"]], [grad], rng)
    unused = np.setdiff1d(np.arange(5), ids)
    assert np.all(grad[unused] == 0)                       # rows never read get nothing


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("make,shape", [
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", **F64), (2, 5, 6, 3)),
    (lambda: L.SeparableConv2D(4, 3, strides=2, **F64), (2, 7, 6, 3)),
    (lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same", **F64), (2, 3, 4, 3)),
    (lambda: L.Conv1D(3, 3, padding="causal", **F64), (2, 8, 2))], ids=["dw", "sep", "tr", "1d"])
def test_both_backends_give_the_same_checked_gradients(backend, make, shape):
    """The Numba kernels and their NumPy twins: each passes the finite-difference check,
    and the two agree."""
    results, previous = {}, minicnn.backend.backend()
    try:
        for name in ("numba", "numpy"):
            minicnn.set_backend(name)
            rng = np.random.default_rng(14)
            layer = _built(make(), shape, rng)
            x = rng.standard_normal(shape)
            y = layer.forward(x)
            dx = layer.backward(np.ones_like(y))
            results[name] = [y, dx] + [layer.grads[k] for k in layer.params]
            if name == backend:
                check_layer(layer, x, rng)
    finally:
        minicnn.set_backend(previous)
    for ours, theirs in zip(results["numba"], results["numpy"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# -- the identities each layer is built on -------------------------------------------------
def test_conv1d_is_conv2d_on_a_one_row_image():
    rng = np.random.default_rng(7)
    c1 = _built(L.Conv1D(4, 3, strides=2, padding="same", **F64), (2, 10, 3), rng)
    c2 = _built(L.Conv2D(4, (1, 3), strides=(1, 2), padding="same", **F64), (2, 1, 10, 3))
    c2.set_weights([c1.params["kernel"][None], c1.params["bias"]])
    x = rng.standard_normal((2, 10, 3))
    np.testing.assert_allclose(c1.forward(x), c2.forward(x[:, None])[:, 0], rtol=1e-12)


def test_causal_conv1d_never_looks_ahead():
    """Changing x[t] changes no output before step t; the output keeps the length."""
    rng = np.random.default_rng(8)
    layer = _built(L.Conv1D(2, 3, padding="causal", dilation_rate=2, **F64), (1, 12, 2), rng)
    x = rng.standard_normal((1, 12, 2))
    y = layer.forward(x)
    assert y.shape == (1, 12, 2)
    for t in range(12):
        x2 = x.copy()
        x2[0, t] += 1.0
        changed = np.abs(layer.forward(x2) - y).max(axis=-1)[0] > 0
        assert not changed[:t].any() and changed[t:].any()


def test_separable_is_depthwise_then_pointwise():
    rng = np.random.default_rng(9)
    sep = _built(L.SeparableConv2D(5, 3, depth_multiplier=2, strides=2, padding="same", **F64),
                 (2, 7, 8, 3), rng)
    dw = _built(L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same",
                                  use_bias=False, **F64), (2, 7, 8, 3))
    dw.set_weights([sep.params["depthwise"]])
    x = rng.standard_normal((2, 7, 8, 3))
    expected = dw.forward(x) @ sep.params["pointwise"][0, 0] + sep.params["bias"]
    np.testing.assert_allclose(sep.forward(x), expected, rtol=1e-12)


def test_depthwise_with_multiplier_one_is_a_diagonal_conv2d():
    """A DepthwiseConv2D is a Conv2D whose kernel is zero between different channels."""
    rng = np.random.default_rng(10)
    dw = _built(L.DepthwiseConv2D(3, padding="same", **F64), (2, 6, 6, 4), rng)
    conv = _built(L.Conv2D(4, 3, padding="same", **F64), (2, 6, 6, 4))
    kernel = np.zeros((3, 3, 4, 4))
    for c in range(4):
        kernel[:, :, c, c] = dw.params["depthwise"][:, :, c, 0]
    conv.set_weights([kernel, dw.params["bias"]])
    x = rng.standard_normal((2, 6, 6, 4))
    np.testing.assert_allclose(dw.forward(x), conv.forward(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", TRANSPOSE, ids=str)
def test_conv2d_transpose_is_the_adjoint_of_conv2d(config):
    """<T(x), u> = <x, C(u)>, C the Conv2D with the transposed kernel (dilation included,
    which TensorFlow's CPU kernels cannot compute)."""
    rng = np.random.default_rng(11)
    config = {k: v for k, v in config.items() if k not in ("activation", "output_padding")}
    t = _built(L.Conv2DTranspose(**config, **F64), (2, 4, 5, 3), rng)
    t.set_weights([t.params["kernel"]] + ([np.zeros(config["filters"])] if t.use_bias else []))
    x = rng.standard_normal((2, 4, 5, 3))
    y = t.forward(x)
    conv_config = {k: v for k, v in config.items() if k not in ("filters", "use_bias")}
    conv = _built(L.Conv2D(3, use_bias=False, **conv_config, **F64), y.shape)
    conv.set_weights([t.params["kernel"]])            # (kh, kw, F, C): F in, C out
    u = rng.standard_normal(y.shape)
    cu = conv.forward(u)
    assert cu.shape == x.shape
    np.testing.assert_allclose((y * u).sum(), (x * cu).sum(), rtol=1e-10)


def _lrn_by_definition(x, r, bias, alpha, beta):
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        sqr_sum = (x[..., max(0, c - r):c + r + 1] ** 2).sum(axis=-1)
        out[..., c] = x[..., c] / (bias + alpha * sqr_sum) ** beta
    return out


@pytest.mark.parametrize("r", [0, 1, 2, 5, 9])
def test_lrn_matches_its_definition(r):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 3, 7))
    layer = _built(L.LocalResponseNormalization(r, 1.5, 0.3, 0.6, **F64), x.shape)
    np.testing.assert_allclose(layer.forward(x), _lrn_by_definition(x, r, 1.5, 0.3, 0.6),
                               rtol=1e-12)


def test_embedding_lookup_and_repeated_ids_add_up():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = L.Embedding(4, 3, weights=[table])
    ids = np.array([[1, 1, 3], [0, 1, 1]], dtype=np.int64)
    np.testing.assert_array_equal(layer.forward(ids), table[ids])
    layer.backward(np.ones((2, 3, 3), np.float32))
    np.testing.assert_array_equal(layer.grads["embeddings"][:, 0], [1, 4, 0, 1])


# -- output shapes against Keras's formulas (hypothesis) --------------------------------------
def _conv1d_length(n, k, s, d, padding):
    """Keras's conv output length, written out independently."""
    if padding == "same":
        return -(-n // s)
    if padding == "causal":
        return (n + d * (k - 1) - d * (k - 1) - 1) // s + 1
    return (n - d * (k - 1) - 1) // s + 1


def _transpose_length(n, k, s, d, padding, p):
    """Keras 3's deconv output length (compute_conv_transpose_output_shape)."""
    e = d * (k - 1) + 1
    if padding == "valid":
        return (n - 1) * s + e + (max(e, s) - e if p is None else p)
    return n * s if p is None else (n - 1) * s + e % 2 + p


@settings(max_examples=30)
@given(st.data())
def test_conv1d_and_pooling1d_output_lengths(data):
    k, s = data.draw(st.integers(1, 5), "k"), data.draw(st.integers(1, 3), "s")
    d = data.draw(st.integers(1, 3), "d") if s == 1 else 1
    padding = data.draw(st.sampled_from(["valid", "same", "causal"]), "padding")
    n = data.draw(st.integers(d * (k - 1) + 1 if padding == "valid" else 1, 14), "n")
    layer = L.Conv1D(2, k, strides=s, dilation_rate=d, padding=padding)
    layer.build((None, n, 3))
    y = layer.forward(np.zeros((2, n, 3), np.float32))
    assert y.shape == layer.compute_output_shape((2, n, 3)) == (2, _conv1d_length(n, k, s, d,
                                                                                  padding), 2)
    if padding != "causal" and n >= k:
        pool = L.AveragePooling1D(k, strides=s, padding=padding)
        pool.build((None, n, 3))
        assert pool.forward(np.zeros((2, n, 3), np.float32)).shape == (
            2, _conv1d_length(n, k, s, 1, padding), 3)


@settings(max_examples=30)
@given(st.data())
def test_conv2d_transpose_output_shape(data):
    k = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    d = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) if s == (1, 1) else (1, 1)
    padding = data.draw(st.sampled_from(["valid", "same"]))
    p = data.draw(st.one_of(st.none(), st.tuples(st.integers(0, s[0] - 1),
                                                  st.integers(0, s[1] - 1))))
    hw = (data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6)))
    layer = L.Conv2DTranspose(2, k, strides=s, padding=padding, output_padding=p,
                              dilation_rate=d)
    expected = tuple(_transpose_length(n, kk, ss, dd, padding, None if p is None else pp)
                     for n, kk, ss, dd, pp in zip(hw, k, s, d, p or (None, None)))
    assert layer.output_hw(hw) == expected
    try:
        layer.build((None, *hw, 3))
    except ValueError as error:          # a "same" geometry TensorFlow refuses too
        assert padding == "same" and p is not None and "does not map back" in str(error)
        return
    y = layer.forward(np.ones((1, *hw, 3), np.float32))
    assert y.shape == (1, *expected, 2)


@settings(max_examples=20)
@given(st.data())
def test_depthwise_and_separable_output_shape(data):
    k, s = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    d, m = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    n = data.draw(st.integers(d * (k - 1) + 1 if padding == "valid" else 1, 9))
    expected = -(-n // s) if padding == "same" else (n - d * (k - 1) - 1) // s + 1
    x = np.zeros((2, n, n, 3), np.float32)
    dw = L.DepthwiseConv2D(k, strides=s, dilation_rate=d, padding=padding, depth_multiplier=m)
    sep = L.SeparableConv2D(4, k, strides=s, dilation_rate=d, padding=padding,
                            depth_multiplier=m)
    assert dw(x).shape == (2, expected, expected, 3 * m)
    assert sep(x).shape == (2, expected, expected, 4)


# -- clear errors ------------------------------------------------------------------------
BAD_ARGUMENTS = [
    (L.Conv1D, dict(filters=0, kernel_size=3), "filters=0"),
    (L.Conv1D, dict(filters=2, kernel_size=(3, 3)), r"kernel_size=\(3, 3\)"),
    (L.Conv1D, dict(filters=2, kernel_size=3, padding="full"), "'full'"),
    (L.Conv1D, dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate"),
    (L.Conv1D, dict(filters=2, kernel_size=3, groups=2), "groups=2"),
    (L.Conv1D, dict(filters=2, kernel_size=3, data_format="channels_first"), "channels_first"),
    (L.MaxPooling1D, dict(pool_size=0), "pool_size=0"),
    (L.AveragePooling1D, dict(pool_size=2, padding="causal"), "'causal'"),
    (L.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=0), "depth_multiplier=0"),
    (L.DepthwiseConv2D, dict(kernel_size=3, padding="causal"), "'causal'"),
    (L.SeparableConv2D, dict(filters=0, kernel_size=3), "filters=0"),
    (L.SeparableConv2D, dict(filters=2, kernel_size=0), "kernel_size"),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, output_padding=2),
     "output_padding"),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, output_padding=-1), "output_padding"),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, dilation_rate=2),
     "dilation_rate"),
    (L.Embedding, dict(input_dim=0, output_dim=3), "input_dim=0"),
    (L.Embedding, dict(input_dim=5, output_dim=2.5), "output_dim=2.5"),
    (L.Embedding, dict(input_dim=5, output_dim=3, mask_zero=True), "mask_zero=True"),
    (L.Embedding, dict(input_dim=5, output_dim=3, lora_rank=4), "lora_rank=4"),
    (L.LocalResponseNormalization, dict(depth_radius=-1), "depth_radius=-1"),
    (L.LocalResponseNormalization, dict(depth_radius=2.5), "depth_radius=2.5"),
    (L.LocalResponseNormalization, dict(beta="a"), "beta='a'"),
]


@pytest.mark.parametrize("cls,kwargs,message", BAD_ARGUMENTS,
                         ids=[f"{c.__name__}-{m}" for c, _, m in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_by_name(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


@pytest.mark.parametrize("layer,shape", [
    (L.Conv1D(2, 3), (2, 5, 5, 3)), (L.MaxPooling1D(), (2, 8)),
    (L.AveragePooling1D(2), (2, 4, 4, 1)), (L.DepthwiseConv2D(3), (2, 9, 3)),
    (L.SeparableConv2D(2, 3), (2, 9, 3)), (L.Conv2DTranspose(2, 3), (2, 9, 3)),
    (L.LocalResponseNormalization(), (2, 8))], ids=lambda v: getattr(v, "name", str(v)))
def test_wrong_input_rank_is_refused(layer, shape):
    with pytest.raises(ValueError, match=r"expects \d-D"):
        layer.build((None, *shape[1:]))
    with pytest.raises(ValueError, match="-D"):
        layer(np.zeros(shape, np.float32))


def test_a_conv2d_transpose_geometry_tensorflow_refuses_is_refused():
    layer = L.Conv2DTranspose(2, 2, padding="same", output_padding=0)   # even kernel, p=0
    with pytest.raises(ValueError, match="does not map back onto the input"):
        layer.build((None, 4, 4, 3))


def test_embedding_refuses_out_of_range_and_float_ids():
    layer = L.Embedding(5, 2)
    layer.build((None, 3))
    for bad, count in (([[0, 5, 1]], 1), ([[-1, 2, 7]], 2)):
        with pytest.raises(ValueError, match=rf"ids must be in \[0, 5\).*{count} id"):
            layer.forward(np.array(bad, np.int32))
    with pytest.raises(TypeError, match="integer ids"):
        layer.forward(np.array([[0.0, 1.0, 2.0]], np.float32))
    assert layer.forward(np.array([[0, 4, 4]], np.int64)).shape == (1, 3, 2)


def test_embedding_weights_argument_sets_the_table_and_checks_its_shape():
    table = np.ones((4, 2), np.float32)
    assert np.array_equal(L.Embedding(4, 2, weights=table).get_weights()[0], table)
    with pytest.raises(ValueError, match=r"expects shape \(4, 3\)"):
        L.Embedding(4, 3, weights=[table])


# -- configs, deserialization, saving ----------------------------------------------------------
ALL_LAYERS = [
    L.Conv1D(3, 4, strides=2, padding="causal", activation="relu", kernel_regularizer="l2"),
    L.MaxPooling1D(3, strides=2, padding="same"), L.AveragePooling1D(2),
    L.DepthwiseConv2D((2, 3), depth_multiplier=2, strides=2, padding="same",
                      depthwise_constraint="non_neg"),
    L.SeparableConv2D(4, 3, dilation_rate=2, depth_multiplier=3, pointwise_regularizer="l1"),
    L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, activation="tanh"),
    L.Embedding(10, 4, embeddings_initializer="glorot_uniform"),
    L.LocalResponseNormalization(2, 2.0, 1e-4, 0.75),
]


@pytest.mark.parametrize("layer", ALL_LAYERS, ids=lambda layer: type(layer).__name__)
def test_config_round_trip_through_deserialize(layer):
    again = L.deserialize(L.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_aliases():
    assert L.MaxPool1D is L.MaxPooling1D and L.AvgPool1D is L.AveragePooling1D
    assert L.Convolution1D is L.Conv1D and L.Convolution2DTranspose is L.Conv2DTranspose


@pytest.mark.parametrize("build", ["signal", "image", "tokens"])
def test_models_with_the_new_layers_save_and_load(tmp_path, build):
    rng = np.random.default_rng(13)
    if build == "signal":
        model = minicnn.Sequential([L.Input((16, 3)), L.Conv1D(4, 3, padding="causal"),
                                    L.MaxPooling1D(2), L.AveragePooling1D(2), L.Flatten(),
                                    L.Dense(2)])
        x = rng.standard_normal((3, 16, 3)).astype(np.float32)
    elif build == "image":
        model = minicnn.Sequential([L.Input((8, 8, 2)), L.DepthwiseConv2D(3, depth_multiplier=2),
                                    L.LocalResponseNormalization(1),
                                    L.SeparableConv2D(3, 3, padding="same"),
                                    L.Conv2DTranspose(2, 3, strides=2), L.Flatten(), L.Dense(2)])
        x = rng.standard_normal((3, 8, 8, 2)).astype(np.float32)
    else:
        model = minicnn.Sequential([L.Input((7,), dtype="int32"), L.Embedding(20, 4),
                                    L.Conv1D(3, 2), L.Flatten(), L.Dense(2)])
        x = rng.integers(0, 20, (3, 7)).astype(np.int32)
    path = tmp_path / "m.npz"
    model.save(path)
    again = minicnn.load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# -- against Keras's constructors and configs (skipped without keras) ----------------------
NEW_KERAS_LAYERS = ["Conv1D", "MaxPooling1D", "AveragePooling1D", "DepthwiseConv2D",
                    "SeparableConv2D", "Conv2DTranspose", "Embedding"]


@pytest.mark.parametrize("name", NEW_KERAS_LAYERS)
def test_signature_matches_keras(name):
    keras = pytest.importorskip("keras")
    from tests.layers.test_keras_signatures import signature_differences
    assert signature_differences(name, getattr(L, name), getattr(keras.layers, name)) == []


def _keras_new_layers(keras):
    K = keras.layers
    return [K.Conv1D(4, 3, strides=2, padding="causal", activation="tanh"),
            K.MaxPooling1D(3, padding="same"), K.AveragePooling1D(2, strides=1),
            K.DepthwiseConv2D((2, 3), strides=2, depth_multiplier=3, padding="same"),
            K.SeparableConv2D(5, 3, dilation_rate=2, depth_multiplier=2, use_bias=False),
            K.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
            K.Conv2DTranspose(3, (2, 3)), K.Embedding(30, 4)]


def _from_keras(keras_layer):
    """The minicnn layer built from a Keras layer's own get_config()."""
    config = keras_layer.get_config()
    config["dtype"] = config["dtype"]["config"]["name"]       # a Keras dtype policy
    for key in [k for k in config if k.endswith("_initializer")]:
        config[key] = config[key]["class_name"]
    return L.deserialize({"class_name": type(keras_layer).__name__, "config": config}), config


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("index", range(8))
def test_keras_config_builds_the_same_layer(index):
    keras = pytest.importorskip("keras")
    ours, config = _from_keras(_keras_new_layers(keras)[index])
    mine = ours.get_config()
    assert set(mine) == set(config)
    for key in config:
        if not key.endswith(("_initializer", "_regularizer", "_constraint")):
            assert _plain(mine[key]) == _plain(config[key]), key


@pytest.mark.parametrize("index", range(8))
def test_weight_shapes_order_and_output_shape_match_keras(index):
    """Keras's get_weights() copies into minicnn's set_weights() with no transposes."""
    keras = pytest.importorskip("keras")
    theirs = _keras_new_layers(keras)[index]
    name = type(theirs).__name__
    shape = (2, 9) if name == "Embedding" else (2, 9, 3) if "1D" in name else (2, 6, 7, 3)
    model = keras.Sequential([keras.Input(shape[1:]), theirs])
    ours = _built(_from_keras(theirs)[0], shape)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in model.get_weights()]
    assert ours.compute_output_shape(shape) == (2, *model.output_shape[1:])
