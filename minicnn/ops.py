"""Operations on tensors, each with its backward beside its forward (like the layers).

The functions a filter-visualisation, Grad-CAM or style-transfer script calls
on a ``GradientTape`` (``minicnn.tape``), with Keras's ``keras.ops`` names
(and TensorFlow's where the chapters use them: ``reduce_mean``,
``l2_normalize``). Each one computes its value with NumPy, and, when an input
is followed by a tape, records

    backward(dy) -> one gradient per input

whose rule is written in its docstring. Without a tape they are plain NumPy
(returning a ``Tensor``; ``np.asarray`` or ``.numpy()`` gives the array).
"""
import numpy as np

from .tape import GradientTape, Tensor, as_value, is_tracked, record  # noqa: F401


def _op(inputs, value, backward):
    """Wrap ``value`` in a Tensor and record the op if a tape follows an input."""
    out = Tensor(value)
    if any(is_tracked(x) for x in inputs):
        record(inputs, out, backward)
    return out


def _unbroadcast(g, shape):
    """Sum g over the axes NumPy broadcast to reach it from ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def convert_to_tensor(x, dtype=None):
    """x as a Tensor (a Tensor is returned as it is)."""
    return x if isinstance(x, Tensor) and dtype is None else Tensor(as_value(x), dtype)


def convert_to_numpy(x):
    """The NumPy array behind a tensor (an array is returned as it is)."""
    return as_value(x)


# -- element-wise, two inputs ----------------------------------------------------------
def add(a, b):
    """a + b;  da = dy, db = dy (summed over broadcast axes)."""
    va, vb = as_value(a), as_value(b)
    return _op([a, b], va + vb, lambda dy: (_unbroadcast(dy, va.shape),
                                            _unbroadcast(dy, vb.shape)))


def subtract(a, b):
    """a - b;  da = dy, db = -dy."""
    va, vb = as_value(a), as_value(b)
    return _op([a, b], va - vb, lambda dy: (_unbroadcast(dy, va.shape),
                                            _unbroadcast(-dy, vb.shape)))


def multiply(a, b):
    """a * b;  da = dy * b, db = dy * a."""
    va, vb = as_value(a), as_value(b)
    return _op([a, b], va * vb, lambda dy: (_unbroadcast(dy * vb, va.shape),
                                            _unbroadcast(dy * va, vb.shape)))


def divide(a, b):
    """a / b;  da = dy / b, db = -dy * a / b^2."""
    va, vb = as_value(a), as_value(b)
    return _op([a, b], va / vb, lambda dy: (_unbroadcast(dy / vb, va.shape),
                                            _unbroadcast(-dy * va / (vb * vb), vb.shape)))


def maximum(a, b):
    """max(a, b);  dy goes to a where a >= b, else to b (TensorFlow's tie rule)."""
    va, vb = as_value(a), as_value(b)
    first = va >= vb
    return _op([a, b], np.maximum(va, vb),
               lambda dy: (_unbroadcast(dy * first, va.shape),
                           _unbroadcast(dy * ~first, vb.shape)))


def minimum(a, b):
    """min(a, b);  dy goes to a where a <= b, else to b."""
    va, vb = as_value(a), as_value(b)
    first = va <= vb
    return _op([a, b], np.minimum(va, vb),
               lambda dy: (_unbroadcast(dy * first, va.shape),
                           _unbroadcast(dy * ~first, vb.shape)))


def power(a, exponent):
    """a ** p for a constant p;  da = dy * p * a^(p - 1)."""
    va, p = as_value(a), float(as_value(exponent))
    return _op([a], va ** p, lambda dy: (dy * p * va ** (p - 1),))


def matmul(a, b):
    """a @ b (batched over leading axes);  da = dy @ b^T, db = a^T @ dy."""
    va, vb = as_value(a), as_value(b)

    def backward(dy):
        da = dy @ np.swapaxes(vb, -1, -2) if vb.ndim > 1 else np.multiply.outer(dy, vb)
        db = np.swapaxes(va, -1, -2) @ dy if va.ndim > 1 else np.multiply.outer(va, dy)
        return _unbroadcast(da, va.shape), _unbroadcast(db, vb.shape)

    return _op([a, b], va @ vb, backward)


# -- element-wise, one input -------------------------------------------------------------
def negative(x):
    """-x;  dx = -dy."""
    return _op([x], -as_value(x), lambda dy: (-dy,))


def square(x):
    """x^2;  dx = 2 x dy."""
    v = as_value(x)
    return _op([x], v * v, lambda dy: (2 * v * dy,))


def sqrt(x):
    """sqrt(x);  dx = dy / (2 sqrt(x))."""
    y = np.sqrt(as_value(x))
    return _op([x], y, lambda dy: (dy / (2 * y),))


def exp(x):
    """e^x;  dx = dy e^x."""
    y = np.exp(as_value(x))
    return _op([x], y, lambda dy: (dy * y,))


def log(x):
    """ln x;  dx = dy / x."""
    v = as_value(x)
    return _op([x], np.log(v), lambda dy: (dy / v,))


def abs(x):                                              # noqa: A001 (Keras's name)
    """|x|;  dx = dy sign(x)."""
    v = as_value(x)
    return _op([x], np.abs(v), lambda dy: (dy * np.sign(v),))


def clip(x, x_min, x_max):
    """x clipped to [x_min, x_max];  dx = dy inside the range, 0 outside."""
    v = as_value(x)
    inside = (v >= x_min) & (v <= x_max)
    return _op([x], np.clip(v, x_min, x_max), lambda dy: (dy * inside,))


def relu(x):
    """max(x, 0);  dx = dy where x > 0."""
    v = as_value(x)
    return _op([x], np.maximum(v, 0), lambda dy: (dy * (v > 0),))


def sigmoid(x):
    """1 / (1 + e^-x);  dx = dy y (1 - y)."""
    from .activations import sigmoid as f
    y = f(as_value(x))
    return _op([x], y, lambda dy: (dy * y * (1 - y),))


def tanh(x):
    """tanh x;  dx = dy (1 - y^2)."""
    y = np.tanh(as_value(x))
    return _op([x], y, lambda dy: (dy * (1 - y * y),))


def softmax(x, axis=-1):
    """e^x / sum e^x along ``axis``;  dx = y (dy - sum(dy y))."""
    from .activations import softmax as f
    y = f(as_value(x), axis=axis)
    return _op([x], y, lambda dy: (y * (dy - (dy * y).sum(axis=axis, keepdims=True)),))


# -- reductions ----------------------------------------------------------------------------
def _axes(v, axis):
    return tuple(range(v.ndim)) if axis is None else \
        tuple(a % v.ndim for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))


