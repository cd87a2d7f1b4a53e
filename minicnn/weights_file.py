"""``model.save_weights`` / ``model.load_weights``: the weights alone, no architecture.

Two formats, chosen by the file name as Keras chooses (Keras 3 insists on the
``.weights.h5`` ending):

* ``*.weights.npz``: minicnn's own. One ``.npz`` like a saved model, holding
  the ``w/<i>/<key>`` arrays of ``minicnn.saving`` and a JSON header listing
  every layer's name and weight shapes; written atomically, read without
  pickle; loading checks that the model has the same layers and shapes.
* ``*.weights.h5``: Keras's, through Keras (``to_keras``): a file Keras's
  ``load_weights`` reads, and Keras weights files (pretrained ones) read here.
"""
import json
import os

import numpy as np

from .saving import (HEADER_KEY, ModelFileError, _decode_header, _read_arrays, _save_keras,
                     _write_atomically, weight_arrays)

FORMAT, VERSION = "minicnn-weights", 1
SUFFIXES = (".weights.npz", ".weights.h5")


def _check_name(path):
    if not path.endswith(SUFFIXES):
        raise ValueError(f"The filename must end in `.weights.npz` (minicnn's format) or "
                         f"`.weights.h5` (Keras's), received: filepath={path}")


def _layout(model):
    """``[[layer name, [shape, ...]], ...]``: what the file must fit."""
    return [[layer.name, [list(w.shape) for w in layer.get_weights()]]
            for layer in model.layers]


def save_weights(model, path, overwrite=True):
    """Write every weight of ``model`` (``get_weights`` order) to ``path``."""
    path = os.fspath(path)
    _check_name(path)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; it has no weights to save")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    if path.endswith(".weights.h5"):
        return _save_keras(model, path, weights_only=True)
    arrays = weight_arrays(model)
    header = {"format": FORMAT, "version": VERSION, "layers": _layout(model),
              "arrays": list(arrays)}
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _write_atomically(path, lambda f: np.savez(f, **arrays))


def load_weights(model, path):
    """Read weights written by ``save_weights`` (or a Keras ``.weights.h5`` file) into
    ``model``; the layers and shapes must match (a clear error names the first that
    does not, and the model is left unchanged)."""
    path = os.fspath(path)
    _check_name(path)
    if path.endswith(".weights.h5"):
        from .keras_export import load_keras_weights
        return load_keras_weights(model, path)
    arrays = _read_arrays(path)
    if HEADER_KEY not in arrays:
        raise ModelFileError(f"{path} is an .npz archive but not a minicnn weights file")
    header = _decode_header(path, arrays.pop(HEADER_KEY))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: expected format {FORMAT!r}, received "
                             f"{header.get('format') if isinstance(header, dict) else header!r}")
    names = header.get("arrays")
    if not isinstance(names, list) or sorted(names) != sorted(arrays):
        raise ModelFileError(f"{path}: the header's array list does not match the arrays")
    expected, stored = _layout(model), header.get("layers")
    if stored != expected:
        raise ValueError(f"{path} holds the weights of layers {_describe(stored)}, but model "
                         f"'{model.name}' has {_describe(expected)}")
    weights = [arrays[name] for name in names]
    if any(w.dtype.kind != "f" for w in weights):
        raise ModelFileError(f"{path}: every weight must be a float array")
    model.set_weights(weights)


def _describe(layout):
    if not isinstance(layout, list):
        return repr(layout)
    return ", ".join(f"{name} {shapes}" for name, shapes in layout if shapes) or "none"
