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
import numbers
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


def check_keras_only(owner, name, value, supported):
    """Keras accepts other values of ``name`` than minicnn does (``data_format=
    "channels_first"``, ``groups=2``, ...): raise a ValueError naming the argument,
    what minicnn supports and what it received. Returns ``value``."""
    # ``value in supported``, but an array (a tensor for input_tensor) compares by identity
    if not any(value is s or (not isinstance(value, np.ndarray) and value == s)
               for s in supported):
        expected = " or ".join(f"{name}={s!r}" for s in supported)
        raise ValueError(f"{owner}: minicnn supports {expected} only, "
                         f"received {name}={value!r}")
    return value


def check_data_format(owner, data_format):
    """Keras's ``data_format``: None means "channels_last", the only layout minicnn has."""
    value = "channels_last" if data_format is None else str(data_format).lower()
    return check_keras_only(owner, "data_format", value, ("channels_last",))


def check_number(owner, name, value, expected, ok):
    """A real number for which ``ok(value)`` holds, else a ValueError saying ``expected``.

    ``check_number(owner, "rate", rate, "a float in [0, 1]", lambda r: 0 <= r <= 1)``"""
    if not isinstance(value, numbers.Real) or not ok(value):
        raise ValueError(f"{owner}: {name} must be {expected}, received {name}={value!r}")
    return value


def is_positive_int(value):
    return isinstance(value, (int, np.integer)) and value >= 1


def positive_int(owner, name, value):
    """An int >= 1 (``filters``, ``units``) as a Python int, else a ValueError."""
    if not is_positive_int(value):
        raise ValueError(f"{owner}: {name} must be a positive int, received {name}={value!r}")
    return int(value)


def as_pair(value, what, owner, minimum=1):
    """An int or a pair of ints -> a validated tuple of two ints."""
    if isinstance(value, (int, np.integer)):
        pair = (value, value)
    else:
        pair = tuple(value) if hasattr(value, "__iter__") and not isinstance(value, str) else ()
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


class PerThread:
    """A layer attribute holding one dict per thread (empty until first used)."""

    def __init__(self, doc):
        self.__doc__ = doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        return layer._per_thread.__dict__.setdefault(self.name, {})

    def __set__(self, layer, value):
        setattr(layer._per_thread, self.name, value)


def _options_module(option):
    """"kernel_initializer" -> minicnn.initializers, "..._regularizer" -> regularizers, ..."""
    from .. import constraints, initializers, regularizers
    return {"initializer": initializers, "regularizer": regularizers,
            "constraint": constraints}[option.rsplit("_", 1)[1]]


