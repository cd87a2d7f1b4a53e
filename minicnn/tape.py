"""GradientTape: gradients of your own scalar functions, as ``tf.GradientTape`` gives them.

    x = minicnn.Variable(image[None])                   # (1, H, W, C), the input to climb
    with minicnn.GradientTape() as tape:
        activation = feature_extractor(x)               # a layer or model call
        loss = ops.mean(activation[:, 2:-2, 2:-2, 7])   # minicnn.ops, or + - * / and [...]
    grads = tape.gradient(loss, x)                      # dloss/dx, shaped like x

How it works: inside the ``with`` block every operation on a ``Tensor`` (the
``minicnn.ops`` functions, the arithmetic operators, indexing, and calls of
layers and models) computes its value at once and appends one *record* to
the tape: the inputs, the output, and the function that maps the output's
gradient to the inputs' gradients (each op's backward, written beside its
forward in ``minicnn.ops``; a layer's is its ``backward``). ``gradient``
walks the records in reverse, from d target/d target = 1, adding up the
gradient of every tensor read by several records, the chain rule as the
layers' ``backward`` methods apply it inside a model.

Sources may be tensors (``Variable``, a watched array, any tensor computed on
the tape, such as an intermediate output of a model call) or weight arrays of
the layers called (``model.trainable_weights``): a layer call adds its
``grads`` to its weights' gradients.
"""
import threading

import numpy as np

_active = threading.local()           # the tapes recording in this thread, innermost last


def _tapes():
    return _active.__dict__.setdefault("stack", [])