def _expand(dy, v, axis, keepdims):
    """dy of a reduction, with the reduced axes put back (size 1) to broadcast."""
    return dy if keepdims else np.expand_dims(dy, _axes(v, axis))


def sum(x, axis=None, keepdims=False):                   # noqa: A001 (Keras's name)
    """The sum over ``axis`` (all by default);  dx = dy on every summed element."""
    v = as_value(x)
    return _op([x], v.sum(axis=axis, keepdims=keepdims),
               lambda dy: (np.broadcast_to(_expand(dy, v, axis, keepdims), v.shape).copy(),))


def mean(x, axis=None, keepdims=False):
    """The mean over ``axis``;  dx = dy / (number of elements averaged)."""
    v = as_value(x)
    count = int(np.prod([v.shape[a] for a in _axes(v, axis)]))
    return _op([x], v.mean(axis=axis, keepdims=keepdims),
               lambda dy: (np.broadcast_to(_expand(dy, v, axis, keepdims) / count,
                                           v.shape).copy(),))


def max(x, axis=None, keepdims=False):                   # noqa: A001 (Keras's name)
    """The largest value over ``axis``;  dy is shared equally by the tied maxima
    (TensorFlow's reduce_max rule)."""
    v = as_value(x)
    y = v.max(axis=axis, keepdims=True)
    hits = v == y
    share = hits / hits.sum(axis=_axes(v, axis), keepdims=True)
    return _op([x], y if keepdims else np.squeeze(y, _axes(v, axis)),
               lambda dy: (_expand(dy, v, axis, keepdims) * share,))


def min(x, axis=None, keepdims=False):                   # noqa: A001 (Keras's name)
    """The smallest value over ``axis``;  dy shared equally by the tied minima."""
    return negative(max(negative(x), axis, keepdims))


def argmax(x, axis=-1):
    """The index of the largest value (an integer array: no gradient)."""
    return np.argmax(as_value(x), axis=axis)


