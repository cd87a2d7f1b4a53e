"""Sequential: a stack of layers, trained with backpropagation.

The whole of training is three lines, repeated for every batch:

    y_pred = model.forward(x, training=True)            # layer by layer
    loss, dy = loss_fn.value_and_gradient(y, y_pred)    # dL/dy_pred
    model.backward(dy)                                  # layer by layer, in reverse

after which every layer's ``grads`` holds dL/dw and the optimizer updates the
weights. ``fit`` adds batching, shuffling, metrics, callbacks and a progress bar.
"""
import numpy as np

from . import backend, checks, losses, metrics as metrics_module, optimizers
from .layers import InputLayer, Layer, serialize
from .layers.base import unique_name
from .saving import save_model
from .summary import summary_lines
from .training import TrainingMixin


class Sequential(TrainingMixin):
    def __init__(self, layers=None, name=None):
        self.name = name or unique_name("sequential")
        self.layers = []
        self._input_shape = None          # without the batch axis
        self.optimizer = self.loss = None
        self.metrics = []
        self.stop_training = False
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # -- structure -------------------------------------------------------------
    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer, received {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("an Input can only start a Sequential model")
            self._input_shape = layer.shape
            self._dtype = layer.dtype
            return
        if not self.layers and self._input_shape is None and layer._declared_input_shape:
            self._input_shape = layer._declared_input_shape[1:]
        self.layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build((None, *self._input_shape))

    def build(self, input_shape):
        """Build every layer in turn, threading the shape through."""
        shape = tuple(input_shape)
        self._input_shape = shape[1:]
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif layer.input_shape[1:] != shape[1:]:
                raise ValueError(f"layer '{layer.name}' was built for input {layer.input_shape}, "
                                 f"but the model gives it {shape}")
            shape = layer.compute_output_shape(shape)
        self.built = True
        return shape

    @property
    def dtype(self):
        return self.layers[0].dtype if self.layers else backend.standardize_dtype(None)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers are {[l.name for l in self.layers]}")

    def _index(self, layer, what):
        """A layer given as an index, a name or the layer itself -> its index."""
        if isinstance(layer, (int, np.integer)):
            if not -len(self.layers) <= layer < len(self.layers):
                raise ValueError(f"{what}={layer} is out of range for a model of "
                                 f"{len(self.layers)} layers")
            return int(layer) % len(self.layers)
        for i, candidate in enumerate(self.layers):
            if candidate is layer or candidate.name == layer:
                return i
        raise ValueError(f"{what}: no layer {layer!r} in model '{self.name}'; layers are "
                         f"{[l.name for l in self.layers]}")

    # -- the two passes ----------------------------------------------------------
    def prepare_input(self, x):
        """x as an array of the model's dtype, checked against the input shape
        (the model is built on first use)."""
        if not self.layers:
            raise ValueError(f"Model '{self.name}' has no layers")
        x = checks.as_float_input(x, self.dtype)
        if not self.built:
            self.build((None, *x.shape[1:]))
        checks.check_input_shape(x, self._input_shape, self.name)
        return x

    def forward(self, x, training=False, upto=None):
        """Run the layers in turn; returns the output of the last one, or of layer
        ``upto`` (an index, a name or the layer) to stop there."""
        x = self.prepare_input(x)
        last = len(self.layers) - 1 if upto is None else self._index(upto, "upto")
        for layer in self.layers[:last + 1]:
            x = layer.forward(x, training=training)
        return x

    __call__ = forward

    def layer_outputs(self, x, training=False):
        """Every layer's output for input x, as a list of ``(layer, array)`` pairs."""
        x = self.prepare_input(x)
        outputs = []
        for layer in self.layers:
            x = layer.forward(x, training=training)
            outputs.append((layer, x))
        return outputs

    def backward(self, dy, from_logits=False, upto=None, down_to=None, compute_dx=True):
        """Backpropagate dy = dL/d(output of layer ``upto``, default the last) down
        through the layers; fills every visited layer's ``grads``.

        Returns dL/d(model input), or dL/d(output of layer ``down_to``) when
        given (the layers above it are visited). ``from_logits``: dy is the
        gradient of the top layer's pre-activation (its softmax logits, say).
        ``compute_dx=False``: nobody needs the gradient below the lowest trained
        layer, so the pass stops there and returns None (what training does).
        """
        dy = np.asarray(dy, dtype=self.dtype)
        top = len(self.layers) - 1 if upto is None else self._index(upto, "upto")
        bottom = 0 if down_to is None else self._index(down_to, "down_to") + 1
        if not compute_dx:
            bottom = max(bottom, self._lowest_trained_layer())
        for i in range(top, bottom - 1, -1):
            dy = self.layers[i].backward(dy, from_logits=from_logits and i == top,
                                         compute_dx=compute_dx or i > bottom)
        return dy if compute_dx else None

    def _lowest_trained_layer(self):
        return next((i for i, layer in enumerate(self.layers)
                     if layer.trainable and layer.params), len(self.layers))

    # -- weights -----------------------------------------------------------------
    def _trainable_slots(self):
        """``(layer, key)`` for every trained weight, in ``trainable_weights`` order."""
        return [(layer, key) for layer in self.layers if layer.trainable for key in layer.params]

    @property
    def trainable_weights(self):
        return [layer.params[key] for layer, key in self._trainable_slots()]

    @property
    def gradients(self):
        """The gradients of the last ``backward`` in this thread, aligned with
        ``trainable_weights``."""
        return [layer.grads[key] for layer, key in self._trainable_slots()]

    @gradients.setter
    def gradients(self, values):
        for (layer, key), value in zip(self._trainable_slots(), values, strict=True):
            layer.grads[key] = value

    @property
    def non_trainable_weights(self):
        frozen = [l.params[k] for l in self.layers if not l.trainable for k in l.params]
        return frozen + [v for l in self.layers for v in l.state.values()]

    @property
    def weights(self):
        return [w for layer in self.layers for w in
                (layer.params.get(k, layer.state.get(k)) for k in layer.weight_keys())]

    def get_weights(self):
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        weights = list(weights)
        expected = sum(len(layer.weight_keys()) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} weight arrays, "
                             f"received {len(weights)}")
        for layer in self.layers:
            n = len(layer.weight_keys())
            layer.set_weights(weights[:n])
            weights = weights[n:]

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    # -- compile, regularization, constraints --------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.metrics = [metrics_module.resolve(m, self.loss) for m in (metrics or [])]

    @property
    def output_activation(self):
        """The activation of the last layer ("softmax", "relu", ...), or None."""
        return getattr(self.layers[-1], "activation", None) if self.layers else None

    @property
    def output_logits(self):
        """The last layer's pre-softmax values of the last forward pass (or None)."""
        return getattr(self.layers[-1], "logits", None)

    @property
    def losses(self):
        """The regularization penalty of every layer, one float each (Keras's
        ``model.losses``); training adds their sum to the loss."""
        return [layer.regularization_loss() for layer in self.layers]

    def regularization_loss(self):
        return sum(self.losses)

    def add_regularization_gradients(self):
        """Add each penalty's gradient to the ``grads`` of the trained layers."""
        for layer in self.layers:
            if layer.trainable:
                layer.add_regularization_grads()

    def apply_constraints(self):
        """Project the trained weights back onto their constraints (after an update)."""
        for layer in self.layers:
            if layer.trainable:
                layer.apply_constraints()

    # -- inspection and persistence ------------------------------------------------------
    def summary(self, print_fn=print):
        """Print the Keras-style table: layer (type), output shape, parameter count."""
        for line in summary_lines(self):
            print_fn(line)

    def get_config(self):
        return {"name": self.name, "layers": [serialize(layer) for layer in self.layers],
                "input_shape": None if self._input_shape is None else list(self._input_shape)}

    def save(self, path):
        """Write the model to one ``.npz`` file (see ``minicnn.saving``)."""
        save_model(self, path)
