"""Learning-rate schedules: ``keras.optimizers.schedules`` (also reachable as
``minicnn.optimizers.schedules``).

    lr = minicnn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.9)
    model.compile(optimizer=minicnn.optimizers.SGD(learning_rate=lr), ...)

A schedule is a function of the optimizer step: before every update the
optimizer evaluates ``schedule(optimizer.iterations)`` (0 on the first step),
as Keras does, and hands that number to its kernel. Each ``__call__`` follows
its Keras 3 twin (``keras/src/optimizers/schedules/learning_rate_schedule.py``)
operation by operation in float32, the dtype Keras gives a Python-float
initial learning rate, so the values agree with Keras's to float32 round-off.
"""
import math

import numpy as np

from .registry import Configurable, Registry

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "serialize",
           "deserialize", "get"]

_F = np.float32


class LearningRateSchedule(Configurable):
    """Base class: ``__call__(step)`` -> the learning rate at that optimizer step
    (``from_config`` and ``repr`` come from ``registry.Configurable``)."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override `get_config()` in order to be serializable.")


def _positive_steps(owner, decay_steps):
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, (int, float, np.number)) \
            or not decay_steps > 0:
        raise ValueError(f"{owner}: argument `decay_steps` must be > 0. Received: "
                         f"decay_steps={decay_steps!r}")


class _RateDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, and the
    progress ``step / decay_steps`` (floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _positive_steps(type(self).__name__, decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase
        self.name = name or type(self).__name__

    def progress(self, step):
        p = _F(step) / _F(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent
    floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _F(self.initial_learning_rate) * np.power(_F(self.decay_rate),
                                                         self.progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while step <= boundaries[0], ``values[i]`` while
    boundaries[i-1] < step <= boundaries[i], ``values[-1]`` after the last."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of "
                             f"values. Received: boundaries={boundaries} of length "
                             f"{len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return _F(value)
        return _F(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` along
    ``(1 - step / decay_steps) ** power`` (restarting when ``cycle``)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _positive_steps("PolynomialDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def __call__(self, step):
        initial, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        step, decay_steps = _F(step), _F(self.decay_steps)
        if self.cycle:
            multiplier = _F(1.0) if step == 0 else np.ceil(step / _F(self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * np.power(_F(1) - p, _F(self.power)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio
    floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate) *
                                                 self.progress(step))


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter's SGDR without restarts), with Keras 3's
    optional linear warmup: from ``initial_learning_rate`` to ``warmup_target``
    over ``warmup_steps``, then a cosine from ``warmup_target`` (or, without a
    warmup, from ``initial_learning_rate``) down to ``alpha`` times it over
    ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _positive_steps("CosineDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate, decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step, decay_steps, decay_from):
        completed = step / decay_steps
        cosine = _F(0.5) * (_F(1.0) + np.cos(_F(math.pi) * completed))
        decayed = _F(1 - self.alpha) * cosine + _F(self.alpha)
        return decay_from * decayed

    def __call__(self, step):
        initial, decay_steps, step = _F(self.initial_learning_rate), _F(self.decay_steps), _F(step)
        if self.warmup_target is None:
            return self._decay(min(step, decay_steps), decay_steps, initial)
        target, warmup_steps = _F(self.warmup_target), _F(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return self._decay(step - warmup_steps, decay_steps, target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                             PolynomialDecay, InverseTimeDecay, CosineDecay)}
_REGISTRY = Registry("learning rate schedule", LearningRateSchedule, _SCHEDULES,
                     accepts=lambda s: isinstance(s, LearningRateSchedule))


def serialize(schedule):
    """Keras's form: ``{"module": "keras.optimizers.schedules", "class_name": ...,
    "config": {...}, "registered_name": None}``."""
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config):
    """A schedule from its ``serialize`` form (Keras's)."""
    return _REGISTRY.deserialize(config)


def get(identifier):
    """A schedule from a schedule, or its ``serialize`` form."""
    return _REGISTRY.get(identifier)
