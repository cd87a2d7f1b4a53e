"""Regularizers: weight penalties added to the training loss.

A regularizer ``r`` is attached to a weight ``w`` (e.g.
``Dense(10, kernel_regularizer=L2(1e-4))``); the model adds ``r(w)`` to the
loss and ``r.gradient(w)`` to the weight's gradient.

=========  ======================================  =========================
class      penalty r(w)                            gradient dr/dw
=========  ======================================  =========================
L1(l1)     l1 * sum(|w|)                           l1 * sign(w)   (0 at w = 0)
L2(l2)     l2 * sum(w^2)                           2 * l2 * w
L1L2       l1 * sum(|w|) + l2 * sum(w^2)           the sum of both
=========  ======================================  =========================

Note: Keras's ``L2(l)`` is ``l * sum(w^2)`` with **no** 1/2, while
TensorFlow's ``tf.nn.l2_loss(w)`` is ``sum(w^2) / 2``. A network written as
``loss += 1e-2 * tf.nn.l2_loss(w)`` therefore corresponds to
``L2(0.005)`` (penalty 0.005 * sum(w^2), gradient 0.01 * w).

The penalty is returned as a numpy scalar in ``w``'s dtype.
"""
import math

import numpy as np

from minicnn.registry import Configurable, Registry

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2",
           "get", "serialize", "deserialize"]


def _check_factor(owner, name, value):
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{owner}: `{name}` must be a non-negative finite number, "
                         f"received {name}={value!r}")
    return float(value)


class Regularizer(Configurable):
    """Base class: no penalty. Subclasses write ``__call__`` and ``gradient``."""

    def __call__(self, w):
        return np.asarray(w).dtype.type(0)

    def gradient(self, w):
        return np.zeros_like(w)

    def add_gradient(self, w, grad):
        """``grad += gradient(w)``, in place: what training does after each backward."""
        grad += self.gradient(w).astype(grad.dtype, copy=False)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``; gradient ``l1 * sign(w) + 2 * l2 * w``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor(type(self).__name__, "l1", 0.0 if l1 is None else l1)
        self.l2 = _check_factor(type(self).__name__, "l2", 0.0 if l2 is None else l2)

    def __call__(self, w):
        w = np.asarray(w)
        cast = w.dtype.type
        penalty = cast(0)
        if self.l1:
            penalty += cast(self.l1) * np.sum(np.abs(w))
        if self.l2:
            flat = w.reshape(-1)
            penalty += cast(self.l2) * np.dot(flat, flat)          # sum(w^2), one pass
        return penalty

    def gradient(self, w):
        w = np.asarray(w)
        cast = w.dtype.type
        grad = np.zeros_like(w)
        if self.l1:
            grad += cast(self.l1) * np.sign(w)
        if self.l2:
            grad += cast(2 * self.l2) * w
        return grad

    def add_gradient(self, w, grad):
        """``grad += l1 * sign(w) + 2 * l2 * w`` in place, without the zero-filled
        array ``gradient`` starts from (two passes over w for an L2 penalty, not four)."""
        cast = grad.dtype.type
        if self.l1 and self.l2:
            grad += cast(self.l1) * np.sign(w) + cast(2 * self.l2) * w
        elif self.l1:
            grad += cast(self.l1) * np.sign(w)
        elif self.l2:
            grad += cast(2 * self.l2) * w

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``; gradient ``l1 * sign(w)`` (0 at w = 0, like TF's abs)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)``; gradient ``2 * l2 * w``.

    ``L2(l)`` equals ``2 * l * tf.nn.l2_loss(w)``: to reproduce
    ``1e-2 * tf.nn.l2_loss(w)`` use ``L2(0.005)``.
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


# Keras 3 spells the same classes in lower case too. Note that, as in Keras 3,
# l1_l2() has no penalty unless given l1 and/or l2 (both default to 0).
l1, l2, l1_l2 = L1, L2, L1L2

_BY_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2,
            "l1l2": L1L2}


_REGISTRY = Registry("regularizer", Regularizer, _BY_NAME,
                     accepts=lambda r: callable(r) and callable(getattr(r, "gradient", None)),
                     hint=" (a custom regularizer needs __call__(w) and gradient(w))")


def serialize(regularizer):
    """``{"class_name": "L2", "config": {"l2": 0.01}}``, JSON-serializable."""
    return _REGISTRY.serialize(regularizer)


def deserialize(config):
    """Rebuild a regularizer from what ``serialize`` returned."""
    return _REGISTRY.deserialize(config)


def get(identifier):
    """A regularizer from an instance, a class, a name ("l2") or a config dict;
    ``None`` stays ``None``. A custom object must have ``__call__(w)`` (the
    penalty) and ``gradient(w)``: minicnn has no autodiff to find the latter."""
    return _REGISTRY.get(identifier)
