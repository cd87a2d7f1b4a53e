"""Activation layers with a parameter: LeakyReLU, ELU, and PReLU (which learns it).

    LeakyReLU(k)  y = z if z > 0 else k * z                 dz = dy * (1 if z > 0 else k)
    ELU(a)        y = z if z > 0 else a * (e^z - 1)         dz = dy * (1 if z > 0 else y + a)
    PReLU         y = z if z > 0 else alpha * z             dz = dy * (1, alpha or 0)
                                                            dalpha = sum of dy * min(z, 0)

At z = 0 the slopes are TensorFlow's: k for LeakyReLU, a for ELU, and 0 for
PReLU (Keras writes it as relu(z) - alpha * relu(-z), and both ReLUs have
slope 0 at 0). PReLU's ``alpha`` has the input's shape without the batch
axis, with size 1 on each of ``shared_axes`` (``shared_axes=[1, 2]``: one
alpha per channel of an NHWC map); its gradient sums over the batch and the
shared axes.
"""
import numpy as np

from .. import activations
from .base import Layer, check_number


class LeakyReLU(Layer):
    """Keras 3's ``LeakyReLU(negative_slope=0.3)`` (its old name ``alpha`` too)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        negative_slope = kwargs.pop("alpha", negative_slope)         # Keras 2's name
        super().__init__(**kwargs)
        self.negative_slope = check_number(self.owner, "negative_slope", negative_slope,
                                           "a float >= 0", lambda v: v >= 0)

    def forward(self, x, training=False):
        x = self.check_input(x)
        y = activations.leaky_relu(x, self.negative_slope)
        self.cache = {"y": y}
        return y

    def backward(self, dy, from_logits=False, compute_dx=True):
        if from_logits:
            return dy
        return activations.leaky_relu_backward(dy, self.cache["y"],
                                               negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """Keras 3's ``ELU(alpha=1.0)``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number(self.owner, "alpha", alpha, "a real number", lambda v: True)

    def forward(self, x, training=False):
        x = self.check_input(x)
        y = activations.elu(x, self.alpha)
        self.cache = {"y": y}
        return y

    def backward(self, dy, from_logits=False, compute_dx=True):
        if from_logits:
            return dy
        return activations.elu_backward(dy, self.cache["y"], alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU: a learned slope ``alpha`` for the negative side."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and not all(
                isinstance(a, (int, np.integer)) and a >= 1 for a in shared_axes):
            raise ValueError(f"{self.owner}: shared_axes must be None or non-batch axes "
                             f"(ints >= 1), received shared_axes={shared_axes!r}")
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]
        self.set_weight_options(alpha_initializer=alpha_initializer,
                                alpha_regularizer=alpha_regularizer,
                                alpha_constraint=alpha_constraint)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis >= len(input_shape):
                raise ValueError(f"{self.owner}: shared_axes={self.shared_axes} names axis "
                                 f"{axis}, received {len(input_shape)}-D input shape "
                                 f"{tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{self.owner} needs every non-shared axis known, received "
                             f"input shape {tuple(input_shape)}; share the unknown axes")
        self.add_weight("alpha", tuple(shape), self.alpha_initializer,
                        self.alpha_regularizer, self.alpha_constraint)
        super().build(input_shape)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=len(self.input_shape))
        alpha = self.params["alpha"]                      # broadcasts over batch, shared axes
        self.cache = {"x": x}
        return np.where(x > 0, x, alpha * x).astype(self.dtype, copy=False)

    def backward(self, dy, from_logits=False, compute_dx=True):
        x, alpha = self.cache["x"], self.params["alpha"]
        zero = self.dtype.type(0)
        dalpha = dy * np.minimum(x, zero)                   # (N, *input_shape[1:])
        broadcast = (0,) + tuple(a + 1 for a in range(alpha.ndim) if alpha.shape[a] == 1
                                 and x.shape[a + 1] != 1)
        self.grads["alpha"] = dalpha.sum(axis=broadcast, keepdims=True).reshape(alpha.shape)
        if not compute_dx:
            return None
        slope = np.where(x > 0, self.dtype.type(1), np.where(x < 0, alpha, zero))
        return (dy * slope).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "shared_axes": self.shared_axes}
