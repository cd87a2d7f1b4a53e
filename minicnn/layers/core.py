"""Dense, Flatten, Dropout, ZeroPadding2D and the Input declaration."""
import math

import numpy as np

from .. import backend, kernels, parallel
from .activation import ActivationMixin
from .base import (KernelBias, Layer, check_data_format, check_keras_only, check_number,
                   is_positive_int, normalize_padding, positive_int)


class InputLayer(Layer):
    """Declares the input shape (without the batch axis): ``Input(shape=(28, 28, 1))``,
    or with it: ``Input(batch_shape=(None, 28, 28, 1))``. Sparse, ragged, optional
    inputs and ``input_tensor`` are Keras features minicnn does not have."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        shape = kwargs.pop("input_shape", shape)                  # Keras's old names
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        integer = dtype is not None and np.dtype(dtype).kind in "iu"   # token ids for Embedding
        super().__init__(name=name, dtype=None if integer else dtype, **kwargs)
        if integer:
            self.dtype = check_keras_only(self.owner, "dtype", np.dtype(dtype).name,
                                          ("int32", "int64"))
            self.dtype = np.dtype(self.dtype)
        for arg, value, supported in (("sparse", sparse, (None, False)),
                                      ("ragged", ragged, (None, False)),
                                      ("input_tensor", input_tensor, (None,)),
                                      ("optional", optional, (False,))):
            check_keras_only(self.owner, arg, value, supported)
        if batch_shape is not None:                                # as Keras checks
            if shape is not None or batch_size is not None:
                raise ValueError(f"{self.owner}: pass either batch_shape or shape (and "
                                 f"batch_size), received batch_shape={batch_shape!r}, "
                                 f"shape={shape!r}, batch_size={batch_size!r}")
            batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
        if shape is None or any(not isinstance(d, (int, np.integer, type(None))) or
                                (d is not None and d < 1) for d in shape):
            raise ValueError(f"{self.owner}: shape must be a tuple of positive ints, "
                             f"received {shape!r}")
        self.shape = tuple(shape)
        self.batch_size = batch_size
        # An Input is a node with no inputs; its one output is the graph's start.
        from ..graph import Node
        self.build((batch_size, *self.shape))
        self.__dict__["_inbound_nodes"] = [Node(self, [], False, [self.input_shape], False)]

    def forward(self, x, training=False):
        return x

    def backward(self, dy, from_logits=False, compute_dx=True):
        return dy

    def get_config(self):
        """Keras's InputLayer config: ``batch_shape`` (batch axis first), dtype, ..."""
        return {"name": self.name, "batch_shape": [self.batch_size, *self.shape],
                "dtype": self.dtype.name, "sparse": False, "ragged": False, "optional": False}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """Keras's ``Input(shape=...)``: the symbolic tensor a functional graph starts
    from (shape ``(None, *shape)``); it can also start a ``Sequential``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                      ragged=ragged, batch_shape=batch_shape, input_tensor=tensor,
                      optional=optional, name=name).output


class Dense(KernelBias, ActivationMixin, Layer):
    """y = activation(x @ W + b) on the last axis; W is (in, units) as in Keras."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = positive_int(self.owner, "units", units)
        # LoRA and quantization are Keras features minicnn does not have; lora_alpha
        # does nothing without lora_rank (in Keras too), so any value is accepted.
        self.lora_rank = check_keras_only(self.owner, "lora_rank", lora_rank, (None,))
        self.lora_alpha = lora_alpha
        self.quantization_config = check_keras_only(self.owner, "quantization_config",
                                                    quantization_config, (None,))
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer, kernel_constraint,
                                bias_constraint)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{self.owner} needs inputs with a known last axis, "
                             f"received shape {tuple(input_shape)}")
        self.add_kernel_and_bias((input_shape[-1], self.units), self.units)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        x = self.check_input(x)
        if x.ndim < 2 or x.shape[-1] != self.params["kernel"].shape[0]:
            raise ValueError(f"{self.owner} expects input with last axis "
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
                "use_bias": self.use_bias, "quantization_config": self.quantization_config}


