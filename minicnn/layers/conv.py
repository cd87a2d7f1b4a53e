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

The convolution itself is ``kernels.conv2d_forward`` / ``conv2d_backward``:
``kernels/reference.py`` spells out the six equations above in NumPy; the
fast twin in ``kernels/jit.py`` computes the same with its speed detours
(1x1 shortcut, fused bias + ReLU, kept work arrays).
Like Keras this is a cross-correlation: the kernel is not flipped.
"""
from .. import kernels
from .activation import ActivationMixin
from .base import (KernelBias, Layer, as_pair, check_data_format, check_keras_only,
                   normalize_padding, positive_int)


def check_strides_and_dilation(owner, strides, dilation_rate):
    """Keras refuses strides > 1 together with dilation_rate > 1 (Conv1D, Conv2D,
    Conv2DTranspose); so does minicnn, with a ValueError naming both."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{owner}: strides > 1 together with dilation_rate > 1 is not "
                         f"supported (as in Keras), received strides={strides}, "
                         f"dilation_rate={dilation_rate}")


class Conv2D(KernelBias, ActivationMixin, Layer):
    """Keras's Conv2D. ``padding`` may also be explicit (an int or ((t, b), (l, r)));
    ``data_format`` other than "channels_last", ``groups`` other than 1 and an
    ``activity_regularizer`` are not supported (a ValueError says so)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
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
        self.padding = normalize_padding(padding, owner)
        self.data_format = check_data_format(owner, data_format)
        self.groups = check_keras_only(owner, "groups", groups, (1,))
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer, kernel_constraint,
                                bias_constraint)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        kh, kw = self.kernel_size
        self.add_kernel_and_bias((kh, kw, input_shape[-1], self.filters), self.filters)
        super().build(input_shape)

    def window(self, hw=None):
        """The ``Window`` this layer slides over an input of height and width ``hw``
        (default: the size it was built for)."""
        hw = self.input_shape[1:3] if hw is None else hw
        return kernels.window(hw, self.kernel_size, self.strides, self.dilation_rate,
                              self.padding, owner=self.owner)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        if h is None or w is None:
            return (n, None, None, self.filters)
        return (n, *self.window((h, w)).output_hw, self.filters)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        relu_in_kernel = self.use_bias and self.activation == "relu"   # fused bias + ReLU
        z, conv_cache = kernels.conv2d_forward(                  # (N, OH, OW, F)
            x, self.params["kernel"], self.params.get("bias"), self.window(x.shape[1:3]),
            relu=relu_in_kernel, workspace=self.workspace)
        self.cache = {"conv": conv_cache}
        return self._activate(z, applied=relu_in_kernel)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy, from_logits)         # (N, OH, OW, F)
        dx, self.grads["kernel"], dbias = kernels.conv2d_backward(
            dz, self.cache["conv"], need_dx=compute_dx)
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str)
                else [list(p) for p in self.padding],
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
                "groups": self.groups, "activation": self.activation, "use_bias": self.use_bias,
                "activity_regularizer": self.activity_regularizer}
