"""Conv1D: a 1-D convolution computed as a 2-D one over a 1 x L image.

A length-L signal with C channels, x (N, L, C), is the image (N, 1, L, C);
the Keras kernel (k, C, F) is the 2-D kernel (1, k, C, F). Conv2D's kernels
then do all the work (im2col, one matrix product, col2im going back):

    x4 = x as (N, 1, L, C)          W4 = W as (1, k, C, F)
    z4 = conv2d(x4, W4) + b         # (N, 1, OL, F)
    y  = activation(z4 as (N, OL, F))

For an axis of length L, a kernel of k taps spaced d apart (dilation) and
stride s, the effective kernel spans d*(k-1) + 1 cells and

    "valid":  OL = (L - d*(k-1) - 1) // s + 1
    "same":   OL = ceil(L / s), padded as TensorFlow does (extra cell on the right)
    "causal": d*(k-1) zeros on the left only, then "valid": OL = (L - 1) // s + 1,
              and y[t] depends on x[..t*s] only, never on later steps (WaveNet).
"""
import numpy as np

from .. import kernels
from .activation import ActivationMixin
from .base import KernelBias, Layer, check_data_format, check_keras_only, positive_int
from .conv import check_strides_and_dilation


def as_single(value, what, owner, minimum=1):
    """An int or a one-element tuple / list of ints -> a validated 1-tuple ``(v,)``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        single = (value,)
    else:
        single = tuple(value) if hasattr(value, "__iter__") and not isinstance(value, str) else ()
    if len(single) != 1 or not isinstance(single[0], (int, np.integer)) \
            or isinstance(single[0], bool):
        raise ValueError(f"{owner}: {what} must be an int or a tuple of one int, "
                         f"received {what}={value!r}")
    if single[0] < minimum:
        raise ValueError(f"{owner}: {what} must be >= {minimum}, received {what}={value!r}")
    return (int(single[0]),)


def padding_1d(padding, owner, allow_causal=True):
    """"valid" / "same" (/ "causal"), any case -> the lower-case name, else a ValueError."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    key = padding.lower() if isinstance(padding, str) else None
    if key not in allowed:
        raise ValueError(f"{owner}: padding must be one of {', '.join(map(repr, allowed))}, "
                         f"received padding={padding!r}")
    return key


def window_1d(length, size, strides, dilation, padding, owner):
    """The 2-D ``Window`` of a 1-D window over a signal of ``length`` steps, seen as a
    1 x length image: a 1-tap, stride-1 window on the height axis (never padded)."""
    (k,), (s,), (d,) = size, strides, dilation
    if padding == "causal":                       # all the padding on the left (the past)
        padding = ((0, 0), (d * (k - 1), 0))
    return kernels.window((1, length), (1, k), (1, s), (1, d), padding, owner=owner)


class Conv1D(KernelBias, ActivationMixin, Layer):
    """Keras's Conv1D on (N, L, C) inputs, kernel (k, C, F); ``padding`` is "valid",
    "same" or "causal". ``data_format`` other than "channels_last", ``groups`` other
    than 1 and an ``activity_regularizer`` are not supported (a ValueError says so)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = self.owner
        self.filters = positive_int(owner, "filters", filters)
        self.kernel_size = as_single(kernel_size, "kernel_size", owner)
        self.strides = as_single(strides, "strides", owner)
        self.dilation_rate = as_single(dilation_rate, "dilation_rate", owner)
        check_strides_and_dilation(owner, self.strides, self.dilation_rate)
        self.padding = padding_1d(padding, owner)
        self.data_format = check_data_format(owner, data_format)
        self.groups = check_keras_only(owner, "groups", groups, (1,))
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer, kernel_constraint,
                                bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.owner} expects 3-D (batch, steps, channels) input, "
                             f"received shape {tuple(input_shape)}")
        self.add_kernel_and_bias((self.kernel_size[0], input_shape[-1], self.filters), self.filters)
        super().build(input_shape)

    def window(self, length=None):
        """The 2-D ``Window`` this layer slides over a 1 x ``length`` image
        (default: the length it was built for)."""
        length = self.input_shape[1] if length is None else length
        return window_1d(length, self.kernel_size, self.strides, self.dilation_rate,
                         self.padding, self.owner)

    def compute_output_shape(self, input_shape):
        n, length, _ = input_shape
        if length is None:
            return (n, None, self.filters)
        return (n, self.window(length).output_hw[1], self.filters)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=3)
        n, length, c = x.shape
        kernel = self.params["kernel"]
        relu_in_kernel = self.use_bias and self.activation == "relu"   # fused bias + ReLU
        z4, conv_cache = kernels.conv2d_forward(
            x.reshape(n, 1, length, c),                     # (N, L, C) -> (N, 1, L, C)
            kernel.reshape(1, *kernel.shape),               # (k, C, F) -> (1, k, C, F)
            self.params.get("bias"), self.window(length),
            relu=relu_in_kernel, workspace=self.workspace)  # z4 (N, 1, OL, F)
        self.cache = {"conv": conv_cache}
        z = z4.reshape(n, z4.shape[2], self.filters)        # (N, 1, OL, F) -> (N, OL, F)
        return self._activate(z, applied=relu_in_kernel)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy, from_logits)    # (N, OL, F)
        n, out_length, f = dz.shape
        dx4, dkernel4, dbias = kernels.conv2d_backward(
            dz.reshape(n, 1, out_length, f), self.cache["conv"],   # (N, 1, OL, F)
            need_dx=compute_dx)
        self.grads["kernel"] = dkernel4.reshape(self.params["kernel"].shape)  # (1,k,C,F) -> (k,C,F)
        if self.use_bias:
            self.grads["bias"] = dbias
        if dx4 is None:
            return None
        return dx4.reshape(n, dx4.shape[2], dx4.shape[3])   # (N, 1, L, C) -> (N, L, C)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": self.activation, "use_bias": self.use_bias,
                "activity_regularizer": self.activity_regularizer}


Convolution1D = Conv1D
