"""Save and load models as one ``.npz`` file, with no pickle anywhere.

The archive holds
* ``__minicnn__``  - the architecture and compile settings as UTF-8 JSON bytes,
* ``w/<i>/<key>``  - the weights of layer i (``kernel``, ``bias``, ``moving_mean``...),
* ``opt/<key>``    - the optimizer state (step count, moments), so training resumes.

(A ``.keras`` or ``.h5`` path is written by Keras instead: ``to_keras(model).save``
to a temporary file renamed into place, see ``minicnn.keras_io``.)

What a save promises:

* Atomic: the archive is written to a temporary file in the same folder and
  renamed over the target only once complete, so a crash never leaves half a
  model where a good one was.
* Ordinary permissions: a new file gets what the umask gives any new file
  (0644 under the usual umask 022); a file saved over keeps its permissions.
* A symlink is written through: saving to ``latest.npz -> run7.npz``
  replaces ``run7.npz`` and ``latest.npz`` stays a link.

What a load promises (``read_model_file`` here, ``minicnn.load_model`` for the model):

* No code runs: nothing is unpickled (object arrays are refused).
* No allocation beyond what the file holds: each array's ``.npy`` header is
  compared with the bytes stored for it before the array is made.
* A damaged, truncated or malformed file raises one ``ModelFileError`` (a
  ``ValueError``) whose message names the file and what is wrong; a missing
  file raises ``FileNotFoundError``.
"""
import io
import json
import lzma
import math
import os
import secrets
import stat
import struct
import tokenize
import zipfile
import zlib

import numpy as np

from . import losses, optimizers

