"""Conv2DTranspose: the adjoint (transpose) of a convolution, used to upsample.

A Conv2D maps an image of size O to one of size I with cols = im2col(.) and
one matrix product. Conv2DTranspose runs that map backwards: each input pixel
is spread over a kh x kw patch of the (larger) output, and overlapping patches
add up. For x (N, IH, IW, C) and the Keras kernel W (kh, kw, F, C) (note:
``filters`` F is the *third* axis, the conv's input channels):

    dcols = x as (N*IH*IW, C) @ W.T     # W as (kh*kw*F, C); dcols (N*IH*IW, kh*kw*F)
    z     = col2im(dcols) + b           # folded onto (N, OH, OW, F)
    y     = activation(z)

Backward is the convolution itself:

    cols = im2col(dz)                   # (N*IH*IW, kh*kw*F)
    dx   = cols @ W                     # (N*IH*IW, C) -> (N, IH, IW, C)
    dW   = cols.T @ x                   # (kh*kw*F, C) -> (kh, kw, F, C)
    db   = dz summed over N, OH, OW     # (F,)

Output size along an axis (Keras 3, ``compute_conv_transpose_output_shape``),
with effective kernel e = d*(k-1) + 1, stride s, output padding p:

    "valid": O = (I - 1)*s + e + p,  p defaults to max(e, s) - e
    "same":  O = I*s                  without output_padding
             O = (I - 1)*s + e % 2 + p  with it

The window is the one a Conv2D with these settings slides over the O-sized
output (TensorFlow's "same" padding computed for O); a geometry where that
Conv2D would not map O back onto I (e.g. "same", an even kernel and
output_padding=0) is refused, as TensorFlow refuses it.
"""
from .. import kernels
from .activation import ActivationMixin
from .base import (KernelBias, Layer, as_pair, check_data_format, normalize_padding,
                   positive_int)
from .conv import check_strides_and_dilation


def transpose_output_length(length, kernel, stride, padding, output_padding, dilation):
    """Keras 3's output length of a transposed convolution along one axis."""
    effective = dilation * (kernel - 1) + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(effective, stride) - effective
        return (length - 1) * stride + effective + output_padding
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding


class Conv2DTranspose(KernelBias, ActivationMixin, Layer):
    """Keras's Conv2DTranspose, kernel (kh, kw, filters, C). ``data_format`` other
    than "channels_last" and an ``activity_regularizer`` are not supported."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = self.owner
        self.filters = positive_int(owner, "filters", filters)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.strides = as_pair(strides, "strides", owner)
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate", owner)
        check_strides_and_dilation(owner, self.strides, self.dilation_rate)
        self.padding = normalize_padding(padding, owner, allow_explicit=False)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = as_pair(output_padding, "output_padding", owner, minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{owner}: output_padding must be smaller than strides on "
                                 f"each axis (as in Keras), received output_padding="
                                 f"{self.output_padding}, strides={self.strides}")
        self.data_format = check_data_format(owner, data_format)
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer, kernel_constraint,
                                bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        kh, kw = self.kernel_size
        self.add_kernel_and_bias((kh, kw, self.filters, input_shape[-1]), self.filters)
        super().build(input_shape)

    def output_hw(self, hw):
        """(OH, OW) for an input of height and width ``hw`` (Keras 3's formula)."""
        pads = self.output_padding or (None, None)
        return tuple(transpose_output_length(n, k, s, self.padding, p, d) for n, k, s, p, d
                     in zip(hw, self.kernel_size, self.strides, pads, self.dilation_rate))

    def window(self, hw=None):
        """The ``Window`` of the Conv2D this layer transposes: it slides over the
        (OH, OW) output and has one window per input pixel (IH, IW)."""
        hw = tuple(self.input_shape[1:3] if hw is None else hw)
        window = kernels.window(self.output_hw(hw), self.kernel_size, self.strides,
                                self.dilation_rate, self.padding, owner=self.owner)
        if window.output_hw != hw:
            raise ValueError(
                f"{self.owner}: with padding={self.padding!r}, kernel_size="
                f"{self.kernel_size}, strides={self.strides} and output_padding="
                f"{self.output_padding} the output {self.output_hw(hw)} does not map back "
                f"onto the input {hw} (TensorFlow refuses this geometry too); choose "
                f"another output_padding")
        return window

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        if h is None or w is None:
            return (n, None, None, self.filters)
        return (n, *self.window((h, w)).input_hw, self.filters)   # checks the geometry

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        n, h, w, c = x.shape
        window = self.window((h, w))
        kernel2d = self.params["kernel"].reshape(-1, c)           # (kh*kw*F, C)
        x2 = x.reshape(n * h * w, c)                               # (N*IH*IW, C)
        dcols = kernels.matmul(x2, kernel2d.T)                     # (N*IH*IW, kh*kw*F)
        z = kernels.col2im(dcols, (n, *window.input_hw, self.filters), window)  # (N, OH, OW, F)
        if self.use_bias:
            z += self.params["bias"]
        self.cache = {"x2": x2, "x_shape": x.shape, "window": window}
        return self._activate(z)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy, from_logits)           # (N, OH, OW, F)
        c = self.cache
        cols = kernels.im2col(dz, c["window"])                    # (N*IH*IW, kh*kw*F)
        kernel = self.params["kernel"]
        self.grads["kernel"] = kernels.matmul_tn(cols, c["x2"]).reshape(kernel.shape)  # cols.T @ x2
        if self.use_bias:
            self.grads["bias"] = kernels.column_sums(dz.reshape(-1, self.filters))    # (F,)
        if not compute_dx:
            return None
        dx2 = kernels.matmul(cols, kernel.reshape(cols.shape[1], -1))   # (N*IH*IW, C)
        return dx2.reshape(c["x_shape"])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding,
                "output_padding": None if self.output_padding is None
                else list(self.output_padding),
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
                "activation": self.activation, "use_bias": self.use_bias,
                "activity_regularizer": self.activity_regularizer}


Convolution2DTranspose = Conv2DTranspose
