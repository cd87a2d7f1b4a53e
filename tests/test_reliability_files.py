"""Issue 11, defects 4, 6, 8 and part of 12: model files, saved and loaded.

* A header's sizes are never trusted: a layer is built with the stored
  arrays as its weights, each compared with the shape the config asks for
  before anything is allocated; no initializer runs on load (defect 4).
* Saved files get ordinary permissions and saving through a symlink
  replaces its target (defect 6).
* Every malformed header or archive gives one ``ValueError`` naming the file
  (defect 8); complex weights are refused (defect 12).

The fuzz test of the same promises is in ``test_reliability_fuzz.py``.
"""
import io
import json
import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import minicnn
from minicnn import initializers, layers as L


def small_model():
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        L.Input(shape=(8, 8, 1)),
        L.Conv2D(2, 3, activation="relu"),
        L.BatchNormalization(),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((6, 8, 8, 1), dtype=np.float32)
    model.fit(x, np.arange(6) % 3, batch_size=3, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``(path, model)``: a trained small model saved once for the whole module."""
    path = tmp_path_factory.mktemp("saved") / "good.npz"
    model = small_model()
    model.save(path)
    return path, model


def read_archive(path):
    """The header (decoded) and the arrays of a model file."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return json.loads(arrays.pop("__minicnn__").tobytes()), arrays


def write_archive(path, header, arrays, compressed=False, raw_header=None):
    """A model file with this header (or raw header bytes) and these arrays."""
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    save = np.savez_compressed if compressed else np.savez
    save(path, __minicnn__=np.frombuffer(text, dtype=np.uint8), **arrays)
    return path


def mutated(saved, tmp_path, change, name="bad.npz"):
    """A copy of the saved model whose (header, arrays) went through ``change``."""
    header, arrays = read_archive(saved[0])
    result = change(header, arrays)
    if result is not None:
        header = result
    return write_archive(tmp_path / name, header, arrays)


def load_error(path, *fragments):
    """Load ``path``, expect a ValueError naming the file; return its message."""
    with pytest.raises(ValueError) as info:
        minicnn.load_model(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def layer_index(header, class_name):
    return next(i for i, spec in enumerate(header["model"]["layers"])
                if spec["class_name"] == class_name)


# ---------------------------------------------------------------------------
# defect 4: sizes from the header are checked, not allocated
# ---------------------------------------------------------------------------
def test_round_trip_restores_weights_config_and_training_state(saved):
    path, model = saved
    again = minicnn.load_model(path)
    assert again.get_config() == model.get_config()       # real initializers kept in the config
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert again.optimizer.get_config() == model.optimizer.get_config()
    for (k1, v1), (k2, v2) in zip(sorted(again.optimizer.get_state().items()),
                                  sorted(model.optimizer.get_state().items())):
        assert k1 == k2
        np.testing.assert_array_equal(v1, v2)


def test_loading_never_runs_an_initializer(saved, monkeypatch):
    def refuse(self, shape, dtype=None):
        raise AssertionError(f"{type(self).__name__} ran on load for shape {shape}")

    for cls in vars(initializers).values():
        if isinstance(cls, type) and issubclass(cls, initializers.Initializer):
            monkeypatch.setattr(cls, "__call__", refuse)
    model = minicnn.load_model(saved[0])
    assert model.count_params() == saved[1].count_params()


@pytest.mark.parametrize("class_name, key, value", [
    ("Dense", "units", 4_000_000),
    ("Conv2D", "filters", 3_000_000),
])
def test_a_huge_declared_layer_is_refused_before_allocating(saved, tmp_path, class_name,
                                                            key, value):
    def grow(header, arrays):
        header["model"]["layers"][layer_index(header, class_name)]["config"][key] = value

    path = mutated(saved, tmp_path, grow)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        message = load_error(path, "shape")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{value}" in message
    assert peak < 16 << 20, f"peak {peak:,} bytes"


def test_a_huge_input_shape_is_refused(saved, tmp_path):
    def grow(header, arrays):
        header["model"]["input_shape"] = [2**40, 2**40, 1]

    load_error(mutated(saved, tmp_path, grow), "shape")


def test_an_npy_header_declaring_terabytes_is_refused(saved, tmp_path):
    original = saved[0].read_bytes()
    path = tmp_path / "huge.npy.npz"
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "w/0/bias.npy":
                header = {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}
                stream = io.BytesIO()
                np.lib.format.write_array_header_1_0(stream, header)
                data = stream.getvalue() + b"\0" * 8
            dst.writestr(info.filename, data)
    load_error(path, "w/0/bias", "4,000,000,000,000 bytes")     # 4 TB declared, 8 bytes held


# ---------------------------------------------------------------------------
# defect 8: malformed headers
# ---------------------------------------------------------------------------
def _set(where, value):
    def change(header, arrays):
        target, keys = header, where.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return change


_DELETE = object()

MALFORMED_HEADERS = {
    "header is a list": (lambda h, a: [], "must be a JSON object"),
    "no model": (_set("model", _DELETE), "'model'"),
    "model is a string": (_set("model", "x"), "model must be a JSON object"),
    "no name": (_set("model.name", _DELETE), "'name'"),
    "name is a number": (_set("model.name", 3), "model.name must be a string"),
    "no layers": (_set("model.layers", _DELETE), "'layers'"),
    "layers is an object": (_set("model.layers", {}), "model.layers must be a list"),
    "layer is a number": (_set("model.layers.0", 7), "model.layers[0] must be"),
    "layer without class": (_set("model.layers.0.class_name", _DELETE), "'class_name'"),
    "class is a list": (_set("model.layers.0.class_name", ["Dense"]), "class_name"),
    "unknown class": (_set("model.layers.0.class_name", "Conv9D"), "Conv9D"),
    "input layer in the stack": (_set("model.layers.0.class_name", "InputLayer"),
                                 "InputLayer"),
    "config is a number": (_set("model.layers.0.config", 5), "config must be"),
    "unknown argument": (_set("model.layers.0.config.colour", "red"), "colour"),
    "filters is text": (_set("model.layers.0.config.filters", "two"), "filters"),
    "kernel size is null": (_set("model.layers.0.config.kernel_size", None),
                            "model.layers[0]"),
    "input_shape null": (_set("model.input_shape", None), "input_shape"),
    "input_shape missing": (_set("model.input_shape", _DELETE), "input_shape"),
    "input_shape empty": (_set("model.input_shape", []), "input_shape"),
    "input_shape zero": (_set("model.input_shape.0", 0), "input_shape"),
    "input_shape text": (_set("model.input_shape.0", "8"), "input_shape"),
    "input_shape too short": (_set("model.input_shape", [8, 8]), "layer 0"),
    "input_shape other size": (_set("model.input_shape", [12, 12, 1]), "shape"),
    "format": (_set("format", "keras"), "format"),
    "version text": (_set("version", "1"), "version"),
    "version 2": (_set("version", 2), "version"),
    "no compile entry": (_set("compile", _DELETE), "'compile'"),
    "compile is a list": (_set("compile", []), "compile must be"),
    "no optimizer": (_set("compile.optimizer", _DELETE), "'optimizer'"),
    "optimizer is text": (_set("compile.optimizer", "adam"), "compile.optimizer"),
    "unknown optimizer": (_set("compile.optimizer.class_name", "Lion"), "Lion"),
    "optimizer nan rate": (_set("compile.optimizer.config.learning_rate", float("nan")),
                           "learning_rate"),
    "optimizer odd argument": (_set("compile.optimizer.config.warp", 9), "warp"),
    "unknown loss": (_set("compile.loss.class_name", "hinge"), "hinge"),
    "loss config list": (_set("compile.loss.config", [1]), "compile.loss.config"),
    "metrics text": (_set("compile.metrics", "accuracy"), "compile.metrics"),
    "unknown metric": (_set("compile.metrics.0", "dice"), "dice"),
    "metric number": (_set("compile.metrics.0", 1), "compile.metrics[0]"),
}


@pytest.mark.parametrize("name", MALFORMED_HEADERS)
def test_every_malformed_header_gives_one_value_error_naming_the_file(saved, tmp_path, name):
    change, fragment = MALFORMED_HEADERS[name]
    load_error(mutated(saved, tmp_path, change), fragment)


@pytest.mark.parametrize("raw, fragment", [
    (b"\xff\xfe not utf-8", "corrupt"),
    (b"{\"format\": ", "corrupt"),
    (b"[" * 100_000 + b"]" * 100_000, "corrupt"),
    (b"1" * 5000, "corrupt"),                      # an int beyond Python's digit limit
], ids=["not utf-8", "cut short", "nested 100,000 deep", "5000-digit number"])
def test_an_undecodable_header_gives_a_value_error(saved, tmp_path, raw, fragment):
    _, arrays = read_archive(saved[0])
    load_error(write_archive(tmp_path / "raw.npz", None, arrays, raw_header=raw), fragment)


def test_a_header_of_the_wrong_dtype_is_refused(saved, tmp_path):
    header, arrays = read_archive(saved[0])
    path = tmp_path / "floats.npz"
    np.savez(path, __minicnn__=np.frombuffer(json.dumps(header).encode(), np.uint8)
             .astype(np.float32), **arrays)
    load_error(path, "uint8")


def test_a_damaged_deflate_stream_gives_a_value_error(saved, tmp_path):
    header, arrays = read_archive(saved[0])
    path = write_archive(tmp_path / "compressed.npz", header, arrays, compressed=True)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("w/0/kernel.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start, start + info.compress_size, 7):
        data[offset] ^= 0x5A                     # scramble the compressed bytes
    path.write_bytes(bytes(data))
    load_error(path, "not a readable minicnn model file")


def test_load_with_compile_false_ignores_the_compile_settings(saved, tmp_path):
    def bad_optimizer(header, arrays):
        header["compile"]["optimizer"]["class_name"] = "Lion"

    model = minicnn.load_model(mutated(saved, tmp_path, bad_optimizer), compile=False)
    assert model.optimizer is None


# ---------------------------------------------------------------------------
# the stored arrays
# ---------------------------------------------------------------------------
def _replace(key, make):
    def change(header, arrays):
        arrays[key] = make(arrays[key])
    return change


def _add(key, value):
    def change(header, arrays):
        arrays[key] = value
    return change


def _drop(key):
    def change(header, arrays):
        del arrays[key]
    return change


BAD_ARRAYS = {
    "complex kernel": (_replace("w/0/kernel", lambda a: a + 1j), "complex"),
    "integer kernel": (_replace("w/0/kernel", lambda a: a.astype(np.int32)), "int32"),
    "text bias": (_replace("w/0/bias", lambda a: a.astype(str)), "w/0/bias"),
    "kernel of another shape": (_replace("w/0/kernel", lambda a: a[:2]), "shape"),
    "kernel missing": (_drop("w/0/kernel"), "kernel"),
    "moving mean missing": (_drop("w/1/moving_mean"), "moving_mean"),
    "an extra weight": (_add("w/0/gamma", np.ones(2, np.float32)), "gamma"),
    "a weight for layer 99": (_add("w/99/kernel", np.ones(2, np.float32)), "99"),
    "a stray array": (_add("notes", np.ones(2, np.float32)), "notes"),
    "iterations as float": (_replace("opt/iterations", lambda a: a.astype(np.float64)),
                            "iterations"),
    "iterations negative": (_replace("opt/iterations", lambda a: -a - 1), "iterations"),
    "iterations missing": (_drop("opt/iterations"), "iterations"),
    "slot of another shape": (_replace("opt/slot/momentum/0", lambda a: a[:1]), "shape"),
    "slot missing": (_drop("opt/slot/velocity/3"), "slot"),
    "slot complex": (_replace("opt/slot/velocity/0", lambda a: a.astype(complex)),
                     "complex"),
    "unknown slot": (_add("opt/slot/friction/0", np.zeros(3, np.float32)), "friction"),
    "unknown state": (_add("opt/u_product", np.float32(1)), "u_product"),
}


@pytest.mark.parametrize("name", BAD_ARRAYS)
def test_every_bad_stored_array_gives_one_value_error_naming_the_file(saved, tmp_path, name):
    change, fragment = BAD_ARRAYS[name]
    load_error(mutated(saved, tmp_path, change), fragment)


def test_object_arrays_are_refused_and_never_unpickled(saved, tmp_path):
    header, arrays = read_archive(saved[0])
    arrays["w/0/bias"] = np.array([os.getcwd], dtype=object)     # np.savez pickles it
    load_error(write_archive(tmp_path / "objects.npz", header, arrays), "objects")


# ---------------------------------------------------------------------------
# defect 6: permissions and symlinks
# ---------------------------------------------------------------------------
@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_file_gets_the_permissions_the_umask_gives(saved, tmp_path, umask_022):
    saved[1].save(tmp_path / "new.npz")
    assert mode(tmp_path / "new.npz") == 0o644
    os.umask(0o077)
    saved[1].save(tmp_path / "private.npz")
    assert mode(tmp_path / "private.npz") == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_saved_over_keeps_its_permissions(saved, tmp_path, umask_022):
    path = tmp_path / "shared.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o664)
    saved[1].save(path)
    assert mode(path) == 0o664
    assert minicnn.load_model(path).count_params() == saved[1].count_params()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_to_a_symlink_replaces_its_target_and_keeps_the_link(saved, tmp_path):
    target = tmp_path / "runs" / "run7.npz"
    target.parent.mkdir()
    target.write_bytes(b"old run")
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("runs", "run7.npz"))       # a relative link
    chain = tmp_path / "best.npz"
    chain.symlink_to(link)                                   # a link to the link
    saved[1].save(chain)
    assert chain.is_symlink() and link.is_symlink()
    assert os.readlink(link) == os.path.join("runs", "run7.npz")
    assert minicnn.load_model(target).count_params() == saved[1].count_params()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.npz", "latest.npz", "runs"]
    assert [p.name for p in target.parent.iterdir()] == ["run7.npz"]   # no temporary left


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_to_a_dangling_symlink_creates_its_target(saved, tmp_path):
    link = tmp_path / "latest.npz"
    link.symlink_to(tmp_path / "run8.npz")
    saved[1].save(link)
    assert link.is_symlink() and (tmp_path / "run8.npz").is_file()
