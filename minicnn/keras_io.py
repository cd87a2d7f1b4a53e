"""Keras models in and out: ``from_keras``, ``to_keras`` and ``.keras`` / ``.h5`` files.

    km = keras.applications.VGG16(include_top=False, input_shape=(64, 64, 3))
    model = minicnn.from_keras(km)             # same layers, same names, same weights
    back = minicnn.to_keras(model)             # and back again
    model.save("m.keras")                      # a real Keras file (via to_keras)
    model = minicnn.load_model("m.keras")      # keras.models.load_model + from_keras

How a model is translated:

* ``keras.Sequential`` <-> ``minicnn.Sequential``; a functional ``keras.Model``
  <-> ``minicnn.Model``, rebuilt with the functional API: every Keras node
  (one call of a layer, ``layer._inbound_nodes[i]``, reached from the model's
  outputs through ``tensor._keras_history``) becomes one call of the converted
  layer on the converted input tensors, so shared layers stay shared (one
  layer, several calls) and a model used as a layer becomes a nested model.
* A layer is matched by class name (``minicnn.layers.LAYER_CLASSES`` one way,
  ``keras.layers`` the other) and built from its ``get_config()``, keeping the
  arguments the other constructor takes. An argument it does not take is
  dropped only when it holds its default value; otherwise a ``ValueError``
  names the layer, the argument and the value. Initializers, regularizers and
  constraints are translated the same way, by class name and config.
* Weights are copied layer by layer with ``get_weights`` / ``set_weights``:
  both libraries keep Keras's order (kernel, bias; gamma, beta, moving mean,
  moving variance), so no array is transposed.
* Compile settings (optimizer class and hyper-parameters, loss, metrics) go
  along when they translate; otherwise the model comes back uncompiled with a
  warning saying why. The optimizer's *state* (moments, step count) does not.

Keras is imported inside these functions only: ``import minicnn`` never loads
TensorFlow. Without Keras they raise an ``ImportError`` saying how to install it.
``minicnn.keras_export`` holds the minicnn -> Keras half (``to_keras``,
``load_keras_weights``); this module the Keras -> minicnn half and the files.
"""
import os
import warnings

from .keras_export import (_is_option, _keep_accepted, _keras_object_class,  # noqa: F401
                           _minicnn_options, _plain, _where, import_keras, is_keras_path,
                           load_keras_weights, to_keras)
from .keras_layers import register


def _value_from_keras(keras, key, value, where):
    """One Keras config entry as minicnn's constructor takes it."""
    if key == "dtype" and isinstance(value, dict):        # a DTypePolicy
        name = value.get("config", {}).get("name")
        if name not in ("float32", "float64"):
            raise ValueError(f"{where}: dtype policy {name!r} has no minicnn equivalent "
                             f"(minicnn computes in float32 or float64)")
        return name
    if _is_option(key) and isinstance(value, dict) and "class_name" in value:
        module = _minicnn_options(key)
        class_name = value["class_name"]
        try:
            cls = module._REGISTRY.lookup(class_name)
        except ValueError:
            raise ValueError(f"{where}: {key} {class_name} has no minicnn equivalent; "
                             f"minicnn has {module._REGISTRY.listed}") from None
        source = _keras_object_class(keras, key, class_name) or cls
        config = _keep_accepted(value.get("config") or {}, cls, source,
                                f"{where}: {key} {class_name}", "minicnn")
        return cls(**config)
    return value


def _structure(value):
    """``(tensors, single)`` of a call argument or a model's inputs/outputs."""
    if isinstance(value, dict):                  # in Keras's flattening order
        return [value[k] for k in sorted(value)], False
    if isinstance(value, (list, tuple)):
        return list(value), False
    return [value], True