def l2_normalize(x, axis=None, epsilon=1e-12):
    """x / sqrt(max(sum x^2, epsilon)) (``tf.math.l2_normalize``), built from the ops
    above so its gradient follows."""
    squares = sum(square(x), axis=axis, keepdims=True)
    return divide(x, sqrt(maximum(squares, epsilon)))


reduce_mean, reduce_sum, reduce_max, reduce_min = mean, sum, max, min   # TensorFlow's names
newaxis = None              # x[..., ops.newaxis], as tf.newaxis
# GradientTape is re-exported here so code written with ``tf.`` runs with ``ops`` in its place


# -- moving values around -----------------------------------------------------------------
def getitem(x, index):
    """x[index] (slices, integers, arrays);  dx = dy scattered back into zeros."""
    v = as_value(x)
    index = tuple(as_value(i) if isinstance(i, Tensor) else i for i in index) \
        if isinstance(index, tuple) else (as_value(index) if isinstance(index, Tensor) else index)

    def backward(dy):
        dx = np.zeros_like(v)
        np.add.at(dx, index, dy)
        return (dx,)

    return _op([x], v[index], backward)


def reshape(x, shape):
    """x with a new shape;  dx = dy reshaped back."""
    v = as_value(x)
    return _op([x], v.reshape(shape), lambda dy: (dy.reshape(v.shape),))


def transpose(x, axes=None):
    """The axes of x permuted;  dx = dy with the inverse permutation."""
    v = as_value(x)
    axes = tuple(range(v.ndim))[::-1] if axes is None else tuple(axes)
    return _op([x], np.transpose(v, axes), lambda dy: (np.transpose(dy, np.argsort(axes)),))


def squeeze(x, axis=None):
    """x without its size-1 axes (or the given one);  dx = dy reshaped back."""
    v = as_value(x)
    return _op([x], np.squeeze(v, axis=axis), lambda dy: (dy.reshape(v.shape),))


def expand_dims(x, axis):
    """x with a new size-1 axis;  dx = dy reshaped back."""
    v = as_value(x)
    return _op([x], np.expand_dims(v, axis), lambda dy: (dy.reshape(v.shape),))


def concatenate(xs, axis=-1):
    """The tensors joined along ``axis``;  each input gets its slice of dy."""
    values = [as_value(x) for x in xs]
    cuts = np.cumsum([v.shape[axis] for v in values])[:-1]
    return _op(list(xs), np.concatenate(values, axis=axis),
               lambda dy: tuple(np.split(dy, cuts, axis=axis)))


def stack(xs, axis=0):
    """The tensors stacked on a new ``axis``;  each input gets its slice of dy."""
    values = [as_value(x) for x in xs]
    return _op(list(xs), np.stack(values, axis=axis),
               lambda dy: tuple(np.moveaxis(dy, axis, 0)))


# Tensor's operators: x + y is add(x, y), 2 * x is multiply(2, x), x[i] is getitem(x, i).
Tensor.__add__, Tensor.__radd__ = add, lambda x, y: add(y, x)
Tensor.__sub__, Tensor.__rsub__ = subtract, lambda x, y: subtract(y, x)
Tensor.__mul__, Tensor.__rmul__ = multiply, lambda x, y: multiply(y, x)
Tensor.__truediv__, Tensor.__rtruediv__ = divide, lambda x, y: divide(y, x)
Tensor.__neg__, Tensor.__pow__, Tensor.__matmul__ = negative, power, matmul
Tensor.__getitem__ = getitem

__all__ = ["abs", "add", "argmax", "clip", "concatenate", "convert_to_numpy",
           "convert_to_tensor", "divide", "exp", "getitem", "l2_normalize", "log", "matmul",
           "max", "maximum", "mean", "min", "minimum", "multiply", "negative", "power",
           "reduce_max", "reduce_mean", "reduce_min", "reduce_sum", "relu", "reshape",
           "sigmoid", "softmax", "sqrt", "square", "squeeze", "expand_dims", "stack",
           "subtract", "sum", "tanh", "transpose"]

# ``tf.math.l2_normalize`` and ``tf.math.reduce_max`` are spelled with ``math.``: the
# same functions, so chapter code written against ``tf`` runs with ``ops`` in its place.
math = __import__("types").SimpleNamespace(
    l2_normalize=l2_normalize, reduce_max=max, reduce_mean=mean, reduce_sum=sum,
    reduce_min=min, maximum=maximum, minimum=minimum, sqrt=sqrt, exp=exp, log=log,
    square=square, abs=abs)