FORMAT, VERSION = "minicnn-model", 1
HEADER_KEY = "__minicnn__"


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message names the file and the reason."""


def _bad(path, message):
    return ModelFileError(f"{path}: {message}")


class _Unreadable(ValueError):
    """Raised while reading the archive; ``_read_arrays`` adds the file name."""


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _header(model):
    compiled = None
    if model.loss is not None:
        compiled = {"optimizer": optimizers.serialize(model.optimizer)}
        if isinstance(model.loss, list):             # several outputs: one of each per output
            compiled.update(loss=[losses.serialize(l) for l in model.loss],
                            metrics=[[name for name, _ in m] for m in model.output_metrics],
                            loss_weights=model.loss_weights)
        else:
            compiled.update(loss=losses.serialize(model.loss),
                            metrics=[name for name, _ in model.metrics])
        weighted = getattr(model, "output_weighted_metrics", [])
        if any(weighted):
            compiled["weighted_metrics"] = [[name for name, _ in m] for m in weighted] \
                if isinstance(model.loss, list) else [name for name, _ in weighted[0]]
    return {"format": FORMAT, "version": VERSION, "model": model.get_config(),
            "compile": compiled}


def register_serializable(package="Custom", name=None):
    """Class decorator (Keras's ``register_keras_serializable``): a layer class of your
    own, saved in a model, is found again by ``load_model`` without ``custom_objects``.

        @minicnn.saving.register_serializable()
        class Scale(minicnn.layers.Layer): ...

    The class needs ``get_config`` (its constructor arguments) and, to restore its
    weights, ``add_weight`` calls. ``package`` is kept for Keras's signature; classes
    are found by ``name`` (default: the class name)."""
    from .layers import REGISTERED

    def decorate(cls):
        REGISTERED[name or cls.__name__] = cls
        return cls

    return decorate


register_keras_serializable = register_serializable


def save_model(model, path):
    """Write ``model`` to ``path`` atomically (temporary file + rename).

    A ``.keras`` or ``.h5`` path writes a real Keras file instead (through
    ``minicnn.to_keras``; needs Keras 3, see ``minicnn.keras_io``)."""
    from .keras_export import is_keras_path
    if is_keras_path(path):
        return _save_keras(model, path)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; nothing to save")
    arrays = {HEADER_KEY: np.frombuffer(json.dumps(_header(model)).encode(), dtype=np.uint8)}
    arrays.update(weight_arrays(model))
    if model.optimizer is not None:
        for key, value in model.optimizer.get_state().items():
            arrays[f"opt/{key}"] = np.asarray(value)
    _write_atomically(path, lambda f: np.savez(f, **arrays))


def weight_arrays(model, prefix="w/"):
    """``{"w/<i>/<key>": array}`` for layer i of ``model.layers``; a model inside a
    model stores its own arrays under ``w/<i>/``: ``w/<i>/w/<j>/<key>``."""
    arrays = {}
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "leaf_layers"):
            arrays.update(weight_arrays(layer, f"{prefix}{i}/w/"))
            continue
        for key, value in zip(layer.weight_keys(), layer.get_weights()):
            arrays[f"{prefix}{i}/{key}"] = value
    return arrays


def _write_atomically(path, write):
    """Call ``write(binary_file)`` on a temporary file, then rename it to ``path``.

    ``path`` may be a symlink: its target is replaced and the link kept.
    """
    target = _link_target(os.fspath(path))
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    tmp, fd = _create_temporary(folder, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _keep_permissions(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _save_keras(model, path, weights_only=False):
    """``to_keras(model).save(...)`` (or ``.save_weights``) to a temporary file with the
    same suffix (Keras picks the format by suffix) in the same folder, then renamed
    over ``path``."""
    import warnings
    from .keras_export import import_keras, to_keras
    import_keras(f"saving {os.fspath(path)!r} as a Keras file")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; nothing to save")
    kmodel = to_keras(model)
    target = _link_target(os.fspath(path))
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    tmp, fd = _create_temporary(folder, os.path.basename(target))
    os.close(fd)
    suffix = ".weights.h5" if weights_only else os.path.splitext(target)[1]
    keras_tmp = tmp + suffix                          # .m.keras.1a2b3c4d.tmp.keras
    try:
        with warnings.catch_warnings():        # .h5 was asked for: no "legacy format" note
            warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy")
            (kmodel.save_weights if weights_only else kmodel.save)(keras_tmp)
        _keep_permissions(target, keras_tmp)
        os.replace(keras_tmp, target)
    finally:
        for leftover in (tmp, keras_tmp):
            if os.path.exists(leftover):
                os.remove(leftover)


def _link_target(path):
    """The file a symlink at ``path`` leads to (through any chain), else ``path``."""
    return os.path.realpath(path) if os.path.islink(path) else path


def _create_temporary(folder, name):
    """``(path, fd)`` of a new empty file next to the target.

    ``os.open`` with mode 0o666 lets the umask decide the permissions, as for
    any new file (``tempfile.mkstemp`` would make it 0o600, private).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:      # a name already taken: draw another
            continue


def _keep_permissions(target, tmp):
    """A file saved over keeps its permission bits (like writing into it would)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.chmod(tmp, mode)


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
# What zipfile and the decompressors raise for damaged archives, found by
# flipping bytes of real model files (tests/test_reliability_fuzz.py): each
# becomes one ModelFileError naming the file. MemoryError is not among them.
_DAMAGED = (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile,
            zlib.error, lzma.LZMAError, struct.error, NotImplementedError, RuntimeError,
            UnicodeDecodeError, OverflowError, KeyError, IndexError, TypeError)


def read_model_file(path):
    """``(header, arrays)`` of a file written by ``save_model``, checked for format.

    ``header`` is the decoded JSON (architecture and compile settings), its
    structure checked (``check_header``); ``arrays`` maps ``w/<i>/<key>`` and
    ``opt/<key>`` to the stored arrays. Raises ``ModelFileError`` (a
    ``ValueError``) naming the file for anything damaged or malformed.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    if HEADER_KEY not in arrays:
        raise ModelFileError(f"{path} is an .npz archive but not a minicnn model "
                             f"(no '{HEADER_KEY}' header)")
    header = _decode_header(path, arrays.pop(HEADER_KEY))
    check_header(path, header)
    return header, arrays


def _read_arrays(path):
    try:
        with open(path, "rb") as f:
            data = f.read()      # in memory, so no read can ask for more than the file holds
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path}") from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(f"{path} is not a minicnn model file (not an .npz archive; "
                             f"is it truncated or from another program?)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            arrays = {}
            for info in archive.infolist():
                key = _array_key(info)
                if key in arrays:
                    raise _Unreadable(f"the archive holds two arrays named {key!r}")
                arrays[key] = _read_npy(key, archive.read(info))
            return arrays
    except _Unreadable as exc:
        raise ModelFileError(f"{path} is not a readable minicnn model file: {exc}") from None
    except _DAMAGED as exc:
        raise ModelFileError(f"{path} is not a readable minicnn model file "
                             f"({type(exc).__name__}: {_shorten(str(exc))})") from None


def _array_key(info):
    if not info.filename.endswith(".npy"):
        raise _Unreadable(f"unexpected member {_shorten(info.filename)!r} in the archive "
                         f"(expected only .npy arrays)")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Unreadable(f"array {info.filename!r} uses zip compression method "
                         f"{info.compress_type}; minicnn reads stored or deflated arrays")
    return info.filename[:-len(".npy")]


def _read_npy(key, data):
    """One ``.npy`` member as an array, its header checked against its size first.

    ``np.load`` would allocate the shape the header declares before reading
    the data, so a damaged header could ask for terabytes.
    """
    stream = io.BytesIO(data)
    shape, fortran_order, dtype = _npy_header(key, stream)
    if dtype.hasobject:
        raise _Unreadable(f"array {key!r} holds Python objects (dtype {dtype}); model "
                         f"files hold numbers only and are never unpickled")
    if any(n < 0 for n in shape):
        raise _Unreadable(f"array {key!r} declares the negative shape {shape}")
    count = math.prod(shape)                   # Python ints: no overflow
    expected, found = count * dtype.itemsize, len(data) - stream.tell()
    if expected != found:
        raise _Unreadable(f"array {key!r} declares shape {shape} of {dtype} "
                         f"({expected:,} bytes) but holds {found:,} bytes")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def _npy_header(key, stream):
    """``(shape, fortran_order, dtype)`` from the start of a ``.npy`` member."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(stream)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(stream)
    except _BAD_NPY_HEADER as exc:
        raise _Unreadable(f"array {key!r} has a damaged .npy header ({type(exc).__name__}: "
                          f"{_shorten(str(exc))})") from None
    raise _Unreadable(f"array {key!r} has .npy format version {version}; expected 1.0 or 2.0")


# numpy reads the header's dict with ast.literal_eval, which raises these too.
_BAD_NPY_HEADER = (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError,
                   UnicodeDecodeError, OverflowError)


def _decode_header(path, array):
    if array.dtype != np.uint8 or array.ndim != 1:
        raise _bad(path, f"the '{HEADER_KEY}' header must be UTF-8 bytes (uint8, 1-D), "
                         f"received {array.dtype} of shape {array.shape}")
    try:
        return json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(path, f"the model header is corrupt ({type(exc).__name__}: "
                         f"{_shorten(str(exc))})") from None


# ---------------------------------------------------------------------------
# the header's structure
# ---------------------------------------------------------------------------
def check_header(path, header):
    """Raise ``ModelFileError`` unless ``header`` has the structure ``save_model`` writes.

    {"format": "minicnn-model", "version": 1,
     "model": {"name": str, "input_shape": [int >= 1 or null, ...],
               "layers": [{"class_name": str, "config": {...}}, ...]},
     "compile": null or {"optimizer": {"class_name": str, "config": {...}},
                         "loss": {"class_name": str, "config": {...}},
                         "metrics": [str, ...]}}

    The values inside each ``config`` are checked by the class they configure.
    """
    _expect(path, "the header", header, dict, "a JSON object")
    if header.get("format") != FORMAT or not _is_int(header.get("version")) \
            or header["version"] != VERSION:
        raise _bad(path, f"expected format {FORMAT!r} version {VERSION}, received "
                         f"{_shorten(repr(header.get('format')))} version "
                         f"{_shorten(repr(header.get('version')))}")
    check_model_config(path, _field(path, header, "model", "header", dict, "a JSON object"),
                       "model")
    if "compile" not in header:
        raise _bad(path, "the header has no 'compile' entry (null or the compile settings)")
    compiled = header["compile"]
    if compiled is not None:
        _expect(path, "compile", compiled, dict, "null or a JSON object")
        _check_object_spec(path, _field(path, compiled, "optimizer", "compile", dict,
                                        "a JSON object"), "compile.optimizer")
        loss = _field(path, compiled, "loss", "compile", (dict, list),
                      "a JSON object (a list of them for several outputs)")
        for i, spec in enumerate(loss if isinstance(loss, list) else [loss]):
            _check_object_spec(path, spec, f"compile.loss[{i}]" if isinstance(loss, list)
                               else "compile.loss")
        metrics = _field(path, compiled, "metrics", "compile", list, "a list of names")
        for i, entry in enumerate(metrics):
            for name in entry if isinstance(loss, list) and isinstance(entry, list) else [entry]:
                _expect(path, f"compile.metrics[{i}]", name, str, "a metric name")


def check_model_config(path, model, where):
    """A Sequential config (name, input_shape, layers) or a Functional one (name,
    layers, inputs, nodes, outputs); a model inside a model is checked the same way."""
    _field(path, model, "name", where, str, "a string")
    layers = _field(path, model, "layers", where, list, "a list of layers")
    for i, spec in enumerate(layers):
        _check_object_spec(path, spec, f"{where}.layers[{i}]")
    if model.get("class_name") != "Functional":
        _check_input_shape(path, _field(path, model, "input_shape", where, list,
                                        "a list of sizes (a saved model is always built)"))
        return
    n = len(layers)
    for i in _field(path, model, "inputs", where, list, "a list of layer indices"):
        if not (_is_int(i) and 0 <= i < n):
            raise _bad(path, f"the model header is malformed: {where}.inputs holds {i!r}, "
                             f"not a layer index below {n}")
    nodes = _field(path, model, "nodes", where, list, "a list of nodes")
    for p, node in enumerate(nodes):
        _expect(path, f"{where}.nodes[{p}]", node, dict, "a JSON object")
        layer = _field(path, node, "layer", f"{where}.nodes[{p}]", int, "a layer index")
        if not 0 <= layer < n:
            raise _bad(path, f"the model header is malformed: {where}.nodes[{p}].layer is "
                             f"{layer}, not a layer index below {n}")
        for ref in _field(path, node, "inputs", f"{where}.nodes[{p}]", list, "a list"):
            _check_tensor_ref(path, ref, p, f"{where}.nodes[{p}].inputs")
    for ref in _field(path, model, "outputs", where, list, "a list of tensors"):
        _check_tensor_ref(path, ref, len(nodes), f"{where}.outputs")


def _check_tensor_ref(path, ref, before, where):
    """``["input", k]`` or ``["node", p, j]`` with p < ``before`` (nodes read earlier nodes)."""
    ok = (isinstance(ref, list) and len(ref) >= 2 and all(_is_int(v) for v in ref[1:])
          and ((ref[0] == "input" and len(ref) == 2) or
               (ref[0] == "node" and len(ref) == 3 and 0 <= ref[1] < before)))
    if not ok:
        raise _bad(path, f"the model header is malformed: {where} holds "
                         f"{_shorten(repr(ref))}, expected ['input', k] or ['node', p, j] "
                         f"with p below {before}")


def _check_input_shape(path, shape):
    if not shape or not all(d is None or (_is_int(d) and d >= 1) for d in shape):
        raise _bad(path, f"model.input_shape must be a non-empty list of positive ints "
                         f"(or null for a free size), received {_shorten(repr(shape))}")


def _check_object_spec(path, spec, where):
    """``{"class_name": str, "config": {...}}``, as layers, optimizers and losses are stored."""
    _expect(path, where, spec, dict, "a JSON object")
    _field(path, spec, "class_name", where, str, "a string")
    _field(path, spec, "config", where, dict, "a JSON object")


def _field(path, mapping, key, where, kind, what):
    if key not in mapping:
        raise _bad(path, f"the model header is malformed: {where} has no {key!r} entry")
    return _expect(path, f"{where}.{key}", mapping[key], kind, what)


def _expect(path, where, value, kind, what):
    if not isinstance(value, kind):
        raise _bad(path, f"the model header is malformed: {where} must be {what}, "
                         f"received {_json_type(value)} {_shorten(repr(value))}")
    return value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value):
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _shorten(text, limit=80):
    """``text`` cut to ``limit`` characters, saying how long it was."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
