"""Sequential: a chain of layers, the simplest graph a ``Model`` runs.

    model = minicnn.Sequential([layers.Input((28, 28, 1)),
                                layers.Conv2D(32, 3, activation="relu"), ...])

Once the input shape is known (an ``Input``, an ``input_shape=`` on the
first layer, or the first batch of data) the layers are called one after
the other on a symbolic input, which records the chain as nodes; from then
on ``forward``, ``backward``, ``fit`` and the rest are ``Model``'s.
"""
import numpy as np

from . import backend, checks
from .graph import MODEL_CLASSES, KerasTensor
from .layers import InputLayer, Layer
from .layers.base import unique_name
from .model import Model, serialize_model_or_layer


class Sequential(Model):
    """A linear stack of layers, each feeding the next (Keras's ``Sequential``).

        model = minicnn.Sequential([
            minicnn.Input((28, 28, 1)),                         # (None, 28, 28, 1)
            layers.Conv2D(32, 3, activation="relu"),            # (None, 26, 26, 32)
            layers.MaxPooling2D(2),                             # (None, 13, 13, 32)
            layers.Flatten(),                                   # (None, 5408)
            layers.Dense(10, activation="softmax"),             # (None, 10)
        ])

    Args:
        layers: the layers in order (an ``Input`` first fixes the input shape; else
            the first layer's ``input_shape=``, else the first batch of data).
        name: the model's name (default ``sequential``, ``sequential_1``, ...).
        trainable: False freezes every layer.

    Everything else (``compile``, ``fit``, ``forward``, ``backward``, ``summary``,
    ``save``) is ``Model``'s; ``layers`` leaves out the ``Input``, as in Keras.
    """

    config_class = "Sequential"
    def __init__(self, layers: list | None = None, name: str | None = None,
                 trainable: bool = True):
        Layer.__init__(self, name=name or unique_name("sequential"), trainable=trainable)
        self._reset_compile()
        self._single_input = self._single_output = True      # a chain: one in, one out
        self._own_layers = []
        self._input_layer = None
        self._input_shape = None          # without the batch axis
        self._chain_nodes = []
        for layer in layers or []:
            self.add(layer)

    # -- structure -------------------------------------------------------------
    @property
    def layers(self):
        """The layers in order (the ``Input`` is not one of them, as in Keras)."""
        return list(self._own_layers)

    def add(self, layer: Layer) -> None:
        """Append a layer (or a model); an ``Input`` may only come first."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer                   # Sequential([Input(...), ...])
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer, received {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self._own_layers:
                raise ValueError("an Input can only start a Sequential model")
            self._input_layer = layer
            self._input_shape = layer.shape
            return
        if not self._own_layers and self._input_shape is None:
            declared = layer._declared_input_shape or (
                layer.input_shape if isinstance(layer, Model) else None)
            if declared:
                self._input_shape = tuple(declared[1:])
        if any(layer.name == other.name for other in self._own_layers):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name {layer.name!r} is already the name of a layer in "
                             f"this model. Update the `name` argument to pass a unique name.")
        if not self.trainable:
            layer.trainable = False
        self._own_layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build((None, *self._input_shape))

    def build(self, input_shape):
        """Call every layer in turn on a symbolic input of ``input_shape``: the chain
        of nodes that ``forward`` and ``backward`` run."""
        shape = tuple(input_shape)
        self._input_shape = shape[1:]
        if self._input_layer is None or self._input_layer.shape != self._input_shape:
            self._input_layer = InputLayer(shape=self._input_shape, dtype=self.dtype,
                                           name=unique_name("input_layer"))
        self._drop_chain()
        x = inputs = self._input_layer.output
        try:
            for layer in self._own_layers:
                x = layer(x)
                self._chain_nodes.append(x.node)
        except Exception:
            self._drop_chain()
            raise
        own = self._own_layers
        self._set_graph(inputs, x)
        self._own_layers = own
        return self.output_shape

    def _drop_chain(self):
        """Forget the nodes of an earlier build (layers added since)."""
        for node in self._chain_nodes:
            nodes = node.layer.__dict__.get("_inbound_nodes", [])
            if node in nodes:
                nodes.remove(node)
        self._chain_nodes = []

    @property
    def input_layers(self):
        return [] if self._input_layer is None else [self._input_layer]

    @input_layers.setter
    def input_layers(self, value):
        pass

    @property
    def dtype(self):
        if self._own_layers:
            return self._own_layers[0].dtype
        if self._input_layer is not None:
            return self._input_layer.dtype
        return backend.standardize_dtype(None)

    @dtype.setter
    def dtype(self, value):
        pass

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None, *self._input_shape)

    @input_shape.setter
    def input_shape(self, value):
        pass

    @property
    def output_shape(self):
        return self._own_layers[-1].output_shape if self.built and self._own_layers else None

    @output_shape.setter
    def output_shape(self, value):
        pass

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self._own_layers[index]
        return super().get_layer(name)

    # -- the two passes ----------------------------------------------------------
    def prepare_input(self, x):
        """x as an array of the model's dtype, checked against the input shape
        (the model is built on first use)."""
        if not self._own_layers:
            raise ValueError(f"Model '{self.name}' has no layers")
        if not self.built:
            if getattr(self._own_layers[0], "takes_integer_input", False):
                x = np.asarray(x)             # token ids: the Input gets their integer type
                if x.dtype.kind not in "iu":
                    raise TypeError(f"x must be an integer array (token ids), received "
                                    f"dtype {x.dtype}")
                self._input_layer = InputLayer(shape=x.shape[1:], dtype=np.dtype(
                    "int64" if x.dtype == np.int64 else "int32").name,
                    name=unique_name("input_layer"))
            else:
                x = checks.as_float_input(x, self.dtype)
            self.build((None, *x.shape[1:]))
        return super().prepare_input(x)

    def forward(self, x, training=False, upto=None):
        """Run the layers in turn; returns the output of the last one, or of layer
        ``upto`` (an index, a name or the layer) to stop there."""
        if not self.built:
            self.prepare_input(x)
        return super().forward(x, training=training, upto=upto)

    def get_config(self):
        config = {"name": self.name,
                  "layers": [serialize_model_or_layer(layer) for layer in self._own_layers],
                  "input_shape": None if self._input_shape is None else list(self._input_shape)}
        if self._input_layer is not None and self._input_layer.dtype.kind in "iu":
            config["input_dtype"] = self._input_layer.dtype.name     # token ids (Embedding)
        return config


MODEL_CLASSES["Sequential"] = Sequential

__all__ = ["Sequential"]
