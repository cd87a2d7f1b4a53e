"""MaxPooling1D and AveragePooling1D: 2-D pooling over a 1 x L image.

x (N, L, C) is seen as (N, 1, L, C) and pooled with a 1 x pool_size window
moved 1 x strides; the 2-D pooling kernels do the rest (max pads with -inf,
the average counts only real cells, as TensorFlow). With L steps, pool p and
stride s: "valid" gives (L - p) // s + 1 steps, "same" gives ceil(L / s).
"""
from .. import kernels
from .base import Layer, check_data_format
from .conv1d import as_single, padding_1d, window_1d


class Pooling1D(Layer):
    """What max and average 1-D pooling share: a ``pool_size`` window moved by
    ``strides`` (default: the pool size) along the steps of each channel."""

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        owner = self.owner
        self.pool_size = as_single(pool_size, "pool_size", owner)
        self.strides = self.pool_size if strides is None else as_single(strides, "strides", owner)
        self.padding = padding_1d(padding, owner, allow_causal=False)
        self.data_format = check_data_format(owner, data_format)

    def window(self, length=None):
        """The 2-D ``Window`` this layer slides over a 1 x ``length`` image."""
        length = self.input_shape[1] if length is None else length
        return window_1d(length, self.pool_size, self.strides, (1,), self.padding, self.owner)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.owner} expects 3-D (batch, steps, channels) input, "
                             f"received shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, length, c = input_shape
        return (n, None if length is None else self.window(length).output_hw[1], c)

    def _as_image(self, x):
        """x (N, L, C) -> (N, 1, L, C) and its window."""
        x = self.check_input(x, rank=3)
        n, length, c = x.shape
        return x.reshape(n, 1, length, c), self.window(length)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling1D(Pooling1D):
    """The largest value of each window of ``pool_size`` steps: (N, L, C) -> (N, OL, C),
    computed as a 1 x L image by the 2-D max-pooling kernels."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def forward(self, x, training=False):
        x4, window = self._as_image(x)                       # (N, 1, L, C)
        y4, argmax = kernels.maxpool_forward(x4, window)     # both (N, 1, OL, C)
        self.cache = {"argmax": argmax, "x_shape": x4.shape, "window": window}
        return y4[:, 0]                                      # (N, OL, C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        c = self.cache
        dx4 = kernels.maxpool_backward(dy[:, None], c["argmax"], c["x_shape"],
                                       c["window"])          # (N, 1, L, C)
        return dx4[:, 0]                                     # (N, L, C)


class AveragePooling1D(Pooling1D):
    """The mean of each window of ``pool_size`` steps: (N, L, C) -> (N, OL, C),
    computed as a 1 x L image by the 2-D average-pooling kernels."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):                     # pool_size has no default, as in Keras
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def forward(self, x, training=False):
        x4, window = self._as_image(x)                       # (N, 1, L, C)
        self.cache = {"x_shape": x4.shape, "window": window}
        return kernels.avgpool_forward(x4, window)[:, 0]     # (N, 1, OL, C) -> (N, OL, C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        c = self.cache
        return kernels.avgpool_backward(dy[:, None], c["x_shape"], c["window"])[:, 0]


MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
