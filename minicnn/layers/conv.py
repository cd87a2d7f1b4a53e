"""Conv2D: a convolution as one matrix product over unfolded patches (im2col).

Forward, for input x (N, H, W, C) and kernel W (kh, kw, C, F):

    cols = im2col(x)                  # (N*OH*OW, kh*kw*C): one receptive field a row
    z    = cols @ W.reshape(-1, F)    # (N*OH*OW, F)
    y    = activation(z + b)          # reshaped to (N, OH, OW, F)

Backward, given dy = dL/dy:

    dz   = activation'(dy)            # (N*OH*OW, F)
    dW   = cols.T @ dz                # (kh*kw*C, F) -> (kh, kw, C, F)
    db   = dz.sum(axis=0)             # (F,)
    dx   = col2im(dz @ W.T)           # (N*OH*OW, kh*kw*C) folded back to (N, H, W, C)

Like Keras this is a cross-correlation: the kernel is not flipped.
"""
import numpy as np

from .. import activations, kernels
from ..kernels.geometry import conv_geometry
from .activation import ActivationMixin
from .base import Layer, as_pair, normalize_padding


class Conv2D(ActivationMixin, Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"Conv2D '{self.name}'"
        if not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"{owner}: filters must be a positive int, received filters={filters!r}")
        self.filters = int(filters)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.strides = as_pair(strides, "strides", owner)
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported (as in Keras), received strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = normalize_padding(padding, owner)
        self.activation = activations.get(activation, owner)
        self.use_bias = bool(use_bias)
        self.set_weight_options(kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Conv2D '{self.name}' expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        kh, kw = self.kernel_size
        self.add_weight("kernel", (kh, kw, input_shape[-1], self.filters),
                        self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            self.bias_regularizer, self.bias_constraint)
        super().build(input_shape)

    def _geometry(self, hw):
        pads, (oh, ow) = conv_geometry(hw, self.kernel_size, self.strides,
                                       self.dilation_rate, self.padding)
        if oh < 1 or ow < 1:
            raise ValueError(f"Conv2D '{self.name}': kernel {self.kernel_size} with dilation "
                             f"{self.dilation_rate} does not fit input {hw[0]}x{hw[1]} with "
                             f"padding {self.padding!r}")
        return pads, (oh, ow)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        if h is None or w is None:
            return (n, None, None, self.filters)
        _, (oh, ow) = self._geometry((h, w))
        return (n, oh, ow, self.filters)

    def _is_pointwise(self, pads):
        """A 1x1, stride-1, unpadded conv needs no im2col: x already is cols."""
        return self.kernel_size == (1, 1) and self.strides == (1, 1) and not any(pads)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        n, h, w, c = x.shape
        pads, (oh, ow) = self._geometry((h, w))
        kh, kw = self.kernel_size
        if self._is_pointwise(pads):
            cols = x.reshape(n * h * w, c)                           # (N*H*W, C)
        else:
            cols = kernels.im2col(x, kh, kw, *self.strides, *self.dilation_rate, pads,
                                  out=self.scratch("cols", (n * oh * ow, kh * kw * c), x.dtype))
        kernel = self.params["kernel"].reshape(-1, self.filters)     # (kh*kw*C, F)
        z = kernels.matmul(cols, kernel)                             # (N*OH*OW, F)
        if self.use_bias and self.activation == "relu":
            y = kernels.bias_relu(z, self.params["bias"])            # fused, in place
            self._logits, self._y = None, y
        else:
            if self.use_bias:
                z += self.params["bias"]
            y = self._activate(z)
        self._cache = {"cols": cols, "x_shape": x.shape, "pads": pads}
        return y.reshape(n, oh, ow, self.filters)                    # (N, OH, OW, F)

    can_skip_dx = True   # the model may ask it not to compute dx (first layer)

    def backward(self, dy, from_logits=False, compute_dx=True):
        cache = self._cache
        dz = self._activation_backward(dy.reshape(-1, self.filters), from_logits)  # (N*OH*OW, F)
        kernel = self.params["kernel"]
        self.grads["kernel"] = kernels.matmul_tn(cache["cols"], dz).reshape(kernel.shape)  # cols.T @ dz
        if self.use_bias:
            self.grads["bias"] = kernels.column_sums(dz)       # dz.sum(axis=0)
        if not compute_dx:
            return None
        kernel2d = kernel.reshape(-1, self.filters)                        # (kh*kw*C, F)
        dcols = kernels.matmul(dz, kernel2d.T,                              # (N*OH*OW, kh*kw*C)
                               out=self.scratch("dcols", (dz.shape[0], kernel2d.shape[0]), dz.dtype))
        if self._is_pointwise(cache["pads"]):
            return dcols.reshape(cache["x_shape"])
        kh, kw = self.kernel_size
        return kernels.col2im(dcols, cache["x_shape"], kh, kw, *self.strides,
                              *self.dilation_rate, cache["pads"])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str)
                else [list(p) for p in self.padding],
                "dilation_rate": list(self.dilation_rate), "activation": self.activation,
                "use_bias": self.use_bias}
