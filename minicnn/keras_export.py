"""minicnn -> Keras: ``to_keras`` and the helpers both directions share.

Kept apart from ``minicnn.keras_io`` (the Keras -> minicnn half) because
``minicnn.saving`` needs ``to_keras`` for ``model.save("m.keras")``: this
module imports no model module, so ``saving`` can use it without an import
cycle. A minicnn model is recognised by its graph (``_nodes``), a
``Sequential`` by its chain (``_chain_nodes``). See ``minicnn.keras_io`` for
how layers, configs and weights are translated.
"""
import functools
import inspect
import os
import warnings

from .keras_layers import keras_class

_EMPTY = inspect.Parameter.empty
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")

def import_keras(what="this function"):
    """``import keras`` (Keras 3), or an ImportError that says how to install it."""
    try:
        import keras
    except ImportError as exc:
        raise ImportError(f"{what} needs Keras 3, which is not installed: pip install keras "
                          f"(or pip install 'minicnn[keras]')") from exc
    if int(str(keras.__version__).split(".")[0]) < 3:
        raise ImportError(f"{what} needs Keras 3, found Keras {keras.__version__}: "
                          f"pip install -U 'keras>=3'")
    return keras


def is_keras_path(path):
    """True for a path that names a Keras file (``.keras``, ``.h5``, ``.hdf5``)."""
    return str(os.fspath(path)).endswith(KERAS_SUFFIXES)      # as Keras tells them apart


# ---------------------------------------------------------------------------
# configs: keep what the other constructor takes, drop only default values
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _parameters(cls):
    """``{name: default}`` of every keyword ``cls(...)`` takes, following ``**kwargs``
    up the base classes (a Keras or minicnn layer passes ``name``, ``dtype`` ... on)."""
    params = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            signature = inspect.signature(init)
        except (TypeError, ValueError):
            break
        more = False
        for p in list(signature.parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                more = True
            elif p.kind is not p.VAR_POSITIONAL:
                params.setdefault(p.name, p.default)
        if not more:
            break
    return params


def _plain(value):
    """Tuples as lists, NumPy scalars as Python numbers: for comparing configs."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _is_default(value, default):
    if default is _EMPTY:
        return False
    if _plain(value) == _plain(default):
        return True
    # a serialized object ({"class_name": "Zeros", ...}) against a default name ("zeros")
    if isinstance(value, dict) and isinstance(default, str):
        name = str(value.get("class_name", "")).replace("_", "").lower()
        return name == default.replace("_", "").lower()
    return False


def _keep_accepted(config, target_cls, source_cls, where, target_lib, exempt=()):
    """The entries of ``config`` that ``target_cls`` takes; any other one must hold
    ``source_cls``'s default value (then it is dropped), else a ValueError."""
    accepted = _parameters(target_cls)
    defaults = _parameters(source_cls)
    kept = {}
    for key, value in config.items():
        if key in accepted:
            kept[key] = value
        elif key in exempt:
            continue
        elif not _is_default(value, defaults.get(key, None)):
            default = defaults.get(key, None)
            said = "" if default is _EMPTY else f" (only its default value {default!r} can be dropped)"
            raise ValueError(f"{where}: argument {key}={value!r} has no {target_lib} "
                             f"equivalent{said}")
    return kept


def _where(direction, layer):
    return f"{direction}: layer '{layer.name}' ({type(layer).__name__})"


def _minicnn_options(option):
    from . import constraints, initializers, regularizers
    return {"initializer": initializers, "regularizer": regularizers,
            "constraint": constraints}[option.rsplit("_", 1)[1]]


def _is_option(key):
    return key.endswith(("_initializer", "_regularizer", "_constraint"))


def _keras_object_class(keras, option, class_name):
    module = {"initializer": keras.initializers, "regularizer": keras.regularizers,
              "constraint": keras.constraints}[option.rsplit("_", 1)[1]]
    return getattr(module, str(class_name), None)



# ---------------------------------------------------------------------------
# minicnn -> Keras
# ---------------------------------------------------------------------------
def _value_to_keras(keras, key, value, where):
    if _is_option(key) and isinstance(value, dict) and "class_name" in value:
        class_name = value["class_name"]
        kcls = _keras_object_class(keras, key, class_name)
        if kcls is None:
            raise ValueError(f"{where}: {key} {class_name} has no Keras equivalent")
        source = _minicnn_options(key)._REGISTRY.lookup(class_name)
        config = _keep_accepted(value.get("config") or {}, kcls, source,
                                f"{where}: {key} {class_name}", "Keras")
        return kcls(**config)
    if key in ("padding", "pool_size", "strides", "kernel_size", "dilation_rate") and \
            isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


class _ToKeras:
    def __init__(self, keras):
        self.keras = keras
        self.converted = {}
        self.pairs = []

    def layer(self, layer):
        if id(layer) in self.converted:
            return self.converted[id(layer)]
        if _is_model(layer):
            klayer = self.model(layer)
            if not layer.trainable:
                klayer.trainable = False
        else:
            klayer = self.leaf(layer)
            self.pairs.append((layer, klayer))
        self.converted[id(layer)] = klayer
        return klayer

    def leaf(self, layer):
        keras = self.keras
        name = type(layer).__name__
        kcls = keras_class(keras, name)           # keras.layers.<name>, or our twin (LRN)
        if not (isinstance(kcls, type) and issubclass(kcls, keras.layers.Layer)) or \
                name == "InputLayer":
            raise ValueError(f"to_keras: layer '{layer.name}' ({name}) has no Keras "
                             f"equivalent (keras.layers has no {name})")
        where = _where("to_keras", layer)
        padding = getattr(layer, "padding", None)
        if name != "ZeroPadding2D" and isinstance(padding, tuple):
            raise ValueError(f"{where}: padding={padding} has no Keras equivalent (Keras "
                             f"takes 'valid' or 'same' only; put a ZeroPadding2D before "
                             f"the layer)")
        config = {key: _value_to_keras(keras, key, value, where)
                  for key, value in layer.get_config().items()}
        kwargs = _keep_accepted(config, kcls, type(layer), where, "Keras",
                                exempt=("input_shape",))
        try:
            return kcls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: Keras refuses its config: {exc}") from None

    def model(self, model):
        keras = self.keras
        if _is_sequential(model):
            if not model.built:
                raise ValueError(f"to_keras: Sequential model '{model.name}' is not built "
                                 f"yet (start it with an Input, or call build)")
            first = model.inputs[0]
            kin = keras.Input(batch_shape=first.shape, dtype=first.dtype.name,
                              name=first.node.layer.name)
            return keras.Sequential([kin] + [self.layer(l) for l in model.layers],
                                    name=model.name)
        tensors = {}
        for t in model.inputs:
            tensors[t] = keras.Input(batch_shape=t.shape, dtype=t.dtype.name,
                                     name=t.node.layer.name)
        for node in model._nodes:
            klayer = self.layer(node.layer)
            inputs = [tensors[t] for t in node.inputs]
            kwargs = {} if node.training is None else {"training": node.training}
            try:
                result = klayer(inputs if node.multi_input else inputs[0], **kwargs)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{_where('to_keras', node.layer)}: Keras cannot call it on "
                                 f"{[tuple(t.shape) for t in node.inputs]}: {exc}") from None
            results = result if isinstance(result, (list, tuple)) else [result]
            for t, kt in zip(node.outputs, results, strict=True):
                tensors[t] = kt
        kinputs = [tensors[t] for t in model.inputs]
        koutputs = [tensors[t] for t in model.outputs]
        return keras.Model(inputs=kinputs[0] if model._single_input else kinputs,
                           outputs=koutputs[0] if model._single_output else koutputs,
                           name=model.name)


