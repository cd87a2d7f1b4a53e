"""Optimizers: the rules that turn gradients into weight updates.

Each optimizer follows its Keras 3 twin (``keras/src/optimizers/*.py``) step
for step, so a minicnn model and a tf.keras model started from the same
weights and fed the same gradients stay equal up to float32 round-off.

Usage::

    opt = Adam(learning_rate=1e-3)
    opt.apply(grads, variables)  # two lists of arrays; variables change in place

Notation in the docstrings: ``w`` a variable, ``g`` its gradient, ``lr`` the
learning rate and ``t = iterations + 1`` the number of the step being taken
(1 on the first ``apply``).

State. Per-variable state arrays ("slots": momentum, velocity, ...) are
created on the first ``apply``, shaped and typed like their variable, and are
matched to variables by position, so always pass the variables in the same
order. ``get_state()`` / ``set_state()`` turn them into a flat dict of arrays
that fits in an ``.npz`` file.

Dtype. A variable is updated in its own dtype. Hyper-parameters are cast to
it first (a ``np.float64`` scalar would silently promote a float32 array);
expressions such as ``1 - beta_1`` are worked out in Python and then cast, as
TensorFlow does when it turns a Python number into a tensor. In float32 this
reproduces Keras bit for bit (global_clipnorm aside). In float64 Keras rounds
the learning rate, momentum and betas to float32 first; minicnn does not.

Kernels. ``update_step`` works out the scalars of the step (casts, bias
corrections) and hands the element-wise rule to a kernel of
``minicnn.kernels``: one pass over the elements in Numba, or its NumPy twin in
``minicnn/kernels/optim_reference.py``, the same formulas as below, line by
line and bit for bit.
"""
import math

import numpy as np

from minicnn import kernels, schedules
from minicnn.registry import Configurable, Registry
from minicnn.schedules import LearningRateSchedule

__all__ = ["schedules", "Optimizer", "SGD", "RMSprop", "Adam", "Adagrad", "Adadelta",
           "Adamax", "Nadam", "get", "serialize", "deserialize"]

# Keras writes these into every optimizer config; minicnn does not implement
# them, so a Keras config is accepted only when they keep their defaults.
_KERAS_ONLY_DEFAULTS = {
    "weight_decay": None, "use_ema": False, "ema_momentum": 0.99,
    "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def _check_number(owner, name, value, low=0.0, high=math.inf, high_open=False):
    """Return ``value`` as a float, or raise if it is not a finite number in [low, high].

    NaN and inf are refused: an infinite learning rate or epsilon turns every
    weight into NaN at the first step, far from the line that caused it.
    """
    number = _as_float(value)
    bad = (number is None or not math.isfinite(number) or not low <= number <= high
           or (high_open and number == high))
    if bad:
        upper = "inf)" if high == math.inf else f"{high}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: `{name}` must be a finite number in [{low}, {upper}, "
                         f"received {name}={value!r}")
    return number


