"""MaxPooling2D and AveragePooling2D: a window slides over each channel.

Max pooling keeps the largest value of each window and, going back, hands the
whole upstream gradient to that one cell (the first maximum if several tie).
Average pooling keeps the mean and spreads the gradient evenly. With
``padding="same"`` the padded cells never count: max pads with -inf and the
average divides by the number of real cells, as TensorFlow does.
"""
from .. import kernels
from ..kernels.geometry import conv_geometry
from .base import Layer, as_pair, normalize_padding


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        self.pool_size = as_pair(pool_size, "pool_size", owner)
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides", owner)
        self.padding = normalize_padding(padding, owner, allow_explicit=False)

    def _geometry(self, hw):
        pads, (oh, ow) = conv_geometry(hw, self.pool_size, self.strides, (1, 1), self.padding)
        if oh < 1 or ow < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': pool_size {self.pool_size} "
                             f"does not fit input {hw[0]}x{hw[1]} with padding '{self.padding}'")
        return pads, (oh, ow)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        if h is None or w is None:
            return (n, None, None, c)
        _, (oh, ow) = self._geometry((h, w))
        return (n, oh, ow, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        pads, _ = self._geometry(x.shape[1:3])
        y, argmax = kernels.maxpool_forward(x, *self.pool_size, *self.strides, pads)
        self._cache = {"argmax": argmax, "x_shape": x.shape, "pads": pads}
        return y                                                 # (N, OH, OW, C)

    def backward(self, dy):
        c = self._cache
        return kernels.maxpool_backward(dy, c["argmax"], c["x_shape"], *self.pool_size,
                                        *self.strides, c["pads"])


class AveragePooling2D(_Pooling2D):
    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        pads, _ = self._geometry(x.shape[1:3])
        self._cache = {"x_shape": x.shape, "pads": pads}
        return kernels.avgpool_forward(x, *self.pool_size, *self.strides, pads)

    def backward(self, dy):
        c = self._cache
        return kernels.avgpool_backward(dy, c["x_shape"], *self.pool_size, *self.strides,
                                        c["pads"])


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