def to_keras(model, compile: bool = True):
    """A Keras model with the architecture and the weights of a minicnn model.

    ``minicnn.Sequential`` gives a ``keras.Sequential``, ``minicnn.Model`` a
    functional ``keras.Model`` (nested models stay nested). A compiled model
    gives a Keras model compiled with the same optimizer class and
    hyper-parameters, loss(es) and metrics (``compile=False`` skips this; the
    optimizer state is not copied). Raises ``ValueError`` naming the first
    layer Keras does not have.
    """
    kmodel, _ = _to_keras(model, compile)
    return kmodel


def _to_keras(model, compile):
    """``(keras model, [(minicnn leaf layer, its Keras twin), ...])``."""
    keras = import_keras("minicnn.to_keras")
    if not _is_model(model):
        raise TypeError(f"to_keras expects a minicnn model, received {type(model).__name__}")
    converter = _ToKeras(keras)
    kmodel = converter.model(model)
    for layer, klayer in converter.pairs:
        klayer.set_weights(layer.get_weights())
    if compile and getattr(model, "optimizer", None) is not None and model.loss is not None:
        try:
            _compile_to_keras(keras, model, kmodel)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            warnings.warn(f"to_keras: the Keras model '{model.name}' is left uncompiled: "
                          f"the compile settings do not translate ({exc})", stacklevel=3)
    return kmodel, converter.pairs


def _is_model(layer):
    """A minicnn model (a layer with a graph of nodes; ``minicnn.model`` is not imported
    here, see the module docstring)."""
    return getattr(layer, "_nodes", None) is not None or _is_sequential(layer)


def _is_sequential(model):
    return hasattr(model, "_chain_nodes")


def _compile_to_keras(keras, model, kmodel):
    from . import optimizers
    spec = optimizers.serialize(model.optimizer)
    kcls = getattr(keras.optimizers, spec["class_name"], None)
    if kcls is None:
        raise ValueError(f"the optimizer {spec['class_name']} has no Keras equivalent")
    config = _keep_accepted(spec["config"], kcls, type(model.optimizer),
                            f"optimizer {spec['class_name']}", "Keras")
    if isinstance(config.get("learning_rate"), dict):      # a schedule, in Keras's form
        config["learning_rate"] = keras.optimizers.schedules.deserialize(
            config["learning_rate"])
    optimizer = kcls(**config)

    def loss_of(loss):
        lcls = getattr(keras.losses, type(loss).__name__, None)
        if lcls is None:
            raise ValueError(f"the loss {type(loss).__name__} has no Keras equivalent")
        return lcls(**_keep_accepted(loss.get_config(), lcls, type(loss),
                                     f"loss {type(loss).__name__}", "Keras"))

    single = model._single_output
    loss = loss_of(model.output_losses[0]) if single else [loss_of(l) for l in model.output_losses]
    names = [name for name, _ in model.metrics]
    metrics = names if single else ([names] + [[] for _ in model.outputs[1:]] if names else None)
    kmodel.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                   loss_weights=model.loss_weights)


def load_keras_weights(model, path):
    """Load the weights of a Keras file (``model.save_weights("w.weights.h5")``, a
    ``.keras`` or a legacy ``.h5`` model file) into ``model``: the model is
    converted with ``to_keras``, Keras reads the file into that twin (matching
    its layers as Keras does), and the weights are copied back layer by layer."""
    import_keras(f"loading the weights of {os.fspath(path)!r}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such weights file: {path!r}")
    kmodel, pairs = _to_keras(model, compile=False)
    kmodel.load_weights(path)
    for layer, klayer in pairs:
        layer.set_weights(klayer.get_weights())
    return model


__all__ = ["to_keras", "load_keras_weights", "import_keras", "is_keras_path"]
