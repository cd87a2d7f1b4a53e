"""Constraints: projections applied to a weight after each optimizer step.

A constraint ``c`` is attached to a weight (``Dense(10,
kernel_constraint=MaxNorm(3))``); after ``optimizer.apply`` the model sets
``w[...] = c(w)``. Each follows Keras 3, with eps = 1e-7 (Keras's
``backend.epsilon()``) and ``norms = sqrt(sum(w^2, axis, keepdims=True))``:

==========================  ==================================================
MaxNorm(max_value, axis)    w * clip(norms, 0, max_value) / (eps + norms)
MinMaxNorm(min, max, rate)  w * (rate * clip(norms, min, max)
                                 + (1 - rate) * norms) / (eps + norms)
UnitNorm(axis)              w / (eps + norms)
NonNeg()                    max(w, 0)
==========================  ==================================================

``axis`` names the axes summed over, i.e. the axes of one "incoming weight
vector": 0 for a Dense kernel ``(in, out)``, ``[0, 1, 2]`` for a Conv2D kernel
``(kh, kw, cin, cout)`` (one norm per filter).
"""
import numpy as np

from minicnn.registry import Configurable, Registry

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
           "max_norm", "min_max_norm", "non_neg", "unit_norm",
           "get", "serialize", "deserialize"]

EPSILON = 1e-7


def _norms(w, axis):
    """L2 norms over ``axis``, kept as size-1 axes so they broadcast against w."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint(Configurable):
    """Base class: the identity. Subclasses write ``__call__(w) -> new w``."""

    def __call__(self, w):
        return w


class MaxNorm(Constraint):
    """Rescale each weight vector whose norm exceeds ``max_value`` down to it."""

    def __init__(self, max_value=2, axis=0):
        if isinstance(max_value, bool) or not isinstance(max_value, (int, float)) \
                or max_value < 0:
            raise ValueError(f"MaxNorm: max_value must be a non-negative number, "
                             f"received max_value={max_value!r}")
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value).astype(w.dtype)
        return w * (desired / (w.dtype.type(EPSILON) + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each weight vector's norm (by fraction ``rate``) into [min, max]."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if not 0 <= min_value <= max_value or not 0 <= rate <= 1:
            raise ValueError(f"MinMaxNorm: need 0 <= min_value <= max_value and "
                             f"0 <= rate <= 1, received min_value={min_value!r}, "
                             f"max_value={max_value!r}, rate={rate!r}")
        self.min_value, self.max_value, self.rate, self.axis = (
            min_value, max_value, rate, axis)

    def __call__(self, w):
        w = np.asarray(w)
        cast = w.dtype.type
        norms = _norms(w, self.axis)
        clipped = np.clip(norms, self.min_value, self.max_value).astype(w.dtype)
        desired = cast(self.rate) * clipped + cast(1 - self.rate) * norms
        return w * (desired / (cast(EPSILON) + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


class UnitNorm(Constraint):
    """Scale each weight vector to norm 1 (to 1 - 1e-7 relative, because of eps)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (w.dtype.type(EPSILON) + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to 0."""

    def __call__(self, w):
        return np.maximum(w, 0).astype(np.asarray(w).dtype, copy=False)


# Keras 3 also exports the classes under snake_case names.
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_BY_NAME = {**{cls.__name__: cls for cls in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)},
            "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
            "unit_norm": UnitNorm}


_REGISTRY = Registry("constraint", Constraint, _BY_NAME)


def serialize(constraint):
    """``{"class_name": "MaxNorm", "config": {...}}``, JSON-serializable."""
    return _REGISTRY.serialize(constraint)


def deserialize(config):
    """Rebuild a constraint from what ``serialize`` returned."""
    return _REGISTRY.deserialize(config)


def get(identifier):
    """A constraint from an instance, a class, a name ("max_norm"), a config
    dict or any callable ``f(w) -> new w``; ``None`` stays ``None``."""
    return _REGISTRY.get(identifier)