class Tensor:
    """A value (a NumPy array) that the tapes can follow. ``numpy()`` gives the array."""

    __array_priority__ = 1000         # ``array + tensor`` lands in Tensor.__radd__

    def __init__(self, value, dtype=None):
        self.value = np.asarray(value, dtype=dtype)

    # -- what an array has ------------------------------------------------------------
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)

    def numpy(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __len__(self):
        return len(self.value)

    def __float__(self):
        return float(self.value)

    def __repr__(self):
        return f"<minicnn.Tensor shape={self.shape} dtype={self.dtype.name}\n{self.value}>"

    # The operators (+ - * / ** @, unary -, and indexing) are minicnn.ops functions,
    # attached to this class at the end of minicnn/ops.py: x + y is ops.add(x, y).


class Variable(Tensor):
    """A tensor every tape watches (``tf.Variable``'s role in gradient ascent);
    ``assign`` / ``assign_add`` change its value in place."""

    def assign(self, value):
        self.value[...] = np.asarray(value)
        return self

    def assign_add(self, value):
        self.value += np.asarray(value, dtype=self.value.dtype)
        return self


def as_value(x):
    """The array behind a Tensor, or x as an array."""
    return x.value if isinstance(x, Tensor) else np.asarray(x)


def is_tracked(x):
    """True for a Tensor, or an array some active tape watches."""
    return isinstance(x, Tensor) or any(id(x) in tape._watched for tape in _tapes())


def recording():
    """True inside a ``with GradientTape()`` block."""
    return bool(_tapes())


def record(inputs, output, backward, weights=(), totals=None):
    """Append ``output = f(inputs)`` to every active tape. ``backward(dy)`` returns one
    gradient per input (None where there is none); ``weights``: the ``(array,
    gradient function)`` pairs of a layer call, read right after ``backward``;
    ``totals()``: for a model call, the whole gradient of each output (an output
    that other outputs are computed from gets theirs too)."""
    for tape in _tapes():
        tape._records.append((list(inputs), output, backward, weights, totals))


def call_layer(layer, inputs, training=None):
    """``layer(inputs)`` on tensors inside a tape: the forward pass now, its backward
    recorded. The call keeps its own cache and work arrays, so a layer called
    twice on one tape gives both calls' gradients."""
    model = hasattr(layer, "leaf_layers")
    if model and not layer._single_input and not isinstance(inputs, (list, tuple)):
        inputs = [inputs]                      # Model([input], ...) called on one array
    multi = isinstance(inputs, (list, tuple))
    values = [as_value(x) for x in (inputs if multi else [inputs])]
    arg = values if multi else values[0]
    if not layer.built:
        layer.build([(None, *v.shape[1:]) for v in values] if multi
                    else (None, *values[0].shape[1:]))
    layer.cache, layer.workspace = {}, {}
    y = layer.forward(arg, training=bool(training))
    cache, workspace = layer.cache, layer.workspace
    multi_out = isinstance(y, list)
    outputs = [Tensor(v) for v in (y if multi_out else [y])]
    slots = layer._trainable_slots() if model else \
        ([(layer, key) for key in layer.params] if layer.trainable else [])
    totals = []

    def backward(dy):
        layer.cache, layer.workspace = cache, workspace
        if model:
            dx = layer.backward(dy, output_totals=totals)
        else:
            dx = layer.backward(dy)
        return dx if multi else [dx]

    weights = [(leaf.params[key], lambda leaf=leaf, key=key: leaf.grads[key])
               for leaf, key in slots]
    record(list(inputs) if multi else [inputs], outputs if multi_out else outputs[0],
           backward, weights, (lambda: totals) if model else None)
    return outputs if multi_out else outputs[0]


class GradientTape:
    """Records operations on tensors inside ``with GradientTape() as tape:``.

    ``persistent=False`` (TensorFlow's default): ``gradient`` may be called once.
    ``watch_accessed_variables`` is accepted for TensorFlow's signature; every
    ``Variable`` is watched."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._records = []
        self._watched = set()          # id() of the plain arrays watched
        self._used = False

    def __enter__(self):
        _tapes().append(self)
        return self

    def __exit__(self, *exc):
        _tapes().remove(self)
        return False

    def watch(self, x):
        """Follow an array (or tensor) not made on the tape: later ops on it record."""
        for item in x if isinstance(x, (list, tuple)) else [x]:
            if not isinstance(item, Tensor):
                self._watched.add(id(item))

    def gradient(self, target, sources, output_gradients=None):
        """d target / d source for each source (a list for a list), None where the
        target does not depend on it. A non-scalar target is summed (as TensorFlow
        does), or weighted by ``output_gradients``."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients (or GradientTape(persistent=True))")
        self._used = True
        single = not isinstance(sources, (list, tuple))
        sources = [sources] if single else list(sources)
        if not isinstance(target, Tensor):
            raise ValueError("the target was not computed on this tape (use minicnn.ops "
                             "and Tensor operations inside the `with` block)")
        seed = np.ones_like(target.value) if output_gradients is None else \
            np.asarray(output_gradients, dtype=target.dtype)
        grads = {id(target): seed}
        weight_grads = {}
        for inputs, output, backward, weights, totals in reversed(self._records):
            outputs = output if isinstance(output, list) else [output]
            douts = [grads.get(id(o)) for o in outputs]
            if all(d is None for d in douts):
                continue
            douts = [np.zeros_like(o.value) if d is None else d for d, o in zip(douts, outputs)]
            dxs = backward(douts if isinstance(output, list) else douts[0])
            if totals is not None:                            # a model's inner outputs
                grads.update((id(o), t) for o, t in zip(outputs, totals()) if t is not None)
            for array, read in weights:                       # a layer call's dW
                g = read()
                weight_grads[id(array)] = weight_grads[id(array)] + g \
                    if id(array) in weight_grads else g.copy()
            for x, dx in zip(inputs, dxs):
                if dx is not None and x is not None:
                    key = id(x)
                    grads[key] = grads[key] + dx if key in grads else dx
        result = []
        for s in sources:                   # a tensor, a watched array or a layer weight
            g = grads.get(id(s), weight_grads.get(id(s)))
            result.append(None if g is None else np.asarray(g))
        return result[0] if single else result