class _FromKeras:
    def __init__(self, keras):
        self.keras = keras
        self.converted = {}          # id(keras layer) -> minicnn layer (shared layers)
        self.pairs = []              # (keras leaf layer, minicnn leaf layer): weights to copy

    def layer(self, klayer):
        if id(klayer) in self.converted:
            return self.converted[id(klayer)]
        keras = self.keras
        if isinstance(klayer, keras.Model):
            layer = self.model(klayer)
            if not klayer.trainable:             # (True would unfreeze the layers inside)
                layer.trainable = False
        else:
            layer = self.leaf(klayer)
            self.pairs.append((klayer, layer))
        self.converted[id(klayer)] = layer
        return layer

    def leaf(self, klayer):
        from .layers import LAYER_CLASSES
        keras = self.keras
        name = type(klayer).__name__
        available = sorted(n for n in LAYER_CLASSES if n != "InputLayer")
        if not isinstance(klayer, keras.layers.Layer):
            raise ValueError(f"from_keras: operation '{klayer.name}' ({name}) is a keras.ops "
                             f"call, not a layer, and has no minicnn equivalent; minicnn "
                             f"has: {available}")
        cls = LAYER_CLASSES.get(name)
        if cls is None or name == "InputLayer":
            raise ValueError(f"from_keras: layer '{klayer.name}' ({name}) has no minicnn "
                             f"equivalent; minicnn has: {available}")
        where = _where("from_keras", klayer)
        config = {key: _value_from_keras(keras, key, value, where)
                  for key, value in klayer.get_config().items()}
        kwargs = _keep_accepted(config, cls, type(klayer), where, "minicnn")
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    def model(self, kmodel):
        keras = self.keras
        if isinstance(kmodel, keras.Sequential):
            return self.sequential(kmodel)
        if not hasattr(kmodel, "_inputs_struct") or not hasattr(kmodel, "_outputs_struct"):
            raise ValueError(f"from_keras: model '{kmodel.name}' ({type(kmodel).__name__}) "
                             f"is a subclassed keras.Model, which has no graph to read; "
                             f"only Sequential and functional models can be converted")
        return self.functional(kmodel)

    def sequential(self, kmodel):
        from .layers import Input
        from .sequential import Sequential
        if not kmodel.built or not getattr(kmodel, "inputs", None):
            raise ValueError(f"from_keras: Sequential model '{kmodel.name}' has no input "
                             f"shape yet; start it with keras.Input(shape=...) or build it")
        kin = kmodel.inputs[0]
        inputs = Input(batch_shape=tuple(kin.shape), dtype=kin.dtype,
                       name=kin._keras_history.operation.name)
        return Sequential([inputs] + [self.layer(l) for l in kmodel.layers], name=kmodel.name)

    def functional(self, kmodel):
        from .layers import Input
        from .model import Model
        tensors = {}                               # id(Keras tensor) -> minicnn tensor
        kinputs, single_in = _structure(kmodel._inputs_struct)
        for kt in kinputs:
            tensors[id(kt)] = Input(batch_shape=tuple(kt.shape), dtype=kt.dtype,
                                    name=kt._keras_history.operation.name)
        koutputs, single_out = _structure(kmodel._outputs_struct)
        for kt in koutputs:                       # depth first, without recursion
            stack = [kt]
            while stack:
                top = stack[-1]
                if id(top) in tensors:
                    stack.pop()
                    continue
                operation, node_index, _ = top._keras_history
                node = operation._inbound_nodes[node_index]
                if not node.input_tensors:
                    raise ValueError(f"from_keras: model '{kmodel.name}' reads the input "
                                     f"'{operation.name}', which is not among its inputs")
                waiting = [t for t in node.input_tensors if id(t) not in tensors]
                if waiting:
                    stack.extend(waiting)
                    continue
                stack.pop()
                self.call(kmodel, node, tensors)
        outputs = [tensors[id(t)] for t in koutputs]
        return Model(inputs=[tensors[id(t)] for t in kinputs] if not single_in
                     else tensors[id(kinputs[0])],
                     outputs=outputs if not single_out else outputs[0], name=kmodel.name)

    def call(self, kmodel, node, tensors):
        """Replay one Keras node: the converted layer on the converted inputs."""
        operation = node.operation
        layer = self.layer(operation)
        args, kwargs = node.arguments.args, dict(node.arguments.kwargs)
        training = kwargs.pop("training", None)
        extra = [k for k, v in kwargs.items() if v is not None]
        if len(args) != 1 or extra:
            raise ValueError(f"from_keras: in model '{kmodel.name}', layer '{operation.name}' "
                             f"is called with arguments minicnn does not have "
                             f"({len(args)} positional, keywords {sorted(kwargs)}); minicnn "
                             f"calls a layer on its input(s) and training= only")
        inputs, single = _structure(args[0])
        converted = [tensors[id(t)] for t in inputs]
        result = layer(converted[0] if single else converted, training=training)
        results = result if isinstance(result, (list, tuple)) else [result]
        for kt, t in zip(node.outputs, results, strict=True):
            tensors[id(kt)] = t


