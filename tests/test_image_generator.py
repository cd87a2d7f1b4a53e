"""minicnn.preprocessing.image: ImageDataGenerator against Keras's legacy one
(same fixed parameters -> same image; same seeds -> same batches), the
iterators' Keras interface, and the image file helpers."""
import numpy as np
import pytest

from minicnn.preprocessing import image as mimage

klegacy = pytest.importorskip("keras.src.legacy.preprocessing.image")


def images(n=6, h=7, w=9, c=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype("float32")


PARAMS = [dict(theta=23.0), dict(tx=1.5, ty=-2.25), dict(shear=12.0), dict(zx=0.8, zy=1.3),
          dict(theta=-40.0, tx=2.0, ty=1.0, shear=5.0, zx=1.1, zy=0.9, flip_horizontal=True,
               flip_vertical=True, channel_shift_intensity=20.0),
          dict(brightness=1.4), dict(theta=90.0, brightness=0.6)]


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("params", PARAMS)
def test_apply_transform_matches_keras(params, fill_mode):
    x = images(1)[0]
    kw = dict(fill_mode=fill_mode, cval=17.0)
    ours = mimage.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    theirs = klegacy.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-4)


def test_seeded_flow_gives_keras_batches():
    x, y = images(10), np.arange(10)
    kw = dict(rotation_range=30, width_shift_range=0.2, height_shift_range=2, shear_range=10,
              zoom_range=0.2, channel_shift_range=10.0, horizontal_flip=True,
              vertical_flip=True, brightness_range=(0.7, 1.3), rescale=1 / 255,
              samplewise_center=True)
    ours = mimage.ImageDataGenerator(**kw).flow(x, y, batch_size=4, seed=7)
    theirs = klegacy.ImageDataGenerator(**kw).flow(x, y, batch_size=4, seed=7)
    assert len(ours) == len(theirs) == 3
    for i in (0, 2, 1):
        (a, ya), (b, yb) = ours[i], theirs[i]
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for _ in range(4):                                    # the endless iterator too
        (a, ya), (b, yb) = next(ours), next(theirs)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_random_transform_and_standardize_and_fit_match_keras():
    x = images(8)
    kw = dict(featurewise_center=True, featurewise_std_normalization=True, rotation_range=20)
    ours, theirs = mimage.ImageDataGenerator(**kw), klegacy.ImageDataGenerator(**kw)
    ours.fit(x, augment=True, rounds=2, seed=3)
    theirs.fit(x, augment=True, rounds=2, seed=3)
    np.testing.assert_allclose(ours.mean, theirs.mean, rtol=1e-5)
    np.testing.assert_allclose(ours.std, theirs.std, rtol=1e-5)
    np.testing.assert_allclose(ours.standardize(x[0].copy()), theirs.standardize(x[0].copy()),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.random_transform(x[1], seed=5),
                               theirs.random_transform(x[1], seed=5), atol=1e-4)
    assert ours.get_random_transform(x[0].shape, seed=9) == theirs.get_random_transform(
        x[0].shape, seed=9)


def test_flow_interface_and_subsets():
    x, y = images(10), np.tile([0, 1], 5)
    gen = mimage.ImageDataGenerator(validation_split=0.3)
    train, val = gen.flow(x, y, batch_size=4, subset="training"), gen.flow(
        x, y, batch_size=4, subset="validation")
    assert (train.n, val.n, len(train), len(val), train.batch_size) == (7, 3, 2, 1, 4)
    xb, yb = train[1]
    assert xb.shape == (3, 7, 9, 3) and xb.dtype == np.float32
    seen = np.concatenate([train[i][1] for i in range(len(train))])
    assert sorted(seen.tolist()) == sorted(y[3:].tolist())
    assert mimage.ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[1].shape == (5, 7, 9, 3)
    np.testing.assert_array_equal(
        mimage.ImageDataGenerator().flow(x, batch_size=5, shuffle=False)[1], x[5:])
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, np.repeat([0, 1], 5), subset="training")


def make_folder(root, sizes=((5, 6), (6, 5))):
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls, count in (("cat", 3), ("dog", 4)):
        (root / cls).mkdir()
        for i in range(count):
            h, w = sizes[i % 2]
            arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / f"{i}.png")
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_flow_from_directory_matches_keras(tmp_path):
    root = make_folder(tmp_path)
    kw = dict(target_size=(4, 4), batch_size=3, seed=1, class_mode="categorical")
    gen_kw = dict(rescale=1 / 255, horizontal_flip=True, rotation_range=10, validation_split=0.5)
    for subset in ("training", "validation"):
        ours = mimage.ImageDataGenerator(**gen_kw).flow_from_directory(
            str(root), subset=subset, **kw)
        theirs = klegacy.ImageDataGenerator(**gen_kw).flow_from_directory(
            str(root), subset=subset, **kw)
        assert ours.class_indices == theirs.class_indices == {"cat": 0, "dog": 1}
        assert ours.filenames == theirs.filenames
        np.testing.assert_array_equal(ours.classes, theirs.classes)
        assert (ours.samples, ours.n, len(ours)) == (theirs.samples, theirs.n, len(theirs))
        for i in range(len(ours)):
            (a, ya), (b, yb) = ours[i], theirs[i]
            np.testing.assert_array_equal(ya, yb)
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_file_helpers_round_trip(tmp_path):
    x = images(1, 5, 6, 3)[0].round()
    path = tmp_path / "a.png"
    mimage.save_img(path, x, scale=False)
    back = mimage.img_to_array(mimage.load_img(path))
    np.testing.assert_array_equal(back, x)
    assert mimage.img_to_array(mimage.load_img(path, color_mode="grayscale")).shape == (5, 6, 1)
    assert mimage.load_img(path, target_size=(3, 4)).size == (4, 3)
    import keras
    ours = mimage.img_to_array(mimage.load_img(path, target_size=(4, 4), keep_aspect_ratio=True,
                                               interpolation="bilinear"))
    theirs = keras.utils.img_to_array(keras.utils.load_img(
        path, target_size=(4, 4), keep_aspect_ratio=True, interpolation="bilinear"))
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.asarray(mimage.array_to_img(x)),
                                  np.asarray(keras.utils.array_to_img(x)))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="bad.png"):
        mimage.load_img(bad)
