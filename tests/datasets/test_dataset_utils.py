"""Data helpers: one-hot labels, splits, batches, gray conversion, resize, image files."""
import numpy as np
import pytest

from minicnn.datasets import (batches, load_image, resize, rgb_to_gray, to_categorical,
                              train_val_split)


# ---------------------------------------------------------------- to_categorical
def test_to_categorical_basic():
    one_hot = to_categorical([0, 2, 1, 2])
    assert one_hot.dtype == np.float32 and one_hot.shape == (4, 3)
    assert one_hot.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]


def test_to_categorical_num_classes_dtype_and_shapes():
    assert to_categorical(np.array([1, 3]), 5, dtype="int64").tolist() == [
        [0, 1, 0, 0, 0], [0, 0, 0, 1, 0]]
    assert to_categorical(np.array([[1], [0]]), 2).shape == (2, 2)      # (N, 1) -> (N, 2)
    grid = to_categorical(np.array([[0, 1, 2], [2, 1, 0]]), 3)
    assert grid.shape == (2, 3, 3) and grid[1, 0].tolist() == [0, 0, 1]
    assert to_categorical(np.array([2.0, 0.0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert to_categorical(np.array([], dtype=int), 4).shape == (0, 4)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match=">= 0"):
        to_categorical([0, -1, 2])
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="whole numbers"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="integers"):
        to_categorical(["a", "b"])


# ---------------------------------------------------------------- train_val_split
def test_train_val_split_takes_the_end_without_shuffle():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    (xt, yt), (xv, yv) = train_val_split(x, y, validation_split=0.3, shuffle=False)
    assert yt.tolist() == list(range(7)) and yv.tolist() == [7, 8, 9]
    assert np.array_equal(xv, x[7:])


def test_train_val_split_shuffled_is_a_reproducible_partition():
    x, y = np.arange(100) * 10, np.arange(100)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.1, seed=3)
    assert len(yt) == 90 and len(yv) == 10
    assert np.array_equal(xt, yt * 10) and np.array_equal(xv, yv * 10)   # pairs kept
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(100))
    assert yv.tolist() != list(range(90, 100))
    (_, yt2), (_, yv2) = train_val_split(x, y, 0.1, seed=3)
    assert np.array_equal(yv, yv2) and np.array_equal(yt, yt2)


def test_train_val_split_errors_and_no_labels():
    with pytest.raises(ValueError, match="between 0 and 1"):
        train_val_split(np.zeros(4), np.zeros(4), validation_split=1.0)
    with pytest.raises(ValueError, match="same length, received 4 and 3"):
        train_val_split(np.zeros(4), np.zeros(3))
    (xt, yt), (xv, yv) = train_val_split(np.arange(10), None, 0.2, shuffle=False)
    assert yt is None and yv is None and xv.tolist() == [8, 9]


# ---------------------------------------------------------------- batches
def test_batches_in_order_with_a_short_last_batch():
    x, y = np.arange(10), np.arange(10) * 2
    got = list(batches(x, y, batch_size=4))
    assert [b[0].tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert got[2][1].tolist() == [16, 18]
    assert [b.tolist() for b in batches(x, batch_size=6)] == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]]


def test_batches_shuffled_cover_everything_once():
    x = np.arange(50)
    first = np.concatenate([b for b in batches(x, batch_size=8, shuffle=True, seed=1)])
    again = np.concatenate([b for b in batches(x, batch_size=8, shuffle=True, seed=1)])
    assert sorted(first.tolist()) == list(range(50))
    assert first.tolist() != list(range(50)) and np.array_equal(first, again)
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(x, batch_size=0))


# ---------------------------------------------------------------- rgb_to_gray
def test_rgb_to_gray_weights():
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    img[0, 0] = (255, 0, 0)
    img[0, 1] = (0, 255, 0)
    img[1, 0] = (0, 0, 255)
    img[1, 1] = (10, 20, 30)
    gray = rgb_to_gray(img)
    assert gray.dtype == np.float32 and gray.shape == (2, 2)
    np.testing.assert_allclose(gray, [[76.245, 149.685], [29.07, 18.15]], rtol=1e-6)
    batch = rgb_to_gray(np.ones((5, 4, 4, 4)))                # RGBA batch, alpha ignored
    assert batch.shape == (5, 4, 4) and batch.dtype == np.float64
    np.testing.assert_allclose(batch, 1.0)
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W, 3\)"):
        rgb_to_gray(np.zeros((4, 4)))


# ---------------------------------------------------------------- resize
def test_resize_identity_and_constant():
    img = np.random.default_rng(0).random((7, 5)).astype(np.float32)
    np.testing.assert_allclose(resize(img, (7, 5)), img)
    np.testing.assert_allclose(resize(np.full((9, 9, 3), 4.0), (3, 5)), 4.0)


def test_resize_bilinear_values():
    img = np.array([[0.0, 10.0], [20.0, 30.0]])
    up = resize(img, (4, 4))                    # half-pixel centres: samples at -0.25, 0.25, ...
    np.testing.assert_allclose(up[0], [0, 2.5, 7.5, 10])
    np.testing.assert_allclose(up[:, 0], [0, 5, 15, 20])
    np.testing.assert_allclose(up[1, 1], 0.75 * 0.75 * 0 + 0.75 * 0.25 * 10
                               + 0.25 * 0.75 * 20 + 0.25 * 0.25 * 30)
    ramp = np.tile(np.arange(8.0), (2, 1))      # (2, 8): 0..7 along x
    np.testing.assert_allclose(resize(ramp, (2, 4))[0], [0.5, 2.5, 4.5, 6.5])


def test_resize_keeps_channels_and_checks_shape():
    rgb = np.zeros((10, 12, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    out = resize(rgb, (48, 48))
    assert out.shape == (48, 48, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 1], 200)
    with pytest.raises(ValueError, match="resize"):
        resize(np.zeros((2, 2, 2, 2)), (1, 1))


# ---------------------------------------------------------------- load_image
def test_load_image_png_and_jpeg(tmp_path):
    from PIL import Image
    rgb = np.zeros((96, 120, 3), dtype=np.uint8)
    rgb[:, :60] = (255, 0, 0)                              # left half red
    rgb[:, 60:] = (0, 0, 255)                              # right half blue
    Image.fromarray(rgb).save(tmp_path / "face.png")
    gray = load_image(tmp_path / "face.png")
    assert gray.shape == (48, 48) and gray.dtype == np.float32
    np.testing.assert_allclose(gray[:, :20], 0.299 * 255, rtol=1e-5)
    np.testing.assert_allclose(gray[:, -20:], 0.114 * 255, rtol=1e-5)
    color = load_image(tmp_path / "face.png", size=(24, 30), grayscale=False)
    assert color.shape == (24, 30, 3) and color[0, 0].tolist() == [255, 0, 0]
    assert load_image(tmp_path / "face.png", size=None).shape == (96, 120)
    Image.fromarray(np.full((50, 50), 128, np.uint8)).save(tmp_path / "gray.jpg")
    jpeg = load_image(tmp_path / "gray.jpg", size=(48, 48))
    assert jpeg.min() >= 0 and jpeg.max() <= 255
    np.testing.assert_allclose(jpeg, 128, atol=2)
    assert load_image(tmp_path / "gray.jpg", grayscale=False).shape == (48, 48, 3)


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_image(tmp_path / "missing.png")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="cannot read .*notes.png"):
        load_image(bad)
