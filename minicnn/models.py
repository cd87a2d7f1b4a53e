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

from . import layers as layers_module, losses, optimizers
from .model import Model
from .sequential import Sequential
from .keras_io import is_keras_path, load_keras
from .saving import ModelFileError, read_model_file

# What a layer, optimizer or loss constructor raises for a config it cannot use.
_BAD_CONFIG = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)


def load_model(path, compile=True, custom_objects=None):
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
    model = _model_from_config(path, header["model"], weights, custom_objects)
    if compile and header["compile"] is not None:
        _compile(path, model, header["compile"], arrays)
    return model


def model_from_config(config, custom_objects=None):
    """A new model (fresh weights) from ``model.get_config()``: Sequential or functional."""
    from .saving import check_model_config
    where = f"config of model {config.get('name')!r}"
    check_model_config(where, config, "model")
    return _model_from_config(where, config, None, custom_objects)


def _model_from_config(path, config, arrays, custom_objects=None):
    """A Sequential or Functional model from its config and its ``w/...`` arrays
    (``arrays=None``: fresh weights from the layers' initializers)."""
    n = len(config["layers"])
    stored = [None] * n if arrays is None else _weights_by_layer(path, arrays, n)
    if config.get("class_name") == "Functional":
        return _functional(path, config, stored, custom_objects)
    layers = [_layer_or_model(path, i, spec, stored[i], custom_objects) for i, spec in
              enumerate(config["layers"])]
    shape = (None, *config["input_shape"])
    for i, layer in enumerate(layers):
        if isinstance(layer, Model):
            shape = layer.compute_output_shape(shape)
        else:
            shape = _build_with_stored_weights(path, i, layer, shape, stored[i])
    return _stack(path, config, layers)


def _layer_or_model(path, i, spec, stored, custom_objects=None):
    """Layer i, made from its spec (a model inside the model is rebuilt whole)."""
    if spec["class_name"] in ("Sequential", "Functional"):
        from .saving import check_model_config
        config = dict(spec["config"], class_name=spec["class_name"])
        check_model_config(path, config, f"model.layers[{i}]")
        return _model_from_config(path, config, stored, custom_objects)
    return _layer_from_config(path, i, spec, custom_objects=custom_objects)


def _functional(path, config, stored, custom_objects=None):
    """Replay the saved nodes in order: every layer is called on the tensors it read."""
    layers = []
    for i, spec in enumerate(config["layers"]):
        if spec["class_name"] == "InputLayer":
            layers.append(_layer_from_config(path, i, spec, allow_input=True))
        else:
            layers.append(_layer_or_model(path, i, spec, stored[i], custom_objects))
    try:
        inputs = [layers[i].output for i in config["inputs"]]
        outputs = []

        def tensor(ref):
            return inputs[ref[1]] if ref[0] == "input" else outputs[ref[1]][ref[2]]

        for node in config["nodes"]:
            i = node["layer"]
            layer = layers[i]
            args = [tensor(ref) for ref in node["inputs"]]
            arg = args if node.get("multi_input") else args[0]
            if not layer.built:
                _build_with_stored_weights(path, i, layer, [a.shape for a in args]
                                           if node.get("multi_input") else args[0].shape,
                                           stored[i])
            out = layer(arg, training=node.get("training"))
            outputs.append(out if isinstance(out, list) else [out])
        result = [tensor(ref) for ref in config["outputs"]]
        return Model(inputs[0] if config.get("single_input", True) else inputs,
                     result[0] if config.get("single_output", True) else result,
                     name=config["name"])
    except ModelFileError:
        raise
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{path}: the saved graph does not fit together: "
                             f"{_reason(exc)}") from None


# ---------------------------------------------------------------------------
# layers and their weights
# ---------------------------------------------------------------------------
def _weights_by_layer(path, arrays, n_layers):
    """``[{key: array} for each layer]`` from the ``w/<i>/<key>`` arrays, checked. The
    key of a model inside the model is its own array name (``w/<j>/<key>``)."""
    by_layer = [{} for _ in range(n_layers)]
    for name, array in arrays.items():
        parts = name.split("/")
        if len(parts) < 3 or parts[0] != "w" or not parts[1].isdigit():
            raise ModelFileError(f"{path}: unexpected array {name!r} (expected "
                                 f"'w/<layer>/<key>' or 'opt/<key>')")
        i, key = int(parts[1]), "/".join(parts[2:])
        if i >= n_layers:
            raise ModelFileError(f"{path}: array {name!r} is for layer {i}, but the header "
                                 f"describes {n_layers} layers")
        if array.dtype.kind != "f":
            raise ModelFileError(f"{path}: weight {name!r} must be a real float array, "
                                 f"received dtype {array.dtype}")
        by_layer[i][key] = array
    return by_layer


