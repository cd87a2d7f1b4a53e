"""MaxPooling2D and AveragePooling2D: a window slides over each channel.

Max pooling keeps the largest value of each window and, going back, hands the
whole upstream gradient to that one cell (the first maximum if several tie).
Average pooling keeps the mean and spreads the gradient evenly. With
``padding="same"`` the padded cells never count: max pads with -inf and the
average divides by the number of real cells, as TensorFlow does.
"""
from .. import kernels
from .base import Layer, as_pair, check_data_format, normalize_padding


class Pooling2D(Layer):
    """What max and average pooling share: a ``pool_size`` window moved by ``strides``
    (default: the pool size) over each channel."""

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        owner = self.owner
        self.pool_size = as_pair(pool_size, "pool_size", owner)
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides", owner)
        self.padding = normalize_padding(padding, owner, allow_explicit=False)
        self.data_format = check_data_format(owner, data_format)

    def window(self, hw=None):
        """The ``Window`` this layer slides over an input of height and width ``hw``
        (default: the size it was built for)."""
        hw = self.input_shape[1:3] if hw is None else hw
        return kernels.window(hw, self.pool_size, self.strides, (1, 1), self.padding,
                              owner=self.owner)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        if h is None or w is None:
            return (n, None, None, c)
        return (n, *self.window((h, w)).output_hw, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(Pooling2D):
    """The largest value of each ``pool_size`` window: (N, H, W, C) -> (N, OH, OW, C).

    ``strides`` defaults to ``pool_size`` (windows side by side); backward sends each
    output's gradient to the position of its window's maximum (the first one on a
    tie, as TensorFlow does). ``MaxPooling2D(2)`` halves 28x28 to 14x14."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        window = self.window(x.shape[1:3])
        y, argmax = kernels.maxpool_forward(x, window)          # both (N, OH, OW, C)
        self.cache = {"argmax": argmax, "x_shape": x.shape, "window": window}
        return y

    def backward(self, dy, from_logits=False, compute_dx=True):
        c = self.cache
        return kernels.maxpool_backward(dy, c["argmax"], c["x_shape"], c["window"])


class AveragePooling2D(Pooling2D):
    """The mean of each ``pool_size`` window: (N, H, W, C) -> (N, OH, OW, C).

    With ``padding="same"`` the mean is over the positions inside the input only
    (Keras's rule); backward spreads each output's gradient evenly over its window."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):                     # pool_size has no default, as in Keras
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        window = self.window(x.shape[1:3])
        self.cache = {"x_shape": x.shape, "window": window}
        return kernels.avgpool_forward(x, window)               # (N, OH, OW, C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        c = self.cache
        return kernels.avgpool_backward(dy, c["x_shape"], c["window"])


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
