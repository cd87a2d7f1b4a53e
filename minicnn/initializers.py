"""Initializers: the random (or constant) starting values of weights.

An initializer is a callable ``init(shape, dtype=None) -> np.ndarray``;
``dtype=None`` means ``minicnn.backend.floatx()`` ("float32" unless changed).
Random draws come from the shared generator ``minicnn.backend.rng()``, so
``minicnn.backend.set_random_seed(s)`` makes a whole run reproducible. (An
initializer built with ``seed=s`` instead gives the same values at every call,
as in Keras 3.)

Fans follow Keras (``compute_fans``): a dense kernel ``(in, out)`` has
fan_in = in, fan_out = out; a conv kernel ``(kh, kw, cin, cout)`` has
fan_in = kh*kw*cin and fan_out = kh*kw*cout.

The variance-scaling family keeps the variance of activations (or of
gradients) roughly constant from layer to layer:

==============  ======================  ====================================
name            distribution            parameter
==============  ======================  ====================================
glorot_uniform  U(-limit, limit)        limit = sqrt(6 / (fan_in + fan_out))
glorot_normal   truncated normal        stddev = sqrt(2 / (fan_in + fan_out))
he_uniform      U(-limit, limit)        limit = sqrt(6 / fan_in)
he_normal       truncated normal        stddev = sqrt(2 / fan_in)
lecun_uniform   U(-limit, limit)        limit = sqrt(3 / fan_in)
lecun_normal    truncated normal        stddev = sqrt(1 / fan_in)
==============  ======================  ====================================

The truncated normals cut at 2 standard deviations, which shrinks the spread
by a factor 0.8796...; Keras divides the stddev by that factor first, so the
values drawn really have the stddev in the table.
"""
import math

import numpy as np

from minicnn import backend
from minicnn.registry import Configurable, Registry

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotUniform",
           "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
           "compute_fans", "get", "serialize", "deserialize"]

# Standard deviation of a standard normal truncated to [-2, 2].
TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight shape, with Keras's rules."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])  # kh*kw for a conv kernel, 1 for dense
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer(Configurable):
    """Base class; a subclass writes ``__call__`` and, if it has arguments,
    ``get_config``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError


class Zeros(Initializer):
    """All zeros (the default bias initializer)."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=backend.standardize_dtype(dtype))


class Ones(Initializer):
    """All ones (BatchNormalization's gamma)."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=backend.standardize_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=backend.standardize_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomInitializer(Initializer):
    """Base of the random initializers: picks the generator to draw from."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative int "
                             f"or None, received seed={seed!r}")
        self.seed = seed

    def _generator(self):
        return backend.rng() if self.seed is None else np.random.default_rng(self.seed)

    def _normal(self, shape, mean, stddev, dtype, truncated=False):
        """mean + stddev * z, z standard normal (redrawn while |z| > 2 if truncated)."""
        dtype = backend.standardize_dtype(dtype)
        gen = self._generator()
        z = gen.standard_normal(shape, dtype=dtype)
        while truncated and np.any(outside := np.abs(z) > 2):
            z[outside] = gen.standard_normal(int(outside.sum()), dtype=dtype)
        return dtype.type(mean) + dtype.type(stddev) * z

    def _uniform(self, shape, minval, maxval, dtype):
        """minval + (maxval - minval) * u, u uniform on [0, 1)."""
        dtype = backend.standardize_dtype(dtype)
        u = self._generator().random(shape, dtype=dtype)
        return dtype.type(minval) + dtype.type(maxval - minval) * u

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal distribution N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        return self._normal(shape, self.mean, self.stddev, dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with values beyond 2 stddev from the mean redrawn.

    (The drawn values therefore have a spread of 0.88 * stddev.)
    """

    def __call__(self, shape, dtype=None):
        return self._normal(shape, self.mean, self.stddev, dtype, truncated=True)


class RandomUniform(RandomInitializer):
    """Uniform distribution on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        return self._uniform(shape, self.minval, self.maxval, dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, n = fan_in, fan_out or their mean.

    distribution="truncated_normal": stddev = sqrt(scale / n) / 0.8796...,
                                     cut at 2 stddev (so the spread is sqrt(scale/n))
    distribution="untruncated_normal": stddev = sqrt(scale / n)
    distribution="uniform":          U(-limit, limit), limit = sqrt(3 * scale / n)
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal",
                 seed=None):
        super().__init__(seed)
        name = type(self).__name__
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"{name}: scale must be a positive number, "
                             f"received scale={scale!r}")
        if mode not in self._MODES:
            raise ValueError(f"{name}: mode must be one of {self._MODES}, "
                             f"received mode={mode!r}")
        distribution = {"normal": "truncated_normal"}.get(distribution, distribution)
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {self._DISTRIBUTIONS}, "
                             f"received distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out,
             "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._uniform(shape, -limit, limit, dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(variance), dtype)
        stddev = math.sqrt(variance) / TRUNCATED_STDDEV
        return self._normal(shape, 0.0, stddev, dtype, truncated=True)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, **super().get_config()}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None):
        super().__init__(self.SCALE, self.MODE, self.DISTRIBUTION, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot/Xavier uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Glorot/Xavier normal: truncated normal with spread sqrt(2 / (fan_in + fan_out))."""
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """He uniform (for ReLU nets): U(-limit, limit), limit = sqrt(6 / fan_in)."""
    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """He normal (for ReLU nets): truncated normal with spread sqrt(2 / fan_in)."""
    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: U(-limit, limit), limit = sqrt(3 / fan_in)."""
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "uniform"


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal (for SELU nets): truncated normal with spread sqrt(1 / fan_in)."""
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


_CLASSES = (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
            LecunUniform, LecunNormal)
_SNAKE_NAMES = {"zeros": Zeros, "ones": Ones, "constant": Constant,
                "random_normal": RandomNormal, "random_uniform": RandomUniform,
                "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
                "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
                "he_uniform": HeUniform, "he_normal": HeNormal,
                "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
                # Keras aliases
                "normal": RandomNormal, "uniform": RandomUniform, "zero": Zeros,
                "one": Ones}
_BY_NAME = {**{cls.__name__: cls for cls in _CLASSES}, **_SNAKE_NAMES}


_REGISTRY = Registry("initializer", Initializer, _BY_NAME, listed=_SNAKE_NAMES)


def serialize(initializer):
    """``{"class_name": "GlorotUniform", "config": {...}}``, JSON-serializable."""
    return _REGISTRY.serialize(initializer)


def deserialize(config):
    """Rebuild an initializer from what ``serialize`` returned."""
    return _REGISTRY.deserialize(config)


def get(identifier):
    """An initializer from an instance, a class, a Keras name ("he_normal"),
    a config dict or any callable ``f(shape, dtype)``; ``None`` stays ``None``."""
    return _REGISTRY.get(identifier)
