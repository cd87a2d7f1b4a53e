"""Layers that only apply a function: Activation, ReLU, Softmax.

Also ``ActivationMixin``, the fused ``activation=`` argument of Conv2D and
Dense: the layer keeps its output y in its cache for the backward rule, and,
when the activation is softmax, its pre-activation logits z so that a
cross-entropy loss can use the exact ``(softmax - t) / N`` gradient (Keras does
the same).
"""
import numpy as np

from .. import activations
from .base import Layer


class ActivationMixin:
    """Forward and backward of a layer's ``activation=`` argument."""

    def _activate(self, z, applied=False):
        """y = activation(z), kept in the cache with, for softmax, the logits z.

        ``applied``: a fused kernel already applied the activation (z is y)."""
        y = z if applied else activations.FORWARD[self.activation](z)
        self.cache["y"] = y
        self.cache["logits"] = z if self.activation == "softmax" else None
        return y

    def _activation_backward(self, dy, from_logits=False):
        """dL/dz from dL/dy; with ``from_logits`` dy already is dL/dz (fused loss)."""
        if from_logits or self.activation == "linear":
            return dy
        return activations.BACKWARD[self.activation](dy, self.cache["y"])

    @property
    def logits(self):
        """The pre-softmax values of the last forward pass in this thread (softmax only)."""
        return self.cache.get("logits")


class Activation(ActivationMixin, Layer):
    """Apply a named activation: ``Activation("relu")``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, f"Activation '{self.name}'")

    def forward(self, x, training=False):
        self.cache = {}
        return self._activate(self.check_input(x))

    def backward(self, dy, from_logits=False, compute_dx=True):
        return self._activation_backward(dy, from_logits)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Softmax(Activation):
    """Softmax over the last axis."""

    def __init__(self, axis=-1, **kwargs):
        if axis != -1:
            raise ValueError(f"Softmax supports axis=-1 only, received axis={axis!r}")
        super().__init__("softmax", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["activation"]
        return {**config, "axis": -1}


class ReLU(Layer):
    """Keras ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:

        y = max_value                          if z >= max_value
        y = z                                  if threshold <= z < max_value
        y = negative_slope * (z - threshold)   otherwise
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU '{self.name}': max_value must be >= 0, received {max_value!r}")
        if negative_slope < 0:
            raise ValueError(f"ReLU '{self.name}': negative_slope must be >= 0, "
                             f"received {negative_slope!r}")
        if threshold is None or threshold < 0:   # Keras rejects these too
            raise ValueError(f"ReLU '{self.name}': threshold must be >= 0, "
                             f"received threshold={threshold!r}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def _is_plain(self):
        return self.max_value is None and self.negative_slope == 0 and self.threshold == 0

    def forward(self, x, training=False):
        x = self.check_input(x)
        if self._is_plain():
            y = np.maximum(x, 0)
            self.cache = {"y": y}
            return y
        self.cache = {"x": x}
        t = self.dtype.type(self.threshold)
        y = np.where(x >= t, x, self.dtype.type(self.negative_slope) * (x - t))
        if self.max_value is not None:
            y = np.minimum(y, self.dtype.type(self.max_value))
        return y.astype(self.dtype, copy=False)

    def backward(self, dy, from_logits=False, compute_dx=True):
        if from_logits:                        # dy is already the gradient of the input
            return dy
        if self._is_plain():
            return activations.relu_backward(dy, self.cache["y"])
        x = self.cache["x"]
        slope = np.where(x >= self.threshold, 1, self.negative_slope).astype(self.dtype)
        if self.max_value is not None:
            slope = np.where(x >= self.max_value, 0, slope).astype(self.dtype)
        return dy * slope

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