def from_keras(keras_model, compile: bool = True):
    """A minicnn model with the architecture and the weights of a Keras model.

    ``keras.Sequential`` gives a ``minicnn.Sequential``, a functional
    ``keras.Model`` a ``minicnn.Model`` (nested models stay nested, shared layers
    shared). Layer names are kept. With ``compile=True`` a compiled Keras model
    gives a model compiled with the same optimizer class and hyper-parameters,
    loss and metrics (not the optimizer state); settings that do not translate
    leave it uncompiled, with a warning. Raises ``ValueError`` at the first layer
    or argument minicnn does not have, naming it.
    """
    keras = import_keras("minicnn.from_keras")
    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"from_keras expects a keras.Model (Sequential or functional), "
                        f"received {type(keras_model).__name__}")
    converter = _FromKeras(keras)
    model = converter.model(keras_model)
    for klayer, layer in converter.pairs:
        try:
            layer.set_weights(klayer.get_weights())
        except ValueError as exc:
            raise ValueError(f"{_where('from_keras', klayer)}: the weights do not fit: "
                             f"{exc}") from None
    if compile and getattr(keras_model, "compiled", False) and \
            getattr(keras_model, "optimizer", None) is not None:
        try:
            _compile_from_keras(keras, keras_model, model)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            model._reset_compile()               # nothing half-set
            warnings.warn(f"from_keras: model '{keras_model.name}' is left uncompiled: its "
                          f"compile settings do not translate ({exc})", stacklevel=2)
    return model


def _compile_from_keras(keras, kmodel, model):
    from . import losses, optimizers
    kopt = kmodel.optimizer
    cls = optimizers._REGISTRY.lookup(type(kopt).__name__)
    from . import schedules
    config = dict(kopt.get_config())
    schedule = config.get("learning_rate")
    if isinstance(schedule, dict):                  # a schedule: the same class here
        try:
            schedule = schedules.deserialize(schedule)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the learning-rate schedule {schedule.get('class_name')} has "
                             f"no minicnn equivalent ({exc})") from None
    config = _keep_accepted(config, cls, type(kopt), f"optimizer {type(kopt).__name__}",
                            "minicnn")
    config = {k: _plain(v) for k, v in config.items() if k != "learning_rate"}
    optimizer = cls(learning_rate=schedule if isinstance(schedule, schedules.LearningRateSchedule)
                    else _plain(kopt.get_config()["learning_rate"]), **config)

    def loss_of(kloss):
        if kloss is None:
            return kloss
        if isinstance(kloss, str):
            return losses.get(kloss)
        name = type(kloss).__name__
        key = losses.ALIASES.get(name, name)
        if key not in losses.LOSSES:
            raise ValueError(f"the loss {name} has no minicnn equivalent; minicnn has "
                             f"{sorted(losses.LOSSES)}")
        lcls = losses.LOSSES[key]
        return lcls(**_keep_accepted(kloss.get_config(), lcls, type(kloss), f"loss {name}",
                                     "minicnn"))

    kloss = kmodel.loss
    if isinstance(kloss, dict):
        loss = {k: loss_of(v) for k, v in kloss.items()}
    elif isinstance(kloss, (list, tuple)):
        loss = [loss_of(v) for v in kloss]
    else:
        loss = loss_of(kloss)
    compiled = kmodel.get_compile_config() if hasattr(kmodel, "get_compile_config") else {}
    metrics = compiled.get("metrics") or []
    if isinstance(metrics, (list, tuple)) and len(metrics) == 1 and \
            isinstance(metrics[0], (list, tuple)):
        metrics = metrics[0]
    metrics = [m for m in metrics if isinstance(m, str)] if isinstance(metrics, (list, tuple)) \
        else []
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                  loss_weights=compiled.get("loss_weights"))


def load_keras(path, compile=True):
    """``keras.models.load_model(path)`` then ``from_keras``.

    With ``compile=True`` the file's compile settings (optimizer class and
    hyper-parameters, loss, metrics) are carried over when they translate; the
    optimizer state is not (training restarts its moments). A file whose compile
    settings Keras itself cannot rebuild is read uncompiled, with a warning.
    """
    keras = import_keras(f"loading {os.fspath(path)!r}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    register(keras)                              # our Keras twins (LRN) load too
    kmodel = None
    if compile:
        try:
            with warnings.catch_warnings():      # the optimizer state is not carried over
                warnings.filterwarnings("ignore", message="Skipping variable loading for "
                                                          "optimizer")
                kmodel = keras.models.load_model(path, compile=True)
        except Exception as exc:  # noqa: BLE001 - retried without the compile settings
            warnings.warn(f"{path}: Keras could not restore the compile settings ({exc}); "
                          f"the model is loaded uncompiled", stacklevel=2)
    if kmodel is None:
        kmodel = keras.models.load_model(path, compile=False)
    return from_keras(kmodel, compile=compile)


__all__ = ["from_keras", "to_keras", "load_keras", "load_keras_weights", "import_keras",
           "is_keras_path"]