class Flatten(Layer):
    """(N, H, W, C) -> (N, H*W*C), row-major over H, W, C as Keras does."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(self.owner, data_format)

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

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class DropoutDraw:
    """One Dropout layer's random draw for a batch: a 64-bit key, the mask's shape, and
    where these rows start in the batch's mask (counted in elements, C order).

    The decisions come from a counter-based stream (``kernels.reference.dropout_keep``):
    element i depends on (key, i) alone. So a worker computes its own rows with
    ``draw[start:stop]`` and gets what the whole batch would have had, and backward
    recomputes the mask instead of storing it."""

    def __init__(self, key, shape, rate, start=0):
        self.key, self.shape, self.rate, self.start = np.uint64(key), tuple(shape), rate, start
        self.threshold = min(math.ceil(rate * 2 ** 32), 2 ** 32)   # kept: top 32 bits >= this

    def __getitem__(self, rows):
        """The draw of rows ``rows.start:rows.stop`` (a slice along the batch axis)."""
        first, stop, _ = rows.indices(self.shape[0])
        per_row = math.prod(self.shape[1:])
        return DropoutDraw(self.key, (stop - first, *self.shape[1:]), self.rate,
                           self.start + first * per_row)

    def keep(self):
        """The keep-decisions as a bool array of ``shape``."""
        size = math.prod(self.shape)
        return kernels.reference.dropout_keep(self.key, self.start, size,
                                              self.threshold).reshape(self.shape)


class Dropout(Layer):
    """Inverted dropout: at training time zero a fraction ``rate`` of the units and
    scale the rest by ``1 / (1 - rate)``, so inference needs no change.

    ``noise_shape`` (one entry per input axis, None: the input's size) draws one
    decision per slice: ``noise_shape=(None, 1, 1, None)`` keeps or drops whole
    feature maps. Keras also accepts ``rate=1`` (every unit dropped, no gradient
    flows); minicnn refuses it as the mistake it almost surely is."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(check_number(self.owner, "rate", rate, "a float in [0, 1)",
                                       lambda r: 0 <= r < 1))
        self.noise_shape = self._check_noise_shape(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _check_noise_shape(self, noise_shape):
        """None, or a tuple of positive ints and Nones (what Keras accepts)."""
        if noise_shape is None:
            return None
        iterable = hasattr(noise_shape, "__iter__") and not isinstance(noise_shape, str)
        dims = tuple(noise_shape) if iterable else ()
        if not iterable or not all(d is None or is_positive_int(d) for d in dims):
            raise ValueError(f"{self.owner}: noise_shape must be a tuple of positive ints "
                             f"and Nones, received noise_shape={noise_shape!r}")
        return tuple(None if d is None else int(d) for d in dims)

    def _noise_shape_for(self, shape):
        """The shape of the mask for an input of ``shape``: ``noise_shape`` with its Nones
        filled in, checked to broadcast (Keras's rule), or the input's shape."""
        if self.noise_shape is None:
            return tuple(shape)
        noise = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        if len(self.noise_shape) != len(shape) or any(n not in (1, s) for n, s in zip(noise, shape)):
            raise ValueError(f"{self.owner}: noise_shape={self.noise_shape} does not fit input "
                             f"shape {tuple(shape)} (one entry per axis, each 1, None or the "
                             f"input's size)")
        return noise

    def _draw(self, shape):
        """A fresh ``DropoutDraw`` (one key from the layer's or the shared generator) for
        an input of ``shape``."""
        rng = self._rng if self._rng is not None else backend.rng()
        key = rng.integers(0, 2 ** 64, dtype=np.uint64)
        return DropoutDraw(key, self._noise_shape_for(shape), self.rate)

    def draw_batch_noise(self, rows):
        """The draw of a whole batch, made before the batch is split (a key: each worker
        then computes its own rows' decisions)."""
        if self.rate == 0:
            return None
        return self._draw((rows, *self.input_shape[1:]))

    def forward(self, x, training=False, mask=None):
        """``mask`` (bool, broadcastable to x) replaces the random draw, for tests."""
        x = self.check_input(x)
        if not training or self.rate == 0:
            self.cache = {"scale": None}
            return x
        scale = self.dtype.type(1 / (1 - self.rate))
        if mask is None:
            shard = parallel.current()
            split = shard is not None and self in shard.group.noise
            draw = shard.batch_noise(self) if split else self._draw(x.shape)   # this shard's rows
            self._noise_shape_for(x.shape)               # the input must fit noise_shape
            if draw.shape == x.shape:                    # one decision per element: fused
                self.cache = {"scale": scale, "draw": draw}
                return kernels.dropout_apply(x, draw.key, draw.start, draw.threshold, scale)
            mask = draw.keep()                           # (noise shape), broadcast below
        # TensorFlow scales first, then masks: y = (x * 1/(1-rate)) * keep
        scaled_mask = np.where(np.asarray(mask, dtype=bool), scale, self.dtype.type(0))
        self.cache = {"scale": scale, "scaled_mask": scaled_mask}
        return x * scaled_mask

    def backward(self, dy, from_logits=False, compute_dx=True):
        cache = self.cache
        if cache["scale"] is None:
            return dy
        if "draw" in cache:                              # the same decisions, hashed again
            draw = cache["draw"]
            return kernels.dropout_apply(dy, draw.key, draw.start, draw.threshold, cache["scale"])
        return dy * cache["scaled_mask"]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros: ``padding`` is an int, (h, w) or ((t, b), (l, r))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, str):
            raise ValueError(f"{self.owner}: padding must be an int, (h, w) or "
                             f"((top, bottom), (left, right)), received {padding!r}")
        self.padding = normalize_padding(padding, self.owner)
        self.data_format = check_data_format(self.owner, data_format)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        (t, b), (l, r) = self.padding
        n, h, w, c = x.shape
        y = np.zeros((n, h + t + b, w + l + r, c), dtype=x.dtype)  # (N, H+t+b, W+l+r, C)
        y[:, t:t + h, l:l + w, :] = x            # what np.pad does, in a fifth of the time
        return y

    def backward(self, dy, from_logits=False, compute_dx=True):
        (t, b), (l, r) = self.padding
        return dy[:, t:dy.shape[1] - b, l:dy.shape[2] - r, :]

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding],
                "data_format": self.data_format}
