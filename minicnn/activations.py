"""Activation functions and their derivatives.

Each backward rule is written in terms of the activation's *output* y, which
the layer keeps from its forward pass:

    relu     y = max(z, 0)            dz = dy * (y > 0)
    sigmoid  y = 1 / (1 + e^-z)       dz = dy * y * (1 - y)
    tanh     y = tanh(z)              dz = dy * (1 - y^2)
    softmax  y_i = e^z_i / sum e^z    dz = y * (dy - sum(dy * y))   (row-wise)
    linear   y = z                    dz = dy
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


def relu_backward(dy, y):
    return kernels.relu_backward(dy, y)


def sigmoid_backward(dy, y):
    return dy * y * (1 - y)


def tanh_backward(dy, y):
    return dy * (1 - y * y)


def softmax_backward(dy, y, axis=-1):
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def linear_backward(dy, y):
    return dy


FORWARD = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear}
BACKWARD = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward,
            "softmax": softmax_backward, "linear": linear_backward}


def get(name, owner="activation"):
    """Validate an activation name (None means "linear") and return it."""
    if name is None:
        return "linear"
    if not isinstance(name, str) or name.lower() not in FORWARD:
        raise ValueError(f"{owner}: unknown activation {name!r}; expected one of "
                         f"{sorted(FORWARD)}")
    return name.lower()
