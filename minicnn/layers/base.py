"""The Layer protocol every minicnn layer follows.

A layer is thin: hyper-parameters in ``__init__``, weights in ``build``,
``forward`` and ``backward`` next to each other, calling pure kernels.

* ``params`` - dict of weight arrays (``{"kernel": W, "bias": b}``);
* ``grads``  - dict with the same keys, *overwritten* by every ``backward``;
* ``state``  - non-trained arrays saved with the model (batch-norm moving stats);
* ``cache``  - a dict of what ``forward`` keeps for ``backward`` (named values,
  never a tuple whose order is a contract). Each thread has its own, so
  several threads may run ``forward`` on one model at once.

Every layer has the same two passes:

    y  = layer.forward(x, training=False)
    dx = layer.backward(dy, from_logits=False, compute_dx=True)

``from_logits=True`` says dy is already the gradient of the layer's
pre-activation z (a fused softmax + cross-entropy loss, or a picture made
from a ReLU's input); layers without an activation ignore it.
``compute_dx=False`` says nobody needs dx (the model's first trained layer):
a layer may then skip that work and return None.
"""
import re
import threading

import numpy as np

from .. import backend

_NAME_COUNTS = {}


def clear_session():
    """Restart automatic layer naming (``conv2d``, ``conv2d_1``, ...) as Keras does."""
    _NAME_COUNTS.clear()


