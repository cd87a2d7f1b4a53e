"""The image preprocessing layers on their own: geometry checked with numbers
(rot90, roll, flips, fill rules), inference identity, seeded draws, a split
batch drawing the same images as a whole one, and every backward as the exact
adjoint of its forward (<A x, y> = <x, A^T y>) or checked by finite differences.
Comparisons with Keras are in tests/parity/test_preprocessing.py."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, parallel
from minicnn.layers.preprocessing import affine_transform

from .gradcheck import directional_check


def image(n=2, h=6, w=6, c=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype("float32")


def adjoint_gap(layer, x, transformation=None, training=True):
    """|<A x, y> - <x, A^T y>| relative, for the linear map A the forward applies."""
    kwargs = {} if transformation is None else {"transformation": transformation}
    y = layer.forward(x, training=training, **kwargs)
    r = np.random.default_rng(1).standard_normal(y.shape)
    dx = layer.backward(r.astype(y.dtype))
    lhs, rhs = float((y.astype(np.float64) * r).sum()), float((x.astype(np.float64) * dx).sum())
    return abs(lhs - rhs) / max(1.0, abs(lhs))


# -- geometry with numbers -------------------------------------------------------------
def test_rotation_by_90_degrees_is_rot90():
    x = image(h=5, w=5)
    layer = layers.RandomRotation(0.3)
    y = layer.forward(x, training=True, transformation=[[90.0], [-90.0]])
    np.testing.assert_allclose(y[0], np.rot90(x[0]), atol=1e-3)
    np.testing.assert_allclose(y[1], np.rot90(x[1], k=-1), atol=1e-3)


def test_rotation_by_180_degrees_on_a_non_square_image():
    x = image(h=4, w=7)
    y = layers.RandomRotation(0.6).forward(x, training=True, transformation=[[180.0], [180.0]])
    np.testing.assert_allclose(y, x[:, ::-1, ::-1], atol=1e-3)


@pytest.mark.parametrize("shift", [1, 2, -3])
def test_integer_translation_is_roll_with_the_fill_rule(shift):
    x = image(h=5, w=8)
    t = [[shift, 0.0]] * 2                                   # (width, height) pixels
    for mode in ("wrap", "constant", "nearest", "reflect"):
        y = layers.RandomTranslation(0.5, 0.5, fill_mode=mode, fill_value=-1.0).forward(
            x, training=True, transformation=t)
        expected = np.roll(x, shift, axis=2)
        body = slice(shift, None) if shift > 0 else slice(None, shift)
        np.testing.assert_array_equal(y[:, :, body], expected[:, :, body])
        edge = slice(0, shift) if shift > 0 else slice(shift, None)
        if mode == "wrap":
            np.testing.assert_array_equal(y, expected)
        elif mode == "constant":
            assert np.all(y[:, :, edge] == -1.0)
        elif mode == "nearest":
            col = x[:, :, :1] if shift > 0 else x[:, :, -1:]
            np.testing.assert_array_equal(y[:, :, edge], np.broadcast_to(col, y[:, :, edge].shape))
        else:                                                # reflect: d c b a | a b c d
            mirror = x[:, :, :shift][:, :, ::-1] if shift > 0 else x[:, :, shift:][:, :, ::-1]
            np.testing.assert_array_equal(y[:, :, edge], mirror)


def test_vertical_translation_moves_rows_down():
    x = image(h=6, w=4)
    y = layers.RandomTranslation(0.5, 0.0, fill_mode="wrap").forward(
        x, training=True, transformation=[[0.0, 2.0]] * 2)
    np.testing.assert_array_equal(y, np.roll(x, 2, axis=1))


def test_fill_modes_on_a_row_far_outside():
    """TF's rules for points beyond the image, one row [a b c d] shifted by 6."""
    x = np.arange(1, 5, dtype="float32").reshape(1, 1, 4, 1)
    t = np.array([1, 0, -6, 0, 1, 0, 0, 0], dtype="float32")   # out(x) = in(x - 6)
    got = {m: affine_transform(x, t, "nearest", m, 9.0)[0, 0, :, 0].tolist()
           for m in ("reflect", "wrap", "constant", "nearest")}
    assert got["constant"] == [9, 9, 9, 9]
    assert got["nearest"] == [1, 1, 1, 1]
    assert got["reflect"] == [3, 4, 4, 3]          # -6..-3 in (d c b a | a b c d | d c b a)
    # TF's wrap (divisor len - 1, then a clamp) is periodic only near the image;
    # Keras gives the same (tests/parity/test_preprocessing.py)
    assert got["wrap"] == [4, 4, 4, 4]
    near = affine_transform(x, np.array([1, 0, -1, 0, 1, 0, 0, 0], "float32"), "nearest", "wrap")
    assert near[0, 0, :, 0].tolist() == [4, 1, 2, 3]


