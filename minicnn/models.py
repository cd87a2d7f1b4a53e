"""Keras's ``keras.models`` namespace: the model class and ``load_model``.

``minicnn.models.Sequential`` and ``minicnn.models.load_model`` are the same
objects as ``minicnn.Sequential`` and ``minicnn.load_model``. The networks of
the source material are in ``minicnn.zoo``.

How ``load_model`` rebuilds a model without trusting the sizes in the file.
The header says ``Dense(4_000_000)``; only the stored arrays say what the
file really holds. So no layer is built from the header's sizes alone:

1. ``saving.read_model_file`` reads every array (each checked against the
   bytes stored for it) and checks the header's structure.
2. Each layer is made from its config, then built with its weights served
   from the file: during ``build`` every ``<key>_initializer`` of the layer
   (``kernel_initializer``, ``moving_mean_initializer``, ...) is replaced by
   a ``_StoredWeight`` that receives the shape the layer asks for, compares
   it with the stored array ``w/<i>/<key>`` and returns that array, or
   raises before anything is allocated. No initializer runs, nothing random
   is drawn, and a size the file does not hold is never allocated.
3. The built layers are stacked in a ``Sequential``, compiled from the
   compile settings, and the optimizer state is checked against the
   trained weights before it is restored.

Every problem with the file raises ``ModelFileError`` (a ``ValueError``)
naming the file; see ``minicnn.saving``.
"""
import os

from . import losses, optimizers
from .model import Model
from .rebuild import _BAD_CONFIG, _reason, model_from_config  # noqa: F401
from .rebuild import _model_from_config as rebuild_model
from .sequential import Sequential
from .keras_io import is_keras_path, load_keras
from .saving import ModelFileError, read_model_file


def load_model(path: str | os.PathLike, compile: bool = True,
               custom_objects: dict | None = None) -> Model:
    """Rebuild a model saved by ``model.save``: architecture, weights, optimizer state.

    A ``.keras`` / ``.h5`` path is read by Keras (``keras.models.load_model``,
    needs Keras 3) and converted with ``minicnn.from_keras``: the compile
    settings come along when they translate, the optimizer state does not.

    ``compile=False`` skips the compile settings and optimizer state.
    ``custom_objects``: ``{"ClassName": cls}`` for layers of your own (or register
    them with ``minicnn.saving.register_serializable``). Raises
    ``FileNotFoundError`` for a missing file and ``ModelFileError`` (a
    ``ValueError``) naming the file for a damaged or malformed one.
    """
    path = os.fspath(path)
    if is_keras_path(path):                # a Keras file: keras.models.load_model + from_keras
        return load_keras(path, compile=compile)
    header, arrays = read_model_file(path)
    weights = {name: array for name, array in arrays.items() if not name.startswith("opt/")}
    model = rebuild_model(path, header["model"], weights, custom_objects)
    if compile and header["compile"] is not None:
        _compile(path, model, header["compile"], arrays)
    return model


# ---------------------------------------------------------------------------
# compile settings and optimizer state
# ---------------------------------------------------------------------------
def _compile(path, model, settings, arrays):
    loss = settings["loss"]
    try:
        model.compile(optimizer=optimizers.get(settings["optimizer"]),
                      loss=[losses.get(l) for l in loss] if isinstance(loss, list)
                      else losses.get(loss),
                      metrics=settings["metrics"], loss_weights=settings.get("loss_weights"),
                      weighted_metrics=settings.get("weighted_metrics"))
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{path}: invalid compile settings: {_reason(exc)}") from None
    state = {name[len("opt/"):]: array for name, array in arrays.items()
             if name.startswith("opt/")}
    if state:
        _check_optimizer_state(path, state, model)
        try:
            model.optimizer.set_state(state)
        except _BAD_CONFIG as exc:
            raise ModelFileError(f"{path}: invalid optimizer state: {_reason(exc)}") from None


def _check_optimizer_state(path, state, model):
    """Step count and slots must fit the optimizer and the trained weights."""
    where = f"{path}: optimizer state"
    iterations = state.get("iterations")
    if (iterations is None or iterations.ndim != 0 or iterations.dtype.kind not in "iu"
            or int(iterations) < 0):
        raise ModelFileError(f"{where}: 'opt/iterations' must be a non-negative integer "
                             f"scalar, received "
                             f"{'nothing' if iterations is None else repr(iterations)}")
    for name, array in state.items():
        if name != "iterations" and array.dtype.kind != "f":
            raise ModelFileError(f"{where}: 'opt/{name}' must be a real float array, "
                                 f"received dtype {array.dtype}")
    slots = {name: array for name, array in state.items() if name.startswith("slot/")}
    if not slots:
        return
    shapes = [w.shape for w in model.trainable_weights]
    expected = {f"slot/{slot}/{j}": shape for slot in model.optimizer.slot_names()
                for j, shape in enumerate(shapes)}
    if set(slots) != set(expected):
        raise ModelFileError(f"{where}: expected the slots {sorted(expected)} for "
                             f"{type(model.optimizer).__name__} and {len(shapes)} trained "
                             f"weights, received {sorted(slots)}")
    for name, array in slots.items():
        if array.shape != expected[name]:
            raise ModelFileError(f"{where}: 'opt/{name}' has shape {array.shape}, but its "
                                 f"weight has shape {expected[name]}")


__all__ = ["Model", "Sequential", "load_model", "model_from_config"]
