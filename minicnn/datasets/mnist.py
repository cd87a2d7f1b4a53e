"""MNIST handwritten digits, loaded like ``keras.datasets.mnist``.

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    # x_train (60000, 28, 28) uint8, y_train (60000,) uint8
    # x_test  (10000, 28, 28) uint8, y_test  (10000,) uint8

Where the data comes from (the ``path`` argument):

* ``None`` (default) - the copy shipped inside minicnn
  (``minicnn/datasets/data/mnist.npz``, checked against its sha256). If that
  file is missing (a trimmed install), the Keras cache is tried next.
* ``"keras"`` - the file Keras downloads, ``~/.keras/datasets/mnist.npz``
  (``$KERAS_HOME/datasets/mnist.npz`` when KERAS_HOME is set), checked
  against the sha256 Keras itself uses.
* a path to an ``.npz`` file with arrays x_train, y_train, x_test, y_test.
* a path to a directory holding the four original IDX files of LeCun et al.
  (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each may end in
  ``.gz``) or a ``mnist.npz``.

The IDX format: a 4-byte magic number (two zero bytes, a type code - 0x08 for
unsigned bytes - and the number of dimensions), one big-endian uint32 per
dimension, then the values in C order. ``load_idx`` reads any such file.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges and is
distributed under CC BY-SA 3.0 (see ``minicnn/datasets/data/README.md``).
"""
import gzip
import hashlib
import math
import os
import zipfile

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
PACKAGED_PATH = os.path.join(DATA_DIR, "mnist.npz")
PACKAGED_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# IDX type code -> big-endian NumPy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# files whose checksum already matched in this process: (path, size, mtime) -> sha256
_verified = {}


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------
def load_data(path=None, sha256=None):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays.

    ``path``: None (the packaged copy), "keras" (the Keras download cache), an
    ``.npz`` file, or a directory of IDX files - see the module docstring.
    ``sha256``: optional expected checksum of an ``.npz`` file; the packaged
    copy and the Keras cache are always checked against their known values.
    A checksum is computed once per file per process, so reloading is fast.

    Raises ``FileNotFoundError`` if the data is missing and ``ValueError`` if a
    file is corrupt, truncated, has the wrong checksum or the wrong shapes.
    """
    if path is None:
        if os.path.isfile(PACKAGED_PATH):
            return _load_npz(PACKAGED_PATH, PACKAGED_SHA256)
        keras_path = keras_cache_path()
        if os.path.isfile(keras_path):
            return _load_npz(keras_path, KERAS_SHA256)
        raise FileNotFoundError(
            f"mnist: the packaged copy {PACKAGED_PATH} is missing and there is no "
            f"Keras cache at {keras_path}; pass path= to an mnist.npz file or a "
            "directory of IDX files")
    if isinstance(path, str) and path == "keras":
        keras_path = keras_cache_path()
        if not os.path.isfile(keras_path):
            raise FileNotFoundError(f"mnist: no Keras cache at {keras_path} "
                                    "(keras.datasets.mnist.load_data() downloads it)")
        return _load_npz(keras_path, sha256 or KERAS_SHA256)
    path = os.fspath(path)
    if os.path.isdir(path):
        return _load_directory(path, sha256)
    if not os.path.exists(path):
        raise FileNotFoundError(f"mnist: no such file or directory: {path}")
    return _load_npz(path, sha256)


def keras_cache_path():
    """Where Keras keeps its downloaded copy of mnist.npz."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(keras_home, "datasets", "mnist.npz")


def file_sha256(path):
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path, expected):
    """Raise ``ValueError`` unless the file's sha256 equals ``expected``.

    The result is remembered per (path, size, modification time), so a file
    that has not changed is hashed only once per process.
    """
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    actual = _verified.get(key)
    if actual is None:
        actual = file_sha256(path)
    if actual != expected.lower():
        raise ValueError(f"mnist: checksum mismatch for {path}: expected sha256 "
                         f"{expected}, found {actual} (the file is damaged or a different file)")
    _verified[key] = actual


