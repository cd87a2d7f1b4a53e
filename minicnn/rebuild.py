"""Rebuilding a model from its config: Sequential or functional, nested models included.

``load_model`` serves each layer its weights from the file while it builds
(``_StoredWeight``, see ``minicnn.models``); ``model_from_config`` builds the
same architecture with fresh weights (``Model.from_config``). The model
classes are found through ``graph.MODEL_CLASSES`` (each registers itself), so
this module imports neither ``model`` nor ``sequential``.
"""
from . import layers as layers_module
from .graph import MODEL_CLASSES
from .saving import ModelFileError

# What a layer, optimizer or loss constructor raises for a config it cannot use.
_BAD_CONFIG = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError)


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
        if hasattr(layer, "leaf_layers"):             # a model inside the model
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
        return MODEL_CLASSES["Functional"](inputs[0] if config.get("single_input", True) else inputs,
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
        model = MODEL_CLASSES["Sequential"](name=config["name"])
        if config.get("input_dtype") is not None:          # integer token ids
            model.add(layers_module.InputLayer(shape=tuple(config["input_shape"]),
                                               dtype=config["input_dtype"]))
        for layer in layers:
            model.add(layer)
        model.build((None, *config["input_shape"]))
    except _BAD_CONFIG as exc:
        raise ModelFileError(f"{path}: the layers do not fit together: {_reason(exc)}") from None
    return model


def _reason(exc):
    """An exception as one short line for a message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."