def test_flip_modes():
    x = image()
    flip = [[1.0], [0.0]]
    h = layers.RandomFlip("horizontal").forward(x, training=True, transformation=flip)
    np.testing.assert_array_equal(h[0], x[0, :, ::-1])
    np.testing.assert_array_equal(h[1], x[1])
    v = layers.RandomFlip("vertical").forward(x, training=True, transformation=flip)
    np.testing.assert_array_equal(v[0], x[0, ::-1])
    hv = layers.RandomFlip().forward(x, training=True, transformation=flip)
    np.testing.assert_array_equal(hv[0], x[0, ::-1, ::-1])
    np.testing.assert_array_equal(hv[1], x[1])


def test_zoom_of_one_is_identity_and_zoom_out_keeps_the_centre():
    x = image(h=5, w=5)
    layer = layers.RandomZoom(0.5)
    np.testing.assert_allclose(layer.forward(x, training=True, transformation=[[1, 1]] * 2), x)
    y = layer.forward(x, training=True, transformation=[[2.0, 2.0]] * 2)
    np.testing.assert_array_equal(y[:, 2, 2], x[:, 2, 2])       # the centre stays put
    np.testing.assert_array_equal(y[:, 1, 1], x[:, 0, 0])       # zoomed out by 2


def test_crop_resize_rescaling_contrast_brightness_numbers():
    x = image(h=6, w=8)
    np.testing.assert_array_equal(layers.CenterCrop(2, 4).forward(x), x[:, 2:4, 2:6])
    crop = layers.RandomCrop(3, 4).forward(x, training=True, transformation=[[1, 2]])
    np.testing.assert_array_equal(crop, x[:, 1:4, 2:6])
    np.testing.assert_allclose(layers.Rescaling(1 / 255, offset=-1).forward(x), x / 255 - 1,
                               atol=1e-6)
    big = layers.Resizing(12, 16, interpolation="nearest").forward(x)
    np.testing.assert_array_equal(big, x.repeat(2, axis=1).repeat(2, axis=2))
    small = layers.Resizing(3, 4).forward(x)                     # a 2x2 mean, half-pixel centres
    np.testing.assert_allclose(small, x.reshape(2, 3, 2, 4, 2, 2).mean(axis=(2, 4)), rtol=1e-5)
    c = layers.RandomContrast(0.5, value_range=(-1e6, 1e6)).forward(
        x, training=True, transformation=[[2.0], [0.5]])
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(c, (x - mean) * np.array([2, 0.5]).reshape(2, 1, 1, 1) + mean,
                               rtol=1e-5, atol=1e-3)
    b = layers.RandomBrightness(0.5).forward(x, training=True, transformation=[[100.0], [-50.0]])
    np.testing.assert_allclose(b, np.clip(x + np.array([100, -50.0]).reshape(2, 1, 1, 1), 0, 255))


# -- training=False, shapes, seeds ---------------------------------------------------------
RANDOM = [lambda **k: layers.RandomFlip(**k), lambda **k: layers.RandomRotation(0.2, **k),
          lambda **k: layers.RandomTranslation(0.2, 0.3, **k),
          lambda **k: layers.RandomZoom(0.3, **k), lambda **k: layers.RandomContrast(0.4, **k),
          lambda **k: layers.RandomBrightness(0.2, **k)]


@pytest.mark.parametrize("make", RANDOM)
def test_inference_is_identity_and_seeded_draws_repeat(make):
    x = image(n=4)
    layer = make(seed=3)
    layer(x)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    a = make(seed=3)(x, training=True)
    b = make(seed=3)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(layer.forward(x, training=True), layer.forward(x, training=True))
    minicnn.utils.set_random_seed(5)
    c = make()(x, training=True)
    minicnn.utils.set_random_seed(5)
    np.testing.assert_array_equal(c, make()(x, training=True))


def test_random_crop_inference_keeps_the_aspect_box_and_the_declared_shape():
    x = image(n=2, h=8, w=12)
    layer = layers.RandomCrop(4, 4)
    y = layer(x)
    assert y.shape == (2, 4, 4, 2) == layer.compute_output_shape((2, 8, 12, 2))
    np.testing.assert_allclose(y, layers.Resizing(4, 4)(x[:, :, 2:10]), rtol=1e-6)
    assert layer(x, training=True).shape == (2, 4, 4, 2)


