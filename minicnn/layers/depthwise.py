"""DepthwiseConv2D and SeparableConv2D: convolutions that keep the channels apart.

DepthwiseConv2D slides M filters over each input channel on its own
(MobileNet's depthwise step). For x (N, H, W, C) and kernel W (kh, kw, C, M):

    cols = im2col(x) as (P, K, C)                         # P = N*OH*OW, K = kh*kw
    z[p, c, m] = sum_k cols[p, k, c] * W[k, c, m] + b     # (P, C, M)
    y = activation(z as (N, OH, OW, C*M))                 # channel c*M + m, as Keras

and going back (kernels.depthwise_conv2d_backward):

    dW[k, c, m]    = sum_p cols[p, k, c] * dz[p, c, m]
    dcols[p, k, c] = sum_m dz[p, c, m] * W[k, c, m];      dx = col2im(dcols)

SeparableConv2D is that depthwise step (no bias) followed by a 1x1 "pointwise"
convolution that mixes the C*M channels into F filters:

    d = depthwise(x)                                      # (N, OH, OW, C*M)
    y = activation(d @ P + b)                             # P (1, 1, C*M, F) as (C*M, F)

Its weights, in Keras order: depthwise_kernel (kh, kw, C, M), pointwise_kernel
(1, 1, C*M, F), bias (F,). Padding and output size are Conv2D's ("valid" or
"same"); strides and dilation may be combined, as in Keras 3.

The ``params`` keys are named after the constructor's options, as everywhere
in minicnn (``kernel`` <-> ``kernel_initializer``; ``load_model`` relies on
it): ``depthwise`` (Keras's DepthwiseConv2D "kernel", SeparableConv2D
"depthwise_kernel"), ``pointwise`` (Keras's "pointwise_kernel") and ``bias``.
"""
from .. import kernels
from .activation import ActivationMixin
from .base import Layer, as_pair, check_data_format, normalize_padding, positive_int
from .conv import Conv2D


class DepthwiseConv2D(ActivationMixin, Layer):
    """Keras's DepthwiseConv2D: kernel (kh, kw, C, depth_multiplier), output C*M
    channels. ``data_format`` other than "channels_last" and an
    ``activity_regularizer`` are not supported (a ValueError says so)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._set_geometry(kernel_size, strides, padding, depth_multiplier, data_format,
                           dilation_rate)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.set_weight_options(depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer, depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint)

    def _set_geometry(self, kernel_size, strides, padding, depth_multiplier, data_format,
                      dilation_rate):
        """The arguments both layers share, validated as Conv2D's are."""
        owner = self.owner
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.strides = as_pair(strides, "strides", owner)
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate", owner)
        self.padding = normalize_padding(padding, owner, allow_explicit=False)
        self.depth_multiplier = positive_int(owner, "depth_multiplier", depth_multiplier)
        self.data_format = check_data_format(owner, data_format)

    window = Conv2D.window         # the same sliding window as a Conv2D of these settings

    def _check_rank(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")

    def _add_depthwise_kernel(self, channels):
        kh, kw = self.kernel_size
        self.add_weight("depthwise", (kh, kw, channels, self.depth_multiplier),
                        self.depthwise_initializer, self.depthwise_regularizer,
                        self.depthwise_constraint)

    def build(self, input_shape):
        self._check_rank(input_shape)
        self._add_depthwise_kernel(input_shape[-1])
        if self.use_bias:
            self.add_weight("bias", (input_shape[-1] * self.depth_multiplier,),
                            self.bias_initializer, self.bias_regularizer, self.bias_constraint)
        super().build(input_shape)

    def _out_channels(self, channels):
        return channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        if h is None or w is None:
            return (n, None, None, self._out_channels(c))
        return (n, *self.window((h, w)).output_hw, self._out_channels(c))

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        z, conv_cache = kernels.depthwise_conv2d_forward(      # (N, OH, OW, C*M)
            x, self.params["depthwise"], self.params.get("bias"), self.window(x.shape[1:3]),
            workspace=self.workspace)
        self.cache = {"depthwise": conv_cache}
        return self._activate(z)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy, from_logits)        # (N, OH, OW, C*M)
        dx, self.grads["depthwise"], dbias = kernels.depthwise_conv2d_backward(
            dz, self.cache["depthwise"], need_dx=compute_dx)
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def _geometry_config(self):
        return {"kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "depth_multiplier": self.depth_multiplier, "activation": self.activation,
                "use_bias": self.use_bias, "activity_regularizer": self.activity_regularizer}

    def get_config(self):
        return {**super().get_config(), **self._geometry_config()}


class SeparableConv2D(DepthwiseConv2D):
    """Keras's SeparableConv2D: a depthwise convolution (depth_multiplier filters per
    channel, no bias) then a 1x1 convolution to ``filters`` channels, with the bias
    and the activation."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.filters = positive_int(self.owner, "filters", filters)
        self._set_geometry(kernel_size, strides, padding, depth_multiplier, data_format,
                           dilation_rate)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.set_weight_options(depthwise_initializer=depthwise_initializer,
            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        self._check_rank(input_shape)
        self._add_depthwise_kernel(input_shape[-1])
        self.add_weight("pointwise",
                        (1, 1, input_shape[-1] * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, self.pointwise_regularizer,
                        self.pointwise_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            self.bias_regularizer, self.bias_constraint)
        Layer.build(self, input_shape)

    def _out_channels(self, channels):
        return self.filters

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        d, depthwise_cache = kernels.depthwise_conv2d_forward(   # (N, OH, OW, C*M)
            x, self.params["depthwise"], None, self.window(x.shape[1:3]), workspace=self.workspace)
        pointwise = kernels.window(d.shape[1:3], (1, 1))          # 1x1: each pixel alone
        relu_in_kernel = self.use_bias and self.activation == "relu"
        z, pointwise_cache = kernels.conv2d_forward(              # (N, OH, OW, F)
            d, self.params["pointwise"], self.params.get("bias"), pointwise,
            relu=relu_in_kernel, workspace=self.workspace)
        self.cache = {"depthwise": depthwise_cache, "pointwise": pointwise_cache}
        return self._activate(z, applied=relu_in_kernel)

    def backward(self, dy, from_logits=False, compute_dx=True):
        dz = self._activation_backward(dy, from_logits)          # (N, OH, OW, F)
        dd, self.grads["pointwise"], dbias = kernels.conv2d_backward(
            dz, self.cache["pointwise"])                          # dd (N, OH, OW, C*M)
        dx, self.grads["depthwise"], _ = kernels.depthwise_conv2d_backward(
            dd, self.cache["depthwise"], need_dx=compute_dx)
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def get_config(self):
        return {**Layer.get_config(self), "filters": self.filters, **self._geometry_config()}
