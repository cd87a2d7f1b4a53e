"""Activation functions and their derivatives.

Every backward rule takes ``(dy, y, z)``: the upstream gradient dL/dy, the
activation's output y (which the layer keeps from its forward pass) and its
input z (kept only for the rules in ``NEEDS_Z``). Most rules need y alone:

    relu         y = max(z, 0)                   dz = dy * (y > 0)
    sigmoid      y = 1 / (1 + e^-z)              dz = dy * y * (1 - y)
    tanh         y = tanh(z)                     dz = dy * (1 - y^2)
    softmax      y_i = e^z_i / sum e^z           dz = y * (dy - sum(dy * y))   (row-wise)
    linear       y = z                           dz = dy
    elu          y = z (z > 0), a (e^z - 1)      dz = dy (y > 0), dy * (y + a)
    selu         y = s * elu(z, a)               dz = dy * s (y >= 0), dy * (y + s a)
                 (s = 1.0507..., a = 1.6732...)
    leaky_relu   y = z (z > 0), k z              dz = dy (y > 0), dy * k   (k = 0.2)
    exponential  y = e^z                         dz = dy * y

and a few need z:

    gelu         y = z Phi(z)                    dz = dy * (Phi(z) + z phi(z))
                 (Phi, phi: the standard normal's CDF and density; exact erf form)
    swish, silu  y = z sigmoid(z)                dz = dy * s (1 + z (1 - s)),  s = sigmoid(z)
    softplus     y = log(1 + e^z)                dz = dy * sigmoid(z)
    softsign     y = z / (1 + |z|)               dz = dy / (1 + |z|)^2
    hard_sigmoid y = relu6(z + 3) / 6            dz = dy / 6 where 0 < z + 3 < 6, else 0

At the kinks the rules return what TensorFlow's gradients do (checked with
``tf.GradientTape``): leaky_relu has slope k at z = 0, elu slope a, selu
slope s, hard_sigmoid slope 0 at z = -3 and z = 3.
"""
import numpy as np

from . import kernels


def relu(z):
    return np.maximum(z, 0)


def sigmoid(z):
    # Split by sign so exp never overflows: for z < 0 use e^z / (1 + e^z).
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out


def tanh(z):
    return np.tanh(z)


def softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)   # same result, no overflow
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def linear(z):
    return z


def relu_backward(dy, y, z=None):
    return kernels.relu_backward(dy, y)


def sigmoid_backward(dy, y, z=None):
    return dy * y * (1 - y)


def tanh_backward(dy, y, z=None):
    return dy * (1 - y * y)


def softmax_backward(dy, y, z=None, axis=-1):
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def linear_backward(dy, y, z=None):
    return dy


# -- the Keras 3 activations beyond the classic five ------------------------------------
# Keyword arguments (alpha, negative_slope) have Keras 3's defaults; the layers
# ELU and LeakyReLU pass their own values.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _const(value, like):
    """A Python float as a scalar of ``like``'s dtype (float32 stays float32)."""
    return np.asarray(value, dtype=like.dtype)[()]


def _exp_minus_1(z):
    """e^z - 1 for z <= 0 (0 above), as TensorFlow's elu and selu compute it: not
    np.expm1, so that a tiny negative z gives 0 there too, and the same slope."""
    return np.exp(np.minimum(z, 0)) - 1


def elu(z, alpha=1.0):
    return np.where(z > 0, z, _const(alpha, z) * _exp_minus_1(z))


def elu_backward(dy, y, z=None, alpha=1.0):
    return np.where(y > 0, dy, dy * (y + _const(alpha, y)))


def selu(z):
    scale, scale_alpha = _const(SELU_SCALE, z), _const(SELU_SCALE * SELU_ALPHA, z)
    return np.where(z > 0, scale * z, scale_alpha * _exp_minus_1(z))


def selu_backward(dy, y, z=None):
    scale, scale_alpha = _const(SELU_SCALE, y), _const(SELU_SCALE * SELU_ALPHA, y)
    return np.where(y < 0, dy * (y + scale_alpha), dy * scale)


def leaky_relu(z, negative_slope=0.2):
    return np.where(z > 0, z, _const(negative_slope, z) * z)


def leaky_relu_backward(dy, y, z=None, negative_slope=0.2):
    return np.where(y > 0, dy, dy * _const(negative_slope, y))


def exponential(z):
    return np.exp(z)


def exponential_backward(dy, y, z=None):
    return dy * y


def erf(x):
    """scipy's erf, imported on first use (scipy.special takes 0.1 s to import)."""
    from scipy.special import erf as scipy_erf
    return scipy_erf(x)


def gelu(z):
    """Keras 3's default ``approximate=False``: z * Phi(z) = z/2 * (1 + erf(z / sqrt 2))."""
    return (_const(0.5, z) * z * (1 + erf(z * _const(np.sqrt(0.5), z)))).astype(z.dtype)


def gelu_backward(dy, y, z):
    cdf = 0.5 * (1 + erf(z * _const(np.sqrt(0.5), z)))              # Phi(z)
    pdf = np.exp(-0.5 * z * z) * _const(1 / np.sqrt(2 * np.pi), z)  # phi(z)
    return (dy * (cdf + z * pdf)).astype(dy.dtype)


def swish(z):
    return z * sigmoid(z)


def swish_backward(dy, y, z):
    s = sigmoid(z)
    return dy * (s * (1 + z * (1 - s)))          # TensorFlow's tf.nn.silu gradient


def softplus(z):
    return np.logaddexp(_const(0, z), z)          # log(1 + e^z) without overflow


def softplus_backward(dy, y, z):
    return dy * sigmoid(z)


def softsign(z):
    return z / (1 + np.abs(z))


def softsign_backward(dy, y, z):
    return dy / np.square(1 + np.abs(z))


def hard_sigmoid(z):
    return np.clip(z + _const(3, z), 0, 6) / _const(6, z)     # relu6(z + 3) / 6


def hard_sigmoid_backward(dy, y, z):
    s = z + _const(3, z)
    return np.where((s > 0) & (s < 6), dy / _const(6, dy), _const(0, dy))


FORWARD = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear,
           "elu": elu, "selu": selu, "gelu": gelu, "swish": swish, "silu": swish,
           "softplus": softplus, "softsign": softsign, "leaky_relu": leaky_relu,
           "hard_sigmoid": hard_sigmoid, "exponential": exponential}
BACKWARD = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward,
            "softmax": softmax_backward, "linear": linear_backward,
            "elu": elu_backward, "selu": selu_backward, "gelu": gelu_backward,
            "swish": swish_backward, "silu": swish_backward, "softplus": softplus_backward,
            "softsign": softsign_backward, "leaky_relu": leaky_relu_backward,
            "hard_sigmoid": hard_sigmoid_backward, "exponential": exponential_backward}
# The rules that read the pre-activation z (a layer keeps z only for these).
NEEDS_Z = {"gelu", "swish", "silu", "softplus", "softsign", "hard_sigmoid"}


def get(name, owner="activation"):
    """Validate an activation name (None means "linear") and return it."""
    if name is None:
        return "linear"
    if not isinstance(name, str) or name.lower() not in FORWARD:
        raise ValueError(f"{owner}: unknown activation {name!r}; expected one of "
                         f"{sorted(FORWARD)}")
    return name.lower()