def _snake(name):
    """Keras's to_snake_case: "MaxPooling2D" -> "max_pooling2d"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``, ..."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def as_pair(value, what, owner, minimum=1):
    """An int or a pair of ints -> a validated tuple of two ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{owner}: {what} must be an int or a pair of ints, received {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{owner}: {what} must be >= {minimum}, received {what}={value!r}")
    return tuple(int(v) for v in pair)


def normalize_padding(padding, owner, allow_explicit=True):
    """"valid" / "same" / int / ((t, b), (l, r)) -> "valid", "same" or ((t, b), (l, r))."""
    if isinstance(padding, str):
        key = padding.lower()
        if key in ("valid", "same"):
            return key
        raise ValueError(f"{owner}: padding must be 'valid' or 'same', received {padding!r}")
    if not allow_explicit:
        raise ValueError(f"{owner}: padding must be 'valid' or 'same', received {padding!r}")
    if isinstance(padding, (int, np.integer)):
        pairs = ((padding, padding), (padding, padding))
    else:
        try:
            pairs = tuple((p, p) if isinstance(p, (int, np.integer)) else tuple(p) for p in padding)
        except TypeError:
            pairs = None
    if (pairs is None or len(pairs) != 2 or any(len(p) != 2 for p in pairs)
            or any(not isinstance(v, (int, np.integer)) or v < 0 for p in pairs for v in p)):
        raise ValueError(f"{owner}: padding must be 'valid', 'same', a non-negative int or "
                         f"((top, bottom), (left, right)), received {padding!r}")
    return tuple(tuple(int(v) for v in p) for p in pairs)


def _options_module(option):
    """"kernel_initializer" -> minicnn.initializers, "..._regularizer" -> regularizers, ..."""
    from .. import constraints, initializers, regularizers
    return {"initializer": initializers, "regularizer": regularizers,
            "constraint": constraints}[option.rsplit("_", 1)[1]]


class Layer:
    """Base class: naming, weights bookkeeping, input checks, config."""

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None):
        self.name = name or unique_name(_snake(type(self).__name__))
        self.dtype = backend.standardize_dtype(dtype)
        self.trainable = trainable
        self.params = {}
        self.grads = {}
        self.state = {}
        self._per_thread = threading.local()      # cache and workspace, see below
        self.built = False
        self.input_shape = None
        self.output_shape = None
        # Keras lets the first layer declare input_shape=(28, 28, 1) (no batch axis).
        self._declared_input_shape = None if input_shape is None else (None, *input_shape)

    # -- weights ---------------------------------------------------------------
    def set_weight_options(self, **options):
        """Store ``kernel_initializer=...``-style arguments, resolved to objects."""
        self._weight_options = list(options)
        for option, value in options.items():
            setattr(self, option, _options_module(option).get(value))

    def weight_options_config(self):
        """The ``*_initializer / *_regularizer / *_constraint`` entries of get_config."""
        return {option: _options_module(option).serialize(getattr(self, option))
                for option in getattr(self, "_weight_options", [])}

    def add_weight(self, key, shape, initializer, regularizer=None, constraint=None):
        from .. import initializers
        value = np.asarray(initializers.get(initializer)(shape, dtype=self.dtype.name),
                           dtype=self.dtype)
        self.params[key] = np.ascontiguousarray(value)
        self.grads[key] = np.zeros_like(self.params[key])
        self._regularizers = getattr(self, "_regularizers", {})
        self._constraints = getattr(self, "_constraints", {})
        if regularizer is not None:
            self._regularizers[key] = regularizer
        if constraint is not None:
            self._constraints[key] = constraint
        return self.params[key]

    def weight_keys(self):
        """Keys of ``get_weights()`` in Keras order (trained params, then state)."""
        return list(self.params) + list(self.state)

    def get_weights(self):
        return [self.params[k].copy() if k in self.params else self.state[k].copy()
                for k in self.weight_keys()]

    def set_weights(self, weights):
        keys = self.weight_keys()
        if len(weights) != len(keys):
            raise ValueError(f"Layer '{self.name}' expects {len(keys)} weight arrays "
                             f"{keys}, received {len(weights)}")
        for key, value in zip(keys, weights):
            store = self.params if key in self.params else self.state
            value = np.asarray(value)
            if value.shape != store[key].shape:
                raise ValueError(f"Layer '{self.name}' weight '{key}' expects shape "
                                 f"{store[key].shape}, received {value.shape}")
            store[key][...] = value.astype(self.dtype, copy=False)

    def count_params(self):
        return int(sum(w.size for w in self.params.values())
                   + sum(w.size for w in self.state.values()))

    def regularization_loss(self):
        """Sum of the penalties this layer's regularizers add to the loss."""
        return sum(float(reg(self.params[k])) for k, reg in getattr(self, "_regularizers", {}).items())

    def add_regularization_grads(self):
        """Add d(penalty)/dw to ``grads`` (called by the model after ``backward``)."""
        for key, reg in getattr(self, "_regularizers", {}).items():
            self.grads[key] += reg.gradient(self.params[key]).astype(self.dtype, copy=False)

    def apply_constraints(self):
        for key, constraint in getattr(self, "_constraints", {}).items():
            self.params[key][...] = constraint(self.params[key])

    # -- what forward keeps for backward, one per thread ------------------------------
    @property
    def cache(self):
        """The named values the last ``forward`` in this thread kept for ``backward``."""
        return self._per_thread.__dict__.setdefault("cache", {})

    @cache.setter
    def cache(self, values):
        self._per_thread.cache = values

    @property
    def workspace(self):
        """A dict the fast kernels may keep large work arrays in between steps
        (never outputs), one per thread so concurrent calls never share one."""
        return self._per_thread.__dict__.setdefault("workspace", {})

    # -- shapes ----------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def check_input(self, x, rank=None):
        """Raise a clear error for wrong types, ranks and shapes; return x."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{type(self).__name__} '{self.name}' expects a numpy array, "
                            f"received {type(x).__name__}")
        if x.dtype != self.dtype:
            raise TypeError(f"{type(self).__name__} '{self.name}' expects {self.dtype.name} "
                            f"input, received {x.dtype}")
        if rank is not None and x.ndim != rank:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects {rank}-D input"
                             f"{' (NHWC)' if rank == 4 else ''}, received shape {x.shape}")
        if self.built and self.input_shape is not None:
            expected = self.input_shape[1:]
            if len(expected) == x.ndim - 1 and any(
                    e is not None and e != a for e, a in zip(expected, x.shape[1:])):
                raise ValueError(f"{type(self).__name__} '{self.name}' was built for input "
                                 f"shape {self.input_shape}, received {x.shape}")
        return x

    # -- the two passes ----------------------------------------------------------
    def forward(self, x, training=False):
        """Return the layer's output for x; keep what backward needs in ``self.cache``."""
        raise NotImplementedError

    def backward(self, dy, from_logits=False, compute_dx=True):
        """Return dL/dx from dy = dL/dy and fill ``self.grads`` (see the module docstring)."""
        raise NotImplementedError

    def __call__(self, x, training=False):
        if not self.built:
            self.build((None,) + tuple(np.shape(x))[1:])
        return self.forward(x, training=training)

    # -- config ------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self._declared_input_shape is not None:
            config["input_shape"] = list(self._declared_input_shape[1:])
        config.update(self.weight_options_config())
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
