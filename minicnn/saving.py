"""Save and load models as one ``.npz`` file, with no pickle anywhere.

The archive holds
* ``__minicnn__``  - the architecture and compile settings as UTF-8 JSON bytes,
* ``w/<i>/<key>``  - the weights of layer i (``kernel``, ``bias``, ``moving_mean``...),
* ``opt/<key>``    - the optimizer state (step count, moments), so training resumes.

It is read with ``allow_pickle=False``, so a file cannot run code when loaded,
and written to a temporary file that replaces the target only once complete,
so a crash never leaves half a model where a good one was.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from . import losses, optimizers

FORMAT, VERSION = "minicnn-model", 1


def _header(model):
    compiled = None
    if model.loss is not None:
        compiled = {"optimizer": optimizers.serialize(model.optimizer),
                    "loss": losses.serialize(model.loss),
                    "metrics": [name for name, _ in model.metrics]}
    return {"format": FORMAT, "version": VERSION, "model": model.get_config(),
            "compile": compiled}


def save_model(model, path):
    """Write ``model`` to ``path`` atomically (temporary file + rename)."""
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; nothing to save")
    arrays = {"__minicnn__": np.frombuffer(json.dumps(_header(model)).encode(), dtype=np.uint8)}
    for i, layer in enumerate(model.layers):
        for key, value in zip(layer.weight_keys(), layer.get_weights()):
            arrays[f"w/{i}/{key}"] = value
    if model.optimizer is not None:
        for key, value in model.optimizer.get_state().items():
            arrays[f"opt/{key}"] = np.asarray(value)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".minicnn-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path}") from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ValueError(f"{path} is not a minicnn model file (not an .npz archive; "
                         f"is it truncated or from another program?)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path} is not a readable minicnn model file: {exc}") from None


def read_model_file(path):
    """``(header, arrays)`` of a file written by ``save_model``, checked for format.

    ``header`` is the decoded JSON (architecture and compile settings);
    ``arrays`` maps ``w/<i>/<key>`` and ``opt/<key>`` to the stored arrays.
    """
    path = os.fspath(path)
    arrays = _read(path)
    if "__minicnn__" not in arrays:
        raise ValueError(f"{path} is an .npz archive but not a minicnn model "
                         f"(no '__minicnn__' header)")
    try:
        header = json.loads(arrays.pop("__minicnn__").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: the model header is corrupt ({exc})") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValueError(f"{path}: expected format {FORMAT} version {VERSION}, received "
                         f"{header.get('format')!r} version {header.get('version')!r}")
    return header, arrays