def _as_float(value):
    """``float(value)`` for an int or float (not a bool); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return None
    try:
        return float(value)
    except OverflowError:        # an int too large for a float, e.g. 10**400
        return None


class Optimizer(Configurable):
    """Base class: gradient clipping, slot bookkeeping, state and config.

    A subclass names its slots in ``slot_names()`` and writes the rule for one
    variable in ``update_step(g, w, lr, slots)``, where ``lr`` is already cast
    to ``w.dtype`` and ``slots`` maps a slot name to this variable's array.

    Gradient clipping (at most one of the three, applied before the update):

    * ``clipnorm=c``:        each g <- g * c / max(||g||, c)
    * ``global_clipnorm=c``: every g <- g * c / max(sqrt(sum_i ||g_i||^2), c)
    * ``clipvalue=c``:       each g <- clip(g, -c, c)
    """

    def __init__(self, learning_rate, name=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        owner = type(self).__name__
        self.name = name or owner.lower()
        self.learning_rate = learning_rate
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                 "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(f"{owner}: only one of clipnorm, clipvalue and "
                             f"global_clipnorm can be set, received {clips}")
        for key, value in clips.items():
            if value is not None:
                _check_number(owner, key, value)
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            clipnorm, clipvalue, global_clipnorm)
        self.iterations = 0
        self._shapes = None  # shapes of the variables, set on the first apply
        self._slots = {}     # slot name -> [array per variable]

    @property
    def learning_rate(self):
        """The learning rate of the next step: the number given, or the schedule's
        value at ``iterations`` (as Keras's ``optimizer.learning_rate``)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return self._learning_rate(self.iterations)
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict):                 # a serialized schedule
            value = schedules.deserialize(value)
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
            return
        if isinstance(getattr(self, "_learning_rate", None), LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object "
                            "as its `learning_rate` constructor argument, hence its learning "
                            "rate is not settable. If you need the learning rate to be "
                            "settable, you should instantiate the optimizer with a float "
                            "`learning_rate` argument.")
        self._learning_rate = _check_number(type(self).__name__, "learning_rate", value)

    @property
    def learning_rate_schedule(self):
        """The ``LearningRateSchedule`` given as learning rate, or None."""
        lr = self._learning_rate
        return lr if isinstance(lr, LearningRateSchedule) else None

    # --- what a subclass writes ---------------------------------------------
    def slot_names(self):
        """Names of the per-variable state arrays this optimizer keeps."""
        return ()

    def update_step(self, g, w, lr, slots):
        """Update ``w`` (and ``slots``) in place from gradient ``g``."""
        raise NotImplementedError

    def _begin_step(self):
        """Hook run once per ``apply``, before the variables are updated."""

    # --- the training-loop API ------------------------------------------------
    def apply(self, grads, variables):
        """Update every array of ``variables`` in place from ``grads``."""
        grads, variables = list(grads), list(variables)
        if not grads and not variables:
            return  # nothing to train (Keras: a no-op, iterations unchanged)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: received {len(grads)} "
                             f"gradients for {len(variables)} variables")
        for i, (g, w) in enumerate(zip(grads, variables)):
            if not isinstance(w, np.ndarray) or g is None or np.shape(g) != w.shape:
                raise ValueError(
                    f"{type(self).__name__}.apply: variable {i} must be a numpy "
                    f"array with a gradient of the same shape, received variable "
                    f"{type(w).__name__} {np.shape(w)} and gradient "
                    f"{None if g is None else np.shape(g)}")
        if self._shapes is None:
            self._build(variables)
        self._check_variables(variables)
        grads = self._clip_gradients(
            [np.asarray(g, dtype=w.dtype) for g, w in zip(grads, variables)])
        self._begin_step()
        lr = self.learning_rate        # a schedule: its value at this step, once per step
        for i, (g, w) in enumerate(zip(grads, variables)):
            slots = {name: arrays[i] for name, arrays in self._slots.items()}
            self.update_step(g, w, w.dtype.type(lr), slots)
        self.iterations += 1

    def _build(self, variables):
        self._shapes = [w.shape for w in variables]
        self._slots = {name: [np.zeros_like(w) for w in variables]
                       for name in self.slot_names()}

    def _check_variables(self, variables):
        if [w.shape for w in variables] != list(self._shapes):
            raise ValueError(
                f"{type(self).__name__} was built for variables of shapes "
                f"{list(self._shapes)}, received {[w.shape for w in variables]}")
        for arrays in self._slots.values():  # e.g. float64 slots from an .npz
            for i, w in enumerate(variables):
                if arrays[i].dtype != w.dtype:
                    arrays[i] = arrays[i].astype(w.dtype)

    def _clip_gradients(self, grads):
        # Each returns new arrays: the caller's gradients are never modified.
        if self.clipnorm:
            clipped = []
            for g in grads:
                c = g.dtype.type(self.clipnorm)
                clipped.append(g * c / max(np.sqrt(np.sum(g * g)), c))
            return clipped
        if self.global_clipnorm:
            norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            scale = self.global_clipnorm / max(norm, self.global_clipnorm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # --- saving ---------------------------------------------------------------
    def get_state(self):
        """``{"iterations": array, "slot/<name>/<i>": array, ...}`` (copies)."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for name, arrays in self._slots.items():
            for i, array in enumerate(arrays):
                state[f"slot/{name}/{i}"] = array.copy()
        return state

    def set_state(self, state):
        """Restore what ``get_state`` returned; training then continues identically."""
        state = dict(state)
        self.iterations = int(state.pop("iterations"))
        slots = {}
        for key, array in state.items():
            prefix, name, index = (key.split("/") + ["", ""])[:3]
            if prefix != "slot" or name not in self.slot_names() or not index.isdigit():
                raise ValueError(f"{type(self).__name__}.set_state: unknown key {key!r}; "
                                 f"expected 'iterations' or 'slot/<name>/<i>' with name "
                                 f"in {self.slot_names()}")
            slots.setdefault(name, {})[int(index)] = np.array(array)
        if slots and set(slots) != set(self.slot_names()):
            raise ValueError(f"{type(self).__name__}.set_state: expected slots "
                             f"{self.slot_names()}, received {sorted(slots)}")
        self._slots = {name: [by_index[i] for i in range(len(by_index))]
                       for name, by_index in slots.items()}
        first = next(iter(self._slots.values()), None)
        self._shapes = None if first is None else [a.shape for a in first]

    # --- config ---------------------------------------------------------------
    def get_config(self):
        schedule = self.learning_rate_schedule
        return {"name": self.name, "learning_rate": self._learning_rate if schedule is None
                else schedules.serialize(schedule),
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key, default in _KERAS_ONLY_DEFAULTS.items():
            if key in config:
                if config[key] != default:
                    raise ValueError(f"{cls.__name__}: minicnn does not support "
                                     f"{key}={config[key]!r}")
                del config[key]
        return cls(**config)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    momentum == 0:  w <- w - lr * g
    momentum  > 0:  v <- momentum * v - lr * g      (slot "momentum", starts at 0)
                    w <- w + v                       (classical momentum)
                    w <- w + momentum * v - lr * g   (nesterov=True)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def slot_names(self):
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, g, w, lr, slots):
        kernels.sgd_update(w, g, slots.get("momentum"), lr, w.dtype.type(self.momentum),
                           self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Divide the step by a running root-mean-square of the gradient.

    v <- rho * v + (1 - rho) * g^2                  (slot "velocity")
    centered=False:  d = v + epsilon
    centered=True:   a <- rho * a + (1 - rho) * g   (slot "average_gradient")
                     d = v - a^2 + epsilon          (a running variance)
    step = lr * g / sqrt(d)                          (epsilon inside the sqrt)
    momentum == 0:   w <- w - step
    momentum  > 0:   m <- momentum * m + step;  w <- w - m   (slot "momentum")
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = _check_number("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_number("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

    def slot_names(self):
        return (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                + (("average_gradient",) if self.centered else ()))

    def update_step(self, g, w, lr, slots):
        cast = w.dtype.type
        kernels.rmsprop_update(w, g, slots["velocity"], slots.get("average_gradient"),
                               slots.get("momentum"), lr, cast(self.rho), cast(1 - self.rho),
                               cast(self.epsilon), cast(self.momentum))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2014), Keras's formulation.

    m <- m + (g - m) * (1 - beta_1)                 (slot "momentum")
    v <- v + (g^2 - v) * (1 - beta_2)               (slot "velocity")
    amsgrad=True: v_hat <- max(v_hat, v), used instead of v  (slot "velocity_hat")
    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)   (bias correction)
    w <- w - alpha * m / (sqrt(v) + epsilon)

    Epsilon is added to sqrt(v) before the bias correction of v, so it acts as
    the paper's "epsilon hat", not the paper's epsilon.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("Adam", "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("Adam", "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("Adam", "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def slot_names(self):
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def update_step(self, g, w, lr, slots):
        cast = w.dtype.type
        t = cast(self.iterations + 1)
        beta_1_power, beta_2_power = cast(self.beta_1) ** t, cast(self.beta_2) ** t
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        kernels.adam_update(w, g, slots["momentum"], slots["velocity"],
                            slots.get("velocity_hat"), alpha, cast(1 - self.beta_1),
                            cast(1 - self.beta_2), cast(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class Adagrad(Optimizer):
    """Per-coordinate step sizes that shrink with the summed squared gradients.

    s <- s + g^2        (slot "accumulator", starts at initial_accumulator_value)
    w <- w - lr * g / sqrt(s + epsilon)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check_number(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _check_number("Adagrad", "epsilon", epsilon)

    def slot_names(self):
        return ("accumulator",)

    def _build(self, variables):
        super()._build(variables)
        for s in self._slots["accumulator"]:
            s[...] = self.initial_accumulator_value

    def update_step(self, g, w, lr, slots):
        kernels.adagrad_update(w, g, slots["accumulator"], lr, w.dtype.type(self.epsilon))

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): steps scaled by the RMS of past steps.

    G <- rho * G + (1 - rho) * g^2                  (slot "accumulated_grad")
    d = -sqrt(D + epsilon) * g / sqrt(G + epsilon)
    D <- rho * D + (1 - rho) * d^2                  (slot "accumulated_delta_var")
    w <- w + lr * d

    Unlike the paper (which has no learning rate), Keras multiplies the step
    by ``lr``, and its default is 0.001; pass ``learning_rate=1.0`` for the
    paper's rule.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_number("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = _check_number("Adadelta", "epsilon", epsilon)

    def slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, g, w, lr, slots):
        cast = w.dtype.type
        kernels.adadelta_update(w, g, slots["accumulated_grad"], slots["accumulated_delta_var"],
                                lr, cast(self.rho), cast(1 - self.rho), cast(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment.

    m <- m + (g - m) * (1 - beta_1)                 (slot "momentum")
    u <- max(beta_2 * u, |g|)                       (slot "norm")
    w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("Adamax", "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_number("Adamax", "epsilon", epsilon)

    def slot_names(self):
        return ("momentum", "norm")

    def update_step(self, g, w, lr, slots):
        cast = w.dtype.type
        beta_1_power = cast(self.beta_1) ** cast(self.iterations + 1)
        kernels.adamax_update(w, g, slots["momentum"], slots["norm"], lr, cast(1 - self.beta_1),
                              cast(self.beta_2), 1 - beta_1_power, cast(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), with its momentum schedule.

    mu_t = beta_1 * (1 - 0.5 * 0.96^t)              (momentum schedule)
    P_t  = mu_1 * ... * mu_t                        (state "u_product", one scalar)
    m <- m + (g - m) * (1 - beta_1)                 (slot "momentum")
    v <- v + (g^2 - v) * (1 - beta_2)               (slot "velocity")
    m_hat = mu_{t+1} * m / (1 - P_t * mu_{t+1}) + (1 - mu_t) * g / (1 - P_t)
    v_hat = v / (1 - beta_2^t)
    w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)

    As in Keras, P_t is kept in the dtype of the first variable and updated
    once per ``apply``; ``get_state`` saves it under the key "u_product".
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_number("Nadam", "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("Nadam", "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("Nadam", "epsilon", epsilon)
        self._u_product = None

    def slot_names(self):
        return ("momentum", "velocity")

    def _build(self, variables):
        super()._build(variables)
        if self._u_product is None:  # not restored by set_state
            self._u_product = variables[0].dtype.type(1.0) if variables else np.float32(1.0)

    def _begin_step(self):
        # P_t = P_{t-1} * mu_t, multiplied in Keras's order: (P * beta_1) * (...)
        cast = type(self._u_product)
        decay = 1 - cast(0.5) * cast(0.96) ** cast(self.iterations + 1)
        self._u_product = self._u_product * cast(self.beta_1) * decay

    def update_step(self, g, w, lr, slots):
        cast = w.dtype.type
        # Keras casts beta_1, beta_2 first here, so 1 - beta is rounded in w's dtype
        beta_1, beta_2, t = cast(self.beta_1), cast(self.beta_2), cast(self.iterations + 1)
        mu_t = beta_1 * (1 - cast(0.5) * cast(0.96) ** t)
        mu_next = beta_1 * (1 - cast(0.5) * cast(0.96) ** (t + 1))
        u_product = cast(self._u_product)
        u_product_next = u_product * mu_next
        kernels.nadam_update(w, g, slots["momentum"], slots["velocity"], lr, 1 - beta_1,
                             1 - beta_2, mu_next, 1 - u_product_next, 1 - mu_t, 1 - u_product,
                             1 - beta_2 ** t, cast(self.epsilon))

    def get_state(self):
        state = super().get_state()
        if self._u_product is not None:
            state["u_product"] = np.array(self._u_product)
        return state

    def set_state(self, state):
        state = dict(state)
        u_product = state.pop("u_product", None)
        super().set_state(state)
        self._u_product = None if u_product is None else np.asarray(u_product)[()]

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


_OPTIMIZERS = {cls.__name__.lower(): cls
               for cls in (SGD, RMSprop, Adam, Adagrad, Adadelta, Adamax, Nadam)}


_REGISTRY = Registry("optimizer", Optimizer, _OPTIMIZERS,
                     accepts=lambda o: isinstance(o, Optimizer), key=lambda n: str(n).lower())


def serialize(optimizer):
    """``{"class_name": "Adam", "config": {...}}``, JSON-serializable."""
    return _REGISTRY.serialize(optimizer)


def deserialize(config):
    """Rebuild an optimizer from what ``serialize`` returned."""
    return _REGISTRY.deserialize(config)


def get(identifier):
    """An optimizer from an instance, a class, a name ("adam") or a config dict."""
    return _REGISTRY.get(identifier)
