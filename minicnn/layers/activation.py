"""Layers that only apply a function: Activation, ReLU, Softmax.

(LeakyReLU, ELU and PReLU are in advanced_activations.py.)

Also ``ActivationMixin``, the fused ``activation=`` argument of Conv2D and
Dense: the layer keeps its output y in its cache for the backward rule, and,
when the activation is softmax, its pre-activation logits z so that a
cross-entropy loss can use the exact ``(softmax - t) / N`` gradient (Keras does
the same).
"""
import numpy as np

from .. import activations
from .base import Layer, check_number


class ActivationMixin:
    """Forward and backward of a layer's ``activation=`` argument."""

    @property
    def activation(self):
        """The activation's name, "linear" for none."""
        return self._activation

    @activation.setter
    def activation(self, value):
        # Normalized on every assignment, so ``layer.activation = None`` means linear
        # (as in Keras) and a wrong name fails here, not at the next forward.
        self._activation = activations.get(value, self.owner)

    def _activate(self, z, applied=False):
        """y = activation(z), kept in the cache with, for softmax, the logits z.

        ``applied``: a fused kernel already applied the activation (z is y)."""
        y = z if applied else activations.FORWARD[self.activation](z)
        self.cache["y"] = y
        self.cache["logits"] = z if self.activation == "softmax" else None
        # gelu, swish, softplus, ... differentiate from z itself (activations.NEEDS_Z)
        self.cache["z"] = z if self.activation in activations.NEEDS_Z else None
        return y

    def _activation_backward(self, dy, from_logits=False):
        """dL/dz from dL/dy; with ``from_logits`` dy already is dL/dz (fused loss)."""
        if from_logits or self.activation == "linear":
            return dy
        return activations.BACKWARD[self.activation](dy, self.cache["y"], self.cache.get("z"))

    @property
    def logits(self):
        """The pre-softmax values of the last forward pass in this thread (softmax only)."""
        return self.cache.get("logits")


class Activation(ActivationMixin, Layer):
    """Apply a named activation: ``Activation("relu")``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation

    def forward(self, x, training=False):
        self.cache = {}
        return self._activate(self.check_input(x))

    def backward(self, dy, from_logits=False, compute_dx=True):
        return self._activation_backward(dy, from_logits)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Softmax(Activation):
    """Softmax over the last axis. ``axis`` may name it in any way Keras allows:
    -1, ``rank - 1`` or a one-element list; it is resolved against the rank of the
    input (at build and at every forward), and any other axis is an error."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__("softmax", **kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(isinstance(a, (int, np.integer)) for a in axes):
            raise ValueError(f"{self.owner}: axis must be an int or a list of ints, "
                             f"received axis={axis!r}")
        self.axis = axis

    def _check_axis(self, rank):
        """Raise unless ``axis`` is the last axis of a rank-``rank`` input."""
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        if any(not -rank <= a < rank for a in axes) or {a % rank for a in axes} != {rank - 1}:
            raise ValueError(f"{self.owner} supports the last axis only (axis=-1 or "
                             f"axis={rank - 1} for {rank}-D input), received "
                             f"axis={self.axis!r} for {rank}-D input")

    def build(self, input_shape):
        self._check_axis(len(input_shape))
        super().build(input_shape)

    def forward(self, x, training=False):
        self._check_axis(np.ndim(x))
        return super().forward(x, training)

    def get_config(self):
        config = super().get_config()
        del config["activation"]
        return {**config, "axis": self.axis}


class ReLU(Layer):
    """Keras ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:

        y = min(z, max_value)                  if z > threshold
        y = negative_slope * (z - threshold)   otherwise (so 0 at z == threshold)

    Its slope is 1 above the threshold (0 beyond max_value) and negative_slope
    below it. At the two kinks, where the slope is undefined, backward returns
    what Keras on TensorFlow computes (``tf.GradientTape``, Keras 3.15, TF 2.21):

        at z == threshold:  0, or negative_slope for the leaky ReLU without a
                            max_value and threshold 0 (Keras calls tf.nn.leaky_relu)
        at z == max_value:  1, or 0 for max_value 6 with threshold 0 (Keras
                            calls tf.nn.relu6)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        def at_least_0(name, value):                    # what Keras requires of all three
            check_number(self.owner, name, value, "a float >= 0", lambda v: v >= 0)
        if max_value is not None:
            at_least_0("max_value", max_value)
        at_least_0("negative_slope", negative_slope)
        at_least_0("threshold", threshold)
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
        y = np.where(x > t, x, self.dtype.type(self.negative_slope) * (x - t))
        if self.max_value is not None:
            y = np.minimum(y, self.dtype.type(self.max_value))
        return y.astype(self.dtype, copy=False)

    def backward(self, dy, from_logits=False, compute_dx=True):
        if from_logits:                        # dy is already the gradient of the input
            return dy
        if self._is_plain():
            return activations.relu_backward(dy, self.cache["y"])
        return dy * self._slope(self.cache["x"])

    def _slope(self, x):
        """dy/dx at every x, with Keras-on-TensorFlow's values at the kinks (see above)."""
        t = self.dtype.type(self.threshold)
        slope = np.where(x > t, 1, self.negative_slope).astype(self.dtype)
        leaky = self.max_value is None and self.threshold == 0
        if not leaky:
            slope[x == t] = 0
        if self.max_value is not None:
            m = self.dtype.type(self.max_value)
            relu6 = self.threshold == 0 and self.max_value == 6
            slope[(x > t) & ((x >= m) if relu6 else (x > m))] = 0
        return slope

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
