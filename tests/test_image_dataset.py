"""minicnn.utils.image_dataset_from_directory on a small generated folder of PNG,
JPEG, BMP and GIF files: class order, file order, labels and the validation
split compared with keras.utils.image_dataset_from_directory on the same folder."""
import numpy as np
import pytest

import minicnn

FORMATS = ("png", "jpg", "bmp", "gif", "PNG")


def make_folder(root, counts=(("b_dogs", 5), ("a_cats", 4), ("c_birds", 3))):
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls, count in counts:
        (root / cls).mkdir(parents=True)
        for i in range(count):
            h, w = (6, 8) if i % 2 else (8, 6)
            arr = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            fmt = FORMATS[i % len(FORMATS)]
            Image.fromarray(arr).save(root / cls / f"img{i}.{fmt}",
                                      format={"jpg": "JPEG", "PNG": "PNG"}.get(fmt, fmt.upper()))
    (root / counts[0][0] / "readme.txt").write_text("skipped")
    (root / ".hidden").mkdir()
    return root


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "photos")


def keras_dataset(*args, **kwargs):
    keras = pytest.importorskip("keras")
    return keras.utils.image_dataset_from_directory(*args, verbose=False, **kwargs)


def unbatch(ds):
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("label_mode", ["int", "categorical"])
def test_unshuffled_dataset_equals_keras(folder, label_mode):
    kw = dict(image_size=(5, 7), batch_size=4, shuffle=False, label_mode=label_mode)
    ours = minicnn.utils.image_dataset_from_directory(str(folder), verbose=False, **kw)
    theirs = keras_dataset(str(folder), **kw)
    assert ours.class_names == theirs.class_names == ["a_cats", "b_dogs", "c_birds"]
    assert ours.file_paths == theirs.file_paths
    assert len(ours) == len(theirs) == 3
    xo, yo = unbatch(ours)
    xt, yt = unbatch(theirs)
    np.testing.assert_array_equal(yo, yt)
    assert yo.dtype == yt.dtype and xo.dtype == np.float32
    lossless = [not p.lower().endswith(".jpg") for p in ours.file_paths]
    np.testing.assert_allclose(xo[lossless], xt[lossless], atol=1e-3)   # same pixels
    np.testing.assert_allclose(xo, xt, atol=3.0)                         # JPEG decoders


def test_split_matches_keras_and_is_complementary(folder):
    kw = dict(image_size=(4, 4), batch_size=3, validation_split=0.25, seed=11)
    train, val = minicnn.utils.image_dataset_from_directory(str(folder), subset="both",
                                                            verbose=False, **kw)
    ktrain, kval = keras_dataset(str(folder), subset="both", **kw)
    assert train.file_paths == ktrain.file_paths and val.file_paths == kval.file_paths
    assert len(val.file_paths) == 3 and len(train.file_paths) == 9
    assert not set(train.file_paths) & set(val.file_paths)
    one = minicnn.utils.image_dataset_from_directory(str(folder), subset="validation",
                                                     verbose=False, **kw)
    assert one.file_paths == val.file_paths
    # labels follow their files, whatever the epoch order
    _, ytrain = unbatch(train)
    _, yk = unbatch(ktrain)
    assert sorted(ytrain.tolist()) == sorted(yk.tolist())
    assert len(train) == 3


def test_epochs_reshuffle_with_the_seed_and_label_modes(folder):
    ds = minicnn.utils.image_dataset_from_directory(str(folder), image_size=(4, 4), batch_size=5,
                                                    seed=3, verbose=False)
    again = minicnn.utils.image_dataset_from_directory(str(folder), image_size=(4, 4),
                                                       batch_size=5, seed=3, verbose=False)
    first = [y.tolist() for _, y in ds]
    assert first == [y.tolist() for _, y in again]
    ds.on_epoch_end()
    assert ds._order.tolist() != again._order.tolist()           # the next epoch's order
    assert sorted(sum([y.tolist() for _, y in ds], [])) == sorted(sum(first, []))
    images_only = minicnn.utils.image_dataset_from_directory(
        str(folder), label_mode=None, image_size=(3, 3), color_mode="grayscale",
        shuffle=False, verbose=False)
    assert images_only[0].shape == (12, 3, 3, 1)
    with pytest.raises(ValueError, match="exactly 2"):
        minicnn.utils.image_dataset_from_directory(str(folder), label_mode="binary",
                                                   verbose=False)


def test_binary_labels_and_crop_to_aspect_ratio(tmp_path):
    folder = make_folder(tmp_path / "two", counts=(("no", 3), ("yes", 2)))
    kw = dict(label_mode="binary", image_size=(4, 4), shuffle=False, crop_to_aspect_ratio=True)
    ours = minicnn.utils.image_dataset_from_directory(str(folder), verbose=False, **kw)
    theirs = keras_dataset(str(folder), **kw)
    xo, yo = unbatch(ours)
    xt, yt = unbatch(theirs)
    assert yo.shape == (5, 1) and yo.dtype == np.float32
    np.testing.assert_array_equal(yo, yt)
    lossless = [not p.lower().endswith(".jpg") for p in ours.file_paths]
    np.testing.assert_allclose(xo[lossless], xt[lossless], atol=1e-3)


def test_a_corrupt_file_is_named(folder):
    (folder / "a_cats" / "broken.png").write_bytes(b"\x89PNG not really")
    ds = minicnn.utils.image_dataset_from_directory(str(folder), batch_size=64, shuffle=False,
                                                    image_size=(4, 4), verbose=False)
    with pytest.raises(ValueError, match="broken.png"):
        ds[0]


def test_fit_on_a_dataset(folder):
    from minicnn import layers
    ds = minicnn.utils.image_dataset_from_directory(str(folder), image_size=(8, 8), batch_size=4,
                                                    seed=0, verbose=False)
    model = minicnn.Sequential([layers.Input((8, 8, 3)), layers.Rescaling(1 / 255),
                                layers.RandomFlip("horizontal"), layers.Flatten(),
                                layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