class Layer:
    """Base class: naming, weights bookkeeping, input checks, config."""

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None, input_dim=None,
                 activity_regularizer=None, autocast=True):
        """The arguments every Keras layer takes. ``autocast`` is accepted and stored,
        but minicnn never casts: an input of another dtype is an error."""
        self.name = name or unique_name(_snake(type(self).__name__))
        self.dtype = backend.standardize_dtype(dtype)
        if not isinstance(trainable, (bool, np.bool_)):      # Keras checks this too
            raise ValueError(f"{self.owner}: trainable must be a bool, "
                             f"received trainable={trainable!r}")
        self.trainable = bool(trainable)
        self.activity_regularizer = check_keras_only(self.owner, "activity_regularizer",
                                                     activity_regularizer, (None,))
        self.autocast = autocast
        self._per_thread = threading.local()      # grads, cache and workspace, see below
        self.params = {}
        self.grads = {}
        self.state = {}
        self.built = False
        self.input_shape = None
        self.output_shape = None
        # Keras lets the first layer declare input_shape=(28, 28, 1) (no batch axis),
        # or input_dim=784 for input_shape=(784,).
        if input_dim is not None:
            input_shape = (input_dim,)
        self._declared_input_shape = None if input_shape is None else (None, *input_shape)

    @property
    def owner(self):
        """How error messages name this layer: ``Conv2D 'conv2d_1'``."""
        return f"{type(self).__name__} '{self.name}'"

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

    @property
    def weights(self):
        """The weight arrays themselves (not copies), in ``get_weights`` order."""
        return [self.params[k] if k in self.params else self.state[k] for k in self.weight_keys()]

    def get_weights(self):
        return [w.copy() for w in self.weights]

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
            reg.add_gradient(self.params[key], self.grads[key])

    def apply_constraints(self):
        for key, constraint in getattr(self, "_constraints", {}).items():
            self.params[key][...] = constraint(self.params[key])

    # -- what forward keeps for backward, and what backward finds: one per thread ------
    # Each thread has its own, so several threads may run one model at once:
    # concurrent predict calls, and the workers of a batch split across the
    # cores (minicnn.parallel), each on its own shard.
    grads = PerThread("dL/dw of the last ``backward`` in this thread, keyed like ``params``")
    cache = PerThread("the named values the last ``forward`` in this thread kept for "
                      "``backward``")
    workspace = PerThread("large work arrays the fast kernels keep between steps (never "
                          "outputs)")

    def draw_batch_noise(self, rows):
        """The random numbers a training forward on ``rows`` samples would draw, drawn
        now (None: this layer draws none). A batch split across workers draws them
        up front for the whole batch, so the numbers do not depend on the split."""
        return None

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
            raise TypeError(f"{self.owner} expects a numpy array, received {type(x).__name__}")
        if x.dtype != self.dtype:
            raise TypeError(f"{self.owner} expects {self.dtype.name} input, received {x.dtype}")
        if rank is not None and x.ndim != rank:
            raise ValueError(f"{self.owner} expects {rank}-D input"
                             f"{' (NHWC)' if rank == 4 else ''}, received shape {x.shape}")
        if self.built and self.input_shape is not None:
            expected = self.input_shape[1:]
            if len(expected) == x.ndim - 1 and any(
                    e is not None and e != a for e, a in zip(expected, x.shape[1:])):
                raise ValueError(f"{self.owner} was built for input shape {self.input_shape}, "
                                 f"received {x.shape}")
        return x

    # -- the two passes ----------------------------------------------------------
    def forward(self, x, training=False):
        """Return the layer's output for x; keep what backward needs in ``self.cache``."""
        raise NotImplementedError

    def backward(self, dy, from_logits=False, compute_dx=True):
        """Return dL/dx from dy = dL/dy and fill ``self.grads`` (see the module docstring)."""
        raise NotImplementedError

    def __call__(self, inputs, training=None, **kwargs):
        """Called on symbolic tensors (``Input(...)``) it adds this layer to a
        functional graph and returns its symbolic output; called on arrays it
        builds the layer if needed and returns ``forward(inputs, training)``.

        A layer with several inputs (``Concatenate``, ``Add``, ...) takes a list:
        it is built with a list of shapes, and its ``forward`` takes a list of
        arrays and its ``backward`` returns a list of gradients."""
        from ..graph import call_symbolic, is_symbolic
        from ..tape import call_layer, recording
        if is_symbolic(inputs):
            return call_symbolic(self, inputs, training=training, **kwargs)
        if recording():                  # inside a GradientTape: the call is recorded, as
            return call_layer(self, inputs, training)   # TF watches a layer's weights
        if kwargs:
            raise TypeError(f"{self.owner} received unexpected call arguments {sorted(kwargs)}")
        if not self.built:
            if isinstance(inputs, (list, tuple)):
                self.build([(None,) + tuple(np.shape(x))[1:] for x in inputs])
            else:
                self.build((None,) + tuple(np.shape(inputs))[1:])
        return self.forward(inputs, training=bool(training))

    @property
    def input(self):
        """The symbolic tensor(s) this layer was called on (functional graphs)."""
        from ..graph import layer_tensor
        return layer_tensor(self, "input")

    @property
    def output(self):
        """The symbolic tensor(s) this layer's call returned (functional graphs)."""
        from ..graph import layer_tensor
        return layer_tensor(self, "output")

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


class KernelBias:
    """What every kernel-and-bias layer (Dense, Conv1D, Conv2D, Conv2DTranspose) shares:
    the activation, ``use_bias``, the weight options, and Keras's ``layer.kernel`` /
    ``layer.bias`` (the live arrays; ``bias`` is None without one)."""

    def set_kernel_options(self, activation, use_bias, kernel_initializer, bias_initializer,
                           kernel_regularizer, bias_regularizer, kernel_constraint,
                           bias_constraint):
        """The arguments every kernel-and-bias layer (Dense, Conv1D/2D, Conv2DTranspose)
        shares: the activation, ``use_bias`` and the weight options."""
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.set_weight_options(kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint)

    def add_kernel_and_bias(self, kernel_shape, units):
        """Create ``kernel`` of ``kernel_shape`` and, with ``use_bias``, ``bias`` (units,)."""
        self.add_weight("kernel", kernel_shape, self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (units,), self.bias_initializer, self.bias_regularizer,
                            self.bias_constraint)

    @property
    def kernel(self):
        if "kernel" not in self.params:
            raise AttributeError(f"{self.owner} is not built yet, so it has no kernel")
        return self.params["kernel"]

    @property
    def bias(self):
        return self.params.get("bias")
