"""Dense, Flatten, Dropout, ZeroPadding2D and the Input declaration."""
import numpy as np

from .. import activations, backend, kernels
from .activation import ActivationMixin
from .base import Layer, normalize_padding


class InputLayer(Layer):
    """Declares the input shape (without the batch axis): ``Input(shape=(28, 28, 1))``."""

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, **kwargs):
        shape = kwargs.pop("input_shape", shape)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is None or any(not isinstance(d, (int, np.integer, type(None))) or
                                (d is not None and d < 1) for d in shape):
            raise ValueError(f"Input: shape must be a tuple of positive ints, received {shape!r}")
        self.shape = tuple(shape)
        self.batch_size = batch_size

    def forward(self, x, training=False):
        return x

    def backward(self, dy, from_logits=False, compute_dx=True):
        return dy

    def get_config(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype.name}


def Input(shape=None, batch_size=None, name=None, dtype=None):
    """Keras-style ``Input(shape=...)`` for the start of a ``Sequential``."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype)


class Dense(ActivationMixin, Layer):
    """y = activation(x @ W + b) on the last axis; W is (in, units) as in Keras."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"Dense '{self.name}'"
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"{owner}: units must be a positive int, received units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation, owner)
        self.use_bias = bool(use_bias)
        self.set_weight_options(kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense '{self.name}' needs inputs with a known last axis, "
                             f"received shape {tuple(input_shape)}")
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            self.bias_regularizer, self.bias_constraint)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        x = self.check_input(x)
        if x.ndim < 2 or x.shape[-1] != self.params["kernel"].shape[0]:
            raise ValueError(f"Dense '{self.name}' expects input with last axis "
                             f"{self.params['kernel'].shape[0]}, received shape {x.shape}")
        x2 = x.reshape(-1, x.shape[-1])                      # (rows, in)
        z = kernels.matmul(x2, self.params["kernel"])        # (rows, units)
        if self.use_bias:
            z += self.params["bias"]
        self.cache = {"x2": x2, "x_shape": x.shape}
        return self._activate(z).reshape(*x.shape[:-1], self.units)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy.reshape(-1, self.units), from_logits)  # (rows, units)
        self.grads["kernel"] = kernels.matmul_tn(self.cache["x2"], dz)   # x.T @ dz: (in, units)
        if self.use_bias:
            self.grads["bias"] = kernels.column_sums(dz)       # dz.sum(axis=0)
        if not compute_dx:
            return None
        dx = kernels.matmul(dz, self.params["kernel"].T)     # (rows, in)
        return dx.reshape(self.cache["x_shape"])

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias}


class Flatten(Layer):
    """(N, H, W, C) -> (N, H*W*C), row-major over H, W, C as Keras does."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def forward(self, x, training=False):
        x = self.check_input(x)
        self.cache = {"x_shape": x.shape}
        return x.reshape(x.shape[0], -1)                     # (N, H*W*C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        return dy.reshape(self.cache["x_shape"])


class Dropout(Layer):
    """Inverted dropout: at training time zero a fraction ``rate`` of the units and
    scale the rest by ``1 / (1 - rate)``, so inference needs no change."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout '{self.name}': rate must be in [0, 1), "
                             f"received rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _make_mask(self, shape):
        rng = self._rng if self._rng is not None else backend.rng()
        if self.noise_shape is not None:     # None entries follow the input (Keras)
            shape = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        return rng.random(shape, dtype=np.float64) >= self.rate

    def forward(self, x, training=False, mask=None):
        """``mask`` (bool, broadcastable to x) replaces the random draw, for tests."""
        x = self.check_input(x)
        if not training or self.rate == 0:
            self.cache = {"scaled_mask": None}
            return x
        keep = self._make_mask(x.shape) if mask is None else np.asarray(mask, dtype=bool)
        # TensorFlow scales first, then masks: y = (x * 1/(1-rate)) * keep
        scaled_mask = np.where(keep, self.dtype.type(1 / (1 - self.rate)), self.dtype.type(0))
        self.cache = {"scaled_mask": scaled_mask}
        return x * scaled_mask

    def backward(self, dy, from_logits=False, compute_dx=True):
        scaled_mask = self.cache["scaled_mask"]
        return dy if scaled_mask is None else dy * scaled_mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros: ``padding`` is an int, (h, w) or ((t, b), (l, r))."""

    def __init__(self, padding=(1, 1), **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
                isinstance(p, (int, np.integer)) for p in padding):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = normalize_padding(padding, f"ZeroPadding2D '{self.name}'")
        if isinstance(self.padding, str):
            raise ValueError(f"ZeroPadding2D '{self.name}': padding must be ints, "
                             f"received {padding!r}")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        (t, b), (l, r) = self.padding
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))

    def backward(self, dy, from_logits=False, compute_dx=True):
        (t, b), (l, r) = self.padding
        return dy[:, t:dy.shape[1] - b, l:dy.shape[2] - r, :]

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}
