"""MNIST loader: packaged copy, checksum, npz and IDX files, error messages."""
import gzip
import os
import shutil

import numpy as np
import pytest

from minicnn.datasets import mnist


@pytest.fixture(scope="module")
def data():
    return mnist.load_data()


def test_packaged_copy_shapes_and_dtypes(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8


def test_packaged_copy_matches_data_readme(data):
    (x_train, y_train), (x_test, y_test) = data
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert round(float(x_train.mean()), 3) == 33.318
    assert round(float(x_test.mean()), 3) == 33.791
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                             5421, 5918, 6265, 5851, 5949]
    assert x_train.max() == 255 and x_train.min() == 0


def test_packaged_checksum():
    assert mnist.file_sha256(mnist.PACKAGED_PATH) == mnist.PACKAGED_SHA256
    assert mnist.PACKAGED_SHA256 == (
        "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64")


def test_verification_is_cached(monkeypatch):
    mnist.load_data()                                   # verified once already
    calls = []
    monkeypatch.setattr(mnist, "file_sha256", lambda path: calls.append(path))
    mnist.verify_sha256(mnist.PACKAGED_PATH, mnist.PACKAGED_SHA256)
    assert calls == []


def test_tampered_copy_is_rejected(tmp_path, monkeypatch):
    copy = tmp_path / "mnist.npz"
    shutil.copyfile(mnist.PACKAGED_PATH, copy)
    with open(copy, "r+b") as f:                        # flip one byte in the middle
        f.seek(5_000_000)
        byte = f.read(1)
        f.seek(5_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ValueError, match="checksum mismatch for .*mnist.npz"):
        mnist.load_data(copy, sha256=mnist.PACKAGED_SHA256)
    # the default path verifies too
    monkeypatch.setattr(mnist, "PACKAGED_PATH", str(copy))
    with pytest.raises(ValueError, match="checksum mismatch"):
        mnist.load_data()


def test_user_npz_file(tmp_path, data):
    (x_train, y_train), (x_test, y_test) = data
    path = tmp_path / "small.npz"
    np.savez(path, x_train=x_train[:50], y_train=y_train[:50],
             x_test=x_test[:20], y_test=y_test[:20])
    (a, b), (c, d) = mnist.load_data(path)
    assert a.shape == (50, 28, 28) and c.shape == (20, 28, 28)
    assert np.array_equal(a, x_train[:50]) and np.array_equal(d, y_test[:20])
    # the directory holding an mnist.npz works too
    os.rename(path, tmp_path / "mnist.npz")
    (a, b), _ = mnist.load_data(tmp_path)
    assert np.array_equal(b, y_train[:50])