def load_idx(path):
    """Read one IDX file (optionally gzip-compressed) into a NumPy array.

    Raises ``ValueError`` naming the file if the magic number is wrong or the
    data is shorter or longer than the header announces.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"mnist: {path} is too short to be an IDX file ({len(raw)} bytes)")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise ValueError(f"mnist: {path} is not an IDX file "
                         f"(magic number {raw[:4].hex()}, expected 0000<type><ndim>)")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"mnist: {path} is truncated inside its header "
                         f"({len(raw)} bytes, header needs {header_size})")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = math.prod(shape) * dtype.itemsize      # Python ints: exact, never overflows
    found = len(raw) - header_size
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise ValueError(f"mnist: {path} is {what}: header shape {shape} needs "
                         f"{expected} data bytes, found {found}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))        # big-endian -> native, writable copy


def save_idx(path, array):
    """Write an array as an IDX file (gzip-compressed when path ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"mnist: IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = array.astype(IDX_DTYPES[code]).tobytes()
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _load_npz(path, sha256=None):
    if sha256 is not None:
        verify_sha256(path, sha256)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_FILES if k not in npz.files]
            if missing:
                raise ValueError(f"mnist: {path} lacks the arrays {missing} "
                                 f"(found {list(npz.files)})")
            arrays = {k: npz[k] for k in IDX_FILES}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as err:
        raise ValueError(f"mnist: {path} is not a readable .npz file ({err})") from err
    except ValueError as err:
        if str(err).startswith("mnist:"):
            raise
        raise ValueError(f"mnist: {path} is not a readable .npz file ({err})") from err
    return _checked(arrays, path)


def _load_directory(path, sha256=None):
    idx_paths = {}
    for key, name in IDX_FILES.items():
        # accept "train-images-idx3-ubyte" and "train-images.idx3-ubyte", each maybe .gz
        candidates = [base + ext for base in (name, name.replace("-idx", ".idx"))
                      for ext in ("", ".gz")]
        found = [os.path.join(path, c) for c in candidates
                 if os.path.isfile(os.path.join(path, c))]
        if found:
            idx_paths[key] = found[0]
    if len(idx_paths) == len(IDX_FILES):
        arrays = {key: load_idx(p) for key, p in idx_paths.items()}
        return _checked(arrays, path)
    npz_path = os.path.join(path, "mnist.npz")
    if not idx_paths and os.path.isfile(npz_path):
        return _load_npz(npz_path, sha256)
    missing = [name for key, name in IDX_FILES.items() if key not in idx_paths]
    raise FileNotFoundError(f"mnist: directory {path} lacks the IDX files {missing} "
                            "(each may also end in .gz) and has no mnist.npz")


def _read_bytes(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mnist: no such file: {path}")
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as err:            # bad CRC, cut-off stream, not gzip
            raise ValueError(f"mnist: {path} is not a valid gzip file ({err})") from err
    with open(path, "rb") as f:
        return f.read()


def _checked(arrays, source):
    """Check shapes, dtypes and label range; return the Keras-style tuples."""
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"mnist: {source}: x_{split} has shape {x.shape}, "
                             "expected (N, 28, 28)")
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"mnist: {source}: y_{split} has shape {y.shape}, "
                             f"expected ({len(x)},) to match x_{split}")
        if x.dtype != np.uint8 or y.dtype.kind not in "iu":
            raise ValueError(f"mnist: {source}: expected uint8 images and integer labels, "
                             f"found x_{split} {x.dtype}, y_{split} {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise ValueError(f"mnist: {source}: y_{split} has labels outside 0..9 "
                             f"(min {y.min()}, max {y.max()})")
    return ((arrays["x_train"], arrays["y_train"].astype(np.uint8, copy=False)),
            (arrays["x_test"], arrays["y_test"].astype(np.uint8, copy=False)))
