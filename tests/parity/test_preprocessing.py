"""The preprocessing layers against Keras 3's (TensorFlow backend): Keras draws its
random transformation (``get_random_transformation``), both layers apply it, and the
images must agree within float32 interpolation tolerance."""
import numpy as np
import pytest

from minicnn import layers
from minicnn.layers.preprocessing import affine_transform

keras = pytest.importorskip("keras")
ATOL = 1e-3            # pixels in [0, 255], float32 coordinates


def images(n=3, h=7, w=9, c=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype("float32")


def both(klayer, ours, x, to_ours):
    t = klayer.get_random_transformation(x, training=True)
    theirs = np.asarray(klayer.transform_images(x, t, training=True))
    mine = ours.forward(x, training=True, transformation=to_ours(t))
    return mine, theirs


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_geometric_layers_match_keras(fill_mode, interpolation):
    x = images()
    kw = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=5.0, seed=1)
    cases = [
        (keras.layers.RandomRotation(0.4, **kw), layers.RandomRotation(0.4, **kw),
         lambda t: np.asarray(t["angle"]).reshape(-1, 1)),
        (keras.layers.RandomTranslation(0.6, 0.6, **kw), layers.RandomTranslation(0.6, 0.6, **kw),
         lambda t: np.asarray(t["translations"])),
        (keras.layers.RandomZoom(0.5, (-0.3, 0.6), **kw), layers.RandomZoom(0.5, (-0.3, 0.6), **kw),
         lambda t: np.concatenate([np.asarray(t["width_zoom"]), np.asarray(t["height_zoom"])], 1)),
    ]
    for klayer, ours, convert in cases:
        mine, theirs = both(klayer, ours, x, convert)
        np.testing.assert_allclose(mine, theirs, atol=ATOL, err_msg=type(ours).__name__)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_transform_far_outside_matches_keras(fill_mode):
    x = images(2, 4, 5, 1)
    t = np.array([[1, 0.2, -13.0, 0.1, 1, 9.5, 0, 0], [0.5, -1, 20, 1, 0.5, -17, 0, 0]], "float32")
    for interpolation in ("nearest", "bilinear"):
        theirs = np.asarray(keras.ops.image.affine_transform(
            x, t, interpolation=interpolation, fill_mode=fill_mode, fill_value=3.0))
        np.testing.assert_allclose(affine_transform(x, t, interpolation, fill_mode, 3.0), theirs,
                                   atol=ATOL)


def test_flip_contrast_brightness_crop_match_keras():
    x = images(4)
    for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
        mine, theirs = both(keras.layers.RandomFlip(mode, seed=2), layers.RandomFlip(mode), x,
                            lambda t: np.asarray(t["flips"]).reshape(-1, 1).astype(float))
        np.testing.assert_array_equal(mine, theirs)
    mine, theirs = both(keras.layers.RandomContrast((0.5, 0.9), seed=3),
                        layers.RandomContrast((0.5, 0.9)), x,
                        lambda t: np.asarray(t["contrast_factor"]).reshape(-1, 1))
    np.testing.assert_allclose(mine, theirs, atol=ATOL)
    mine, theirs = both(keras.layers.RandomBrightness(0.4, seed=4), layers.RandomBrightness(0.4),
                        x, lambda t: np.asarray(t["rgb_delta"]).reshape(-1, 1))
    np.testing.assert_allclose(mine, theirs, atol=ATOL)
    for size in ((4, 5), (7, 5), (9, 12)):                  # random, edge and resize paths
        mine, theirs = both(keras.layers.RandomCrop(*size, seed=5), layers.RandomCrop(*size), x,
                            lambda t: np.array([[int(t[0]), int(t[1])]]))
        np.testing.assert_allclose(mine, theirs, atol=ATOL, err_msg=str(size))
    assert keras.layers.RandomContrast(0.5).factor == layers.RandomContrast(0.5).factor == (0, 0.5)


def test_deterministic_layers_match_keras():
    x = images(2, 8, 6)
    for kw in (dict(height=5, width=4), dict(height=11, width=13, interpolation="nearest"),
               dict(height=4, width=7, crop_to_aspect_ratio=True)):
        np.testing.assert_allclose(layers.Resizing(**kw)(x), keras.layers.Resizing(**kw)(x),
                                   atol=ATOL, err_msg=str(kw))
    for size in ((4, 4), (5, 6), (10, 3), (12, 12)):
        np.testing.assert_allclose(layers.CenterCrop(*size)(x), keras.layers.CenterCrop(*size)(x),
                                   atol=ATOL, err_msg=str(size))
    np.testing.assert_allclose(layers.Rescaling(1 / 127.5, offset=-1)(x),
                               keras.layers.Rescaling(1 / 127.5, offset=-1)(x), atol=1e-6)
    for klayer, ours in ((keras.layers.RandomRotation(0.3), layers.RandomRotation(0.3)),
                         (keras.layers.RandomContrast(0.3), layers.RandomContrast(0.3))):
        np.testing.assert_array_equal(ours(x, training=False), klayer(x, training=False))