def test_keras_cache(tmp_path, monkeypatch, data):
    (x_train, y_train), (x_test, y_test) = data
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Keras cache"):
        mnist.load_data("keras")
    os.makedirs(tmp_path / "datasets")
    path = tmp_path / "datasets" / "mnist.npz"
    np.savez(path, x_train=x_train[:10], y_train=y_train[:10],
             x_test=x_test[:10], y_test=y_test[:10])
    # not the real Keras file, so its checksum differs ...
    with pytest.raises(ValueError, match="checksum mismatch"):
        mnist.load_data("keras")
    # ... and without the packaged copy, path=None falls back to the cache
    monkeypatch.setattr(mnist, "KERAS_SHA256", mnist.file_sha256(path))
    monkeypatch.setattr(mnist, "PACKAGED_PATH", str(tmp_path / "absent.npz"))
    (a, b), _ = mnist.load_data()
    assert np.array_equal(a, x_train[:10])
    os.remove(path)
    with pytest.raises(FileNotFoundError, match="packaged copy"):
        mnist.load_data()


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory_round_trip(tmp_path, data, compress):
    (x_train, y_train), (x_test, y_test) = data
    arrays = {"x_train": x_train[:300], "y_train": y_train[:300],
              "x_test": x_test[:100], "y_test": y_test[:100]}
    for key, name in mnist.IDX_FILES.items():
        mnist.save_idx(tmp_path / (name + (".gz" if compress else "")), arrays[key])
    (a, b), (c, d) = mnist.load_data(tmp_path)
    for got, key in zip((a, b, c, d), ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == np.uint8
        assert np.array_equal(got, arrays[key])


def test_idx_header_is_parsed(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big") + bytes([7, 2, 1]))
    labels = mnist.load_idx(path)
    assert labels.shape == (3,) and labels.tolist() == [7, 2, 1]
    # an IDX file of big-endian int16 values in 2 dimensions
    path = tmp_path / "short-idx2"
    path.write_bytes(bytes([0, 0, 0x0B, 2]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big")
                     + np.array([1, -2, 300, 4], dtype=">i2").tobytes())
    assert mnist.load_idx(path).tolist() == [[1, -2], [300, 4]]


def test_original_images_file_magic_number(tmp_path, data):
    (x_train, _), _ = data
    path = tmp_path / "train-images-idx3-ubyte.gz"
    mnist.save_idx(path, x_train[:2])
    with gzip.open(path) as f:
        raw = f.read()
    assert raw[:4] == bytes([0, 0, 8, 3])               # magic 2051
    assert int.from_bytes(raw[4:8], "big") == 2
    assert len(raw) == 16 + 2 * 28 * 28


def test_truncated_idx_is_rejected(tmp_path, data):
    (x_train, _), _ = data
    path = tmp_path / "train-images-idx3-ubyte"
    mnist.save_idx(path, x_train[:10])
    raw = path.read_bytes()
    path.write_bytes(raw[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated.*7840 data "
                                         r"bytes, found 7740"):
        mnist.load_idx(path)
    path.write_bytes(raw[:10])
    with pytest.raises(ValueError, match="truncated inside its header"):
        mnist.load_idx(path)


def test_bad_idx_magic_and_bad_gzip(tmp_path):
    path = tmp_path / "bad-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match="bad-idx is not an IDX file"):
        mnist.load_idx(path)
    gz = tmp_path / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz is not a valid gzip"):
        mnist.load_idx(gz)


def test_idx_directory_with_wrong_shapes(tmp_path, data):
    (x_train, y_train), (x_test, y_test) = data
    arrays = {"x_train": x_train[:30], "y_train": y_train[:29],   # one label short
              "x_test": x_test[:10], "y_test": y_test[:10]}
    for key, name in mnist.IDX_FILES.items():
        mnist.save_idx(tmp_path / name, arrays[key])
    with pytest.raises(ValueError, match=r"y_train has shape \(29,\), expected \(30,\)"):
        mnist.load_data(tmp_path)
    mnist.save_idx(tmp_path / mnist.IDX_FILES["x_test"], np.zeros((10, 28, 27), np.uint8))
    mnist.save_idx(tmp_path / mnist.IDX_FILES["y_train"], y_train[:30])
    with pytest.raises(ValueError, match=r"x_test has shape \(10, 28, 27\)"):
        mnist.load_data(tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        mnist.load_data(tmp_path / "nowhere.npz")
    mnist.save_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        mnist.load_data(tmp_path)


def test_corrupt_npz(tmp_path, data):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match="broken.npz is not a readable .npz"):
        mnist.load_data(path)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(open(mnist.PACKAGED_PATH, "rb").read()[:200_000])
    with pytest.raises(ValueError, match="cut.npz"):
        mnist.load_data(cut)
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"partial.npz lacks the arrays \['y_train'"):
        mnist.load_data(partial)


def test_npz_with_objects_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros(1), y_test=np.zeros(1))
    with pytest.raises(ValueError, match="pickled.npz"):
        mnist.load_data(path)


def test_idx_size_check_uses_exact_integers(tmp_path):
    # issue 11, defect 12: dimensions near 2**32 overflowed np.prod (int64) and the
    # message printed a wrapped byte count; the count must be exact.
    path = tmp_path / "huge-idx3-ubyte"
    dims = (2**32 - 1, 2**32 - 1, 2**32 - 1)
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + np.asarray(dims, dtype=">u4").tobytes() + b"x")
    with pytest.raises(ValueError) as info:
        mnist.load_idx(path)
    needed = (2**32 - 1) ** 3 * 8                     # float64 values
    assert f"needs {needed} data bytes, found 1" in str(info.value)