def test_a_split_batch_draws_the_same_images(monkeypatch):
    """Random layers in a model: the same seed gives the same augmented batch on 1
    worker and on 3, because the whole batch's draws are made before the split."""
    x = image(n=12, h=6, w=6, c=1) / 255
    y = np.random.default_rng(0).integers(0, 3, 12)

    def run(workers):
        minicnn.utils.set_random_seed(0)
        parallel.set_num_threads(workers)
        model = minicnn.Sequential([layers.Input((6, 6, 1)), layers.RandomFlip("horizontal"),
                                    layers.RandomRotation(0.1), layers.RandomZoom(0.2),
                                    layers.RandomCrop(4, 4), layers.Flatten(),
                                    layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        loss, grads = model.compute_gradients(x, y)
        return loss, grads
    try:
        one, three = run(1), run(3)
    finally:
        parallel.set_num_threads(None)
    assert one[0] == pytest.approx(three[0], rel=1e-6)
    for g1, g3 in zip(one[1], three[1]):
        np.testing.assert_allclose(g1, g3, rtol=1e-5, atol=1e-7)


def test_config_round_trip_and_errors():
    for layer in (layers.RandomRotation(0.1, fill_mode="constant", seed=2),
                  layers.Resizing(4, 5, crop_to_aspect_ratio=True), layers.Rescaling(0.5, 1.0),
                  layers.RandomZoom((-0.2, 0.3), 0.1), layers.RandomCrop(3, 3, seed=1)):
        again = layers.deserialize(layers.serialize(layer))
        assert type(again) is type(layer)
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation(2.0)
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(3, 3, interpolation="bicubic")
    with pytest.raises(ValueError, match="mode"):
        layers.RandomFlip("diagonal")


# -- backward: exact adjoints and finite differences ----------------------------------------
@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_backward_is_the_adjoint(mode, interpolation):
    x = image(n=2, h=5, w=7).astype("float64")
    kw = dict(fill_mode=mode, interpolation=interpolation, dtype="float64")
    cases = [(layers.RandomRotation(0.5, **kw), [[33.0], [-71.0]]),
             (layers.RandomTranslation(0.5, 0.5, **kw), [[1.3, -2.7], [-0.4, 3.1]]),
             (layers.RandomZoom(0.5, **kw), [[0.7, 1.4], [1.3, 0.6]])]
    for layer, t in cases:
        assert adjoint_gap(layer, x, t) < 1e-12


def test_other_backwards_are_adjoints():
    x = image(n=2, h=6, w=8).astype("float64")
    f64 = dict(dtype="float64")
    assert adjoint_gap(layers.RandomFlip(**f64), x, [[1.0], [0.0]]) < 1e-12
    assert adjoint_gap(layers.RandomCrop(3, 5, **f64), x, [[2, 1]]) < 1e-12
    assert adjoint_gap(layers.RandomCrop(3, 5, **f64), x, training=False) < 1e-12
    assert adjoint_gap(layers.RandomCrop(7, 9, **f64), x, [[0, 0]]) < 1e-12   # crop + resize
    assert adjoint_gap(layers.CenterCrop(4, 4, **f64), x, training=False) < 1e-12
    assert adjoint_gap(layers.CenterCrop(9, 5, **f64), x, training=False) < 1e-12
    for interpolation in ("bilinear", "nearest"):
        for size in ((3, 5), (11, 13), (6, 8)):
            r = layers.Resizing(*size, interpolation=interpolation, **f64)
            assert adjoint_gap(r, x, training=False) < 1e-12
    assert adjoint_gap(layers.Resizing(4, 4, crop_to_aspect_ratio=True, **f64), x,
                       training=False) < 1e-12


@pytest.mark.parametrize("make", [
    lambda: (layers.RandomContrast((0.3, 0.5), value_range=(40, 200), dtype="float64"),
             [[1.4], [0.8]]),
    lambda: (layers.RandomBrightness(0.5, value_range=(30, 220), dtype="float64"),
             [[25.0], [-35.0]]),
    lambda: (layers.Rescaling(np.array([0.5, -2.0]), offset=3.0, dtype="float64"), None)])
def test_pointwise_backwards_match_finite_differences(make):
    layer, t = make()
    x = image(n=2, h=4, w=5).astype("float64")
    kwargs = {} if t is None else {"transformation": t}
    layer(x)
    r = np.random.default_rng(2).standard_normal(layer.forward(x, training=True, **kwargs).shape)

    def loss():
        return float((layer.forward(x, training=True, **kwargs) * r).sum())
    loss()
    grad = layer.backward(r)
    directional_check(loss, [x], [grad], np.random.default_rng(3))