def _layer_from_config(path, i, spec, allow_input=False, custom_objects=None):
    if spec["class_name"] == "InputLayer" and not allow_input:
        raise ModelFileError(f"{path}: model.layers[{i}] is an InputLayer; a saved model "
                             f"keeps its input shape in model.input_shape")
    try:
        return layers_module.deserialize(spec, custom_objects)
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{path}: model.layers[{i}] ({spec['class_name']}) has an "
                             f"invalid config: {_reason(exc)}") from None


class _StoredWeight:
    """Stands in for a layer's ``<key>_initializer`` while ``load_model`` builds it.

    Called as an initializer, ``init(shape, dtype)``, it returns the array the
    file stores for ``key`` once the requested shape matches, and raises
    otherwise: the layer's own initializer never runs.
    """

    def __init__(self, where, key, array, served):
        self.where, self.key, self.array, self.served = where, key, array, served

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) if d is not None else None for d in shape)
        if self.array is None:
            raise ModelFileError(f"{self.where} needs a weight '{self.key}' of shape "
                                 f"{shape}, which the file does not hold")
        if shape != self.array.shape:
            raise ModelFileError(f"{self.where}: its config gives weight '{self.key}' the "
                                 f"shape {shape}, but the stored array has shape "
                                 f"{self.array.shape}")
        self.served.add(self.key)
        return self.array if dtype is None else self.array.astype(dtype, copy=False)


def _build_with_stored_weights(path, i, layer, input_shape, stored):
    """Build ``layer`` for ``input_shape`` with the file's arrays; return its output shape.
    ``stored=None``: a plain build (fresh weights, ``from_config``)."""
    where = f"{path}: layer {i} '{layer.name}' ({type(layer).__name__})"
    if stored is None:
        layer.build(input_shape)
        return layer.compute_output_shape(input_shape)
    originals = {name: value for name, value in vars(layer).items()
                 if name.endswith("_initializer")}
    served = set()
    for name in originals:
        setattr(layer, name, _StoredWeight(where, name[:-len("_initializer")],
                                           stored.get(name[:-len("_initializer")]), served))
    try:
        layer.build(input_shape)
        output_shape = layer.compute_output_shape(input_shape)
    except ModelFileError:
        raise
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{where} cannot be built for input shape {input_shape}: "
                             f"{_reason(exc)}") from None
    finally:
        for name, value in originals.items():     # the config keeps the real initializers
            setattr(layer, name, value)
    keys = set(layer.weight_keys())
    if keys != set(stored):
        raise ModelFileError(f"{where} has the weights {sorted(keys)}, but the file stores "
                             f"{sorted(stored)} for it")
    if served != keys and type(layer) not in layers_module.LAYER_CLASSES.values():
        _restore_custom(where, layer, stored)         # a layer of the user's own
    elif served != keys:                           # a layer that bypassed its initializers
        raise RuntimeError(f"layer {type(layer).__name__} created weights "
                           f"{sorted(keys - served)} without their '<key>_initializer'; "
                           f"load_model cannot restore them without allocating")
    return output_shape


def _restore_custom(where, layer, stored):
    """A layer class of the user's own made its weights with its own initializers (the
    class is trusted code): check every stored shape, then copy the arrays in."""
    for key, value in zip(layer.weight_keys(), layer.weights):
        if stored[key].shape != value.shape:
            raise ModelFileError(f"{where}: weight '{key}' has shape {value.shape}, but the "
                                 f"stored array has shape {stored[key].shape}")
        value[...] = stored[key]


def _stack(path, config, layers):
    """The built layers in a ``Sequential`` built for the stored input shape."""
    try:
        model = Sequential(name=config["name"])
        if config.get("input_dtype") is not None:          # integer token ids
            model.add(layers_module.InputLayer(shape=tuple(config["input_shape"]),
                                               dtype=config["input_dtype"]))
        for layer in layers:
            model.add(layer)
        model.build((None, *config["input_shape"]))
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{path}: the layers do not fit together: {_reason(exc)}") from None
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
                      metrics=settings["metrics"], loss_weights=settings.get("loss_weights"))
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


def _reason(exc):
    """An exception as one short line for a message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


__all__ = ["Model", "Sequential", "load_model", "model_from_config"]
