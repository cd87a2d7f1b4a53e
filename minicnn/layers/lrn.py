"""LocalResponseNormalization: AlexNet's normalization across neighbouring channels.

Keras has no such layer; this one computes exactly what
``tf.nn.local_response_normalization`` computes on NHWC input x (N, H, W, C):

    S[..., c] = sum of x[..., j]**2 for j = c - r .. c + r (channels that exist)
    D[..., c] = bias + alpha * S[..., c]
    y         = x / D**beta

with r = depth_radius. Going back (each x_j enters its own D_j and, through
S, the D_i of every channel i within r of it; the window is symmetric):

    dx_j = dy_j * D_j**-beta  -  2 * alpha * beta * x_j * sum_{i within r of j} dy_i * y_i / D_i

Both window sums are computed with one whole-array addition per offset
(2r + 1 of them), never with a loop over channels.
"""
import numbers

import numpy as np

from .base import Layer, check_number


def channel_window_sum(a, radius):
    """s[..., c] = a[..., c - radius] + ... + a[..., c + radius] (channels outside the
    array count as 0): a (N, H, W, C) -> s (N, H, W, C)."""
    s = a.copy()
    for offset in range(1, min(radius, a.shape[-1] - 1) + 1):
        s[..., offset:] += a[..., :-offset]       # the neighbour ``offset`` channels below
        s[..., :-offset] += a[..., offset:]       # the neighbour ``offset`` channels above
    return s


class LocalResponseNormalization(Layer):
    """``tf.nn.local_response_normalization`` (also ``tf.nn.lrn``) as a layer,
    with its defaults: depth_radius=5, bias=1, alpha=1, beta=0.5."""

    def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
        super().__init__(**kwargs)
        owner = self.owner
        if not isinstance(depth_radius, (int, np.integer)) or isinstance(depth_radius, bool) \
                or depth_radius < 0:
            raise ValueError(f"{owner}: depth_radius must be an int >= 0, "
                             f"received depth_radius={depth_radius!r}")
        self.depth_radius = int(depth_radius)
        for name, value in (("bias", bias), ("alpha", alpha), ("beta", beta)):
            check_number(owner, name, value, "a finite real number",
                         lambda v: isinstance(v, numbers.Real) and np.isfinite(v))
        self.bias, self.alpha, self.beta = float(bias), float(alpha), float(beta)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input (as tf.nn.lrn), "
                             f"received shape {tuple(input_shape)}")
        super().build(input_shape)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        t = self.dtype.type
        d = t(self.bias) + t(self.alpha) * channel_window_sum(x * x, self.depth_radius)
        scale = d ** t(-self.beta)                              # D**-beta, (N, H, W, C)
        y = x * scale
        self.cache = {"x": x, "y": y, "d": d, "scale": scale}
        return y

    def backward(self, dy, from_logits=False, compute_dx=True):
        c, t = self.cache, self.dtype.type
        through_d = channel_window_sum(dy * c["y"] / c["d"], self.depth_radius)   # (N, H, W, C)
        return dy * c["scale"] - t(2 * self.alpha * self.beta) * c["x"] * through_d

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}
