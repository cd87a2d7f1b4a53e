"""Merge layers: several inputs in, one output: Concatenate, Add, Subtract,
Multiply, Average, Maximum.

They take a list: ``Add()([a, b])``. ``forward(xs)`` gets a list of arrays,
``backward(dy)`` returns a list of gradients, one per input, in input order.

The element-wise ones broadcast as Keras 3 does: an input of lower rank gets
axes of size 1 inserted after the batch axis until all ranks agree, then a
size-1 axis stretches to the others' size (``(N, 1, 5)`` + ``(N, 3, 5)``).
Going back, a stretched axis sums its gradient (the adjoint of a copy):

    y = x1 (+) x2 (+) ...            dL/dx_i = unbroadcast(dL/dy * dy/dx_i)
"""
import numpy as np

from .base import Layer


def _shape_text(shapes):
    return "[" + ", ".join("(" + ", ".join("None" if d is None else str(d) for d in s) + ")"
                           for s in shapes) + "]"


class Merge(Layer):
    """What the merge layers share: a list of inputs, checked and broadcast."""

    exact_inputs = None            # Subtract: 2

    def __init__(self, **kwargs):      # Keras's signature: only the common layer arguments
        super().__init__(**kwargs)

    # -- shapes -------------------------------------------------------------------
    def _check_shapes(self, shapes):
        """A list of >= 1 shapes (batch axis first) -> list of tuples, or a ValueError."""
        if not isinstance(shapes, (list, tuple)) or not shapes or not all(
                isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{self.owner} should be called on a list of inputs, "
                             f"received input_shape={shapes!r}")
        if self.exact_inputs is not None and len(shapes) != self.exact_inputs:
            raise ValueError(f"{self.owner} should be called on exactly {self.exact_inputs} "
                             f"inputs, received {len(shapes)}: {_shape_text(shapes)}")
        shapes = [tuple(s) for s in shapes]
        batches = {s[0] for s in shapes if s} - {None}
        if len(batches) > 1:
            raise ValueError(f"{self.owner} cannot merge tensors with different batch sizes, "
                             f"received shapes {_shape_text(shapes)}")
        return shapes

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        self.output_shape = self.compute_output_shape(shapes)     # raises if incompatible
        self.input_shape = shapes                                 # a list: one per input
        self.built = True

    def compute_output_shape(self, input_shape):
        """Keras's rule: align the non-batch axes on the right; a 1 stretches."""
        shapes = self._check_shapes(input_shape)
        rank = max(len(s) for s in shapes)
        expanded = [_expand(s, rank) for s in shapes]
        out = []
        for axis in range(1, rank):
            dims = [s[axis] for s in expanded]
            known = {d for d in dims if d is not None} - {1}
            if len(known) > 1:
                raise ValueError(f"{self.owner}: inputs have incompatible shapes; expected "
                                 f"equal sizes (or 1) on every axis but the batch axis, "
                                 f"received shapes {_shape_text(shapes)}")
            if None in dims:
                out.append(None if not known else known.pop())
            else:
                out.append(known.pop() if known else 1)
        batch = next((s[0] for s in shapes if s[0] is not None), None)
        return (batch, *out)

    def _check_inputs(self, xs):
        """The arrays of one call, checked; each reshaped to the common rank."""
        if not isinstance(xs, (list, tuple)):
            raise ValueError(f"{self.owner} should be called on a list of arrays, "
                             f"received {type(xs).__name__}")
        for x in xs:
            if not isinstance(x, np.ndarray):
                raise TypeError(f"{self.owner} expects numpy arrays, "
                                f"received {type(x).__name__}")
            if x.dtype != self.dtype:
                raise TypeError(f"{self.owner} expects {self.dtype.name} inputs, "
                                f"received {x.dtype}")
        shapes = self._check_shapes([x.shape for x in xs])
        if self.built and len(shapes) != len(self.input_shape):
            raise ValueError(f"{self.owner} was built for {len(self.input_shape)} inputs, "
                             f"received {len(shapes)}")
        self.compute_output_shape(shapes)                          # raises if incompatible
        rank = max(x.ndim for x in xs)
        return [x.reshape(_expand(x.shape, rank)) for x in xs]

    # -- the two passes --------------------------------------------------------------
    def forward(self, xs, training=False):
        shapes = [x.shape for x in xs] if isinstance(xs, (list, tuple)) else None
        xs = self._check_inputs(xs)
        self.cache = {"shapes": shapes}
        y = self._merge(xs)                    # the output's shape: all inputs broadcast
        return y.copy() if len(xs) == 1 else y    # one input: a new array all the same

    def backward(self, dy, from_logits=False, compute_dx=True):
        grads = self._merge_backward(dy)                   # each broadcastable to dy
        return [_unbroadcast(np.broadcast_to(g, dy.shape), shape)
                for g, shape in zip(grads, self.cache["shapes"])]

    def _merge(self, xs):
        raise NotImplementedError

    def _merge_backward(self, dy):
        raise NotImplementedError


def _expand(shape, rank):
    """Keras inserts size-1 axes after the batch axis: (N, 5) -> (N, 1, 5) for rank 3."""
    return tuple(shape[:1]) + (1,) * (rank - len(shape)) + tuple(shape[1:])


def _unbroadcast(g, shape):
    """Sum g (the output's shape) back to an input of ``shape``: the adjoint of broadcasting.

    g (N, 3, 5) -> shape (N, 5): the input was seen as (N, 1, 5), so sum axis 1."""
    expanded = _expand(shape, g.ndim)                        # as forward saw the input
    axes = tuple(a for a in range(g.ndim) if expanded[a] == 1 and g.shape[a] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else np.array(g)   # a new, writable array
    return g.reshape(shape)


class Add(Merge):
    """y = x1 + x2 + ...        dL/dx_i = dL/dy"""

    def _merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y

    def _merge_backward(self, dy):
        return [dy] * len(self.cache["shapes"])


class Subtract(Merge):
    """y = x1 - x2 (exactly two inputs)        dL/dx1 = dL/dy, dL/dx2 = -dL/dy"""

    exact_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1]

    def _merge_backward(self, dy):
        return [dy, -dy]


class Multiply(Merge):
    """y = x1 * x2 * ...        dL/dx_i = dL/dy * (product of the other inputs)"""

    def _merge(self, xs):
        self.cache["xs"] = xs
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y

    def _merge_backward(self, dy):
        xs = self.cache["xs"]
        grads = []
        for i in range(len(xs)):
            g = dy
            for j, x in enumerate(xs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads


class Average(Merge):
    """y = (x1 + x2 + ... + xn) / n        dL/dx_i = dL/dy / n"""

    def _merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y / self.dtype.type(len(xs))

    def _merge_backward(self, dy):
        n = len(self.cache["shapes"])
        return [dy / self.dtype.type(n)] * n


class Maximum(Merge):
    """y = max(...max(max(x1, x2), x3)..., xn), folded pair by pair as Keras does.

    Each pair passes its gradient as tf.maximum's does: to the left argument
    where left >= right, else to the right one. So on a tie the first input
    with the largest value gets the whole gradient."""

    def _merge(self, xs):
        y = xs[0]
        left_wins = []                       # one mask per fold step: y_so_far >= x_k
        for x in xs[1:]:
            left_wins.append(y >= x)
            y = np.maximum(y, x)
        self.cache["left_wins"] = left_wins
        return y

    def _merge_backward(self, dy):
        zero = self.dtype.type(0)
        grads = []
        g = dy                                # the gradient of the running maximum
        for mask in reversed(self.cache["left_wins"]):
            mask = np.broadcast_to(mask, dy.shape)
            grads.append(np.where(mask, zero, g))         # to x_k where it won
            g = np.where(mask, g, zero)                   # the rest stays on the left
        grads.append(g)
        return grads[::-1]


class Concatenate(Merge):
    """Join the inputs along ``axis`` (default the last, the channels of NHWC).

    The inputs must have the same shape except on that axis; going back, dy is
    cut into the pieces each input contributed (the adjoint of the copy)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise ValueError(f"{self.owner}: axis must be an int, received axis={axis!r}")
        self.axis = int(axis)

    def _resolve_axis(self, rank):
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.owner}: axis={self.axis} is not a non-batch axis of "
                             f"{rank}-D inputs (expected 1..{rank - 1} or -{rank - 1}..-1)")
        return self.axis % rank

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"{self.owner} requires inputs of one rank, received shapes "
                             f"{_shape_text(shapes)}")
        axis = self._resolve_axis(ranks.pop())
        out = list(shapes[0])
        for dim in range(1, len(out)):
            if dim == axis:
                sizes = [s[dim] for s in shapes]
                out[dim] = None if None in sizes else sum(sizes)
                continue
            known = {s[dim] for s in shapes} - {None}
            if len(known) > 1:
                raise ValueError(f"{self.owner} requires inputs with matching shapes except "
                                 f"for the concatenation axis {self.axis}, received shapes "
                                 f"{_shape_text(shapes)}")
            out[dim] = known.pop() if known else None
        out[0] = next((s[0] for s in shapes if s[0] is not None), None)
        return tuple(out)

    def forward(self, xs, training=False):
        if not isinstance(xs, (list, tuple)):
            raise ValueError(f"{self.owner} should be called on a list of arrays, "
                             f"received {type(xs).__name__}")
        for x in xs:
            if not isinstance(x, np.ndarray) or x.dtype != self.dtype:
                raise TypeError(f"{self.owner} expects {self.dtype.name} numpy arrays, "
                                f"received {getattr(x, 'dtype', type(x).__name__)}")
        self.compute_output_shape([x.shape for x in xs])          # raises if incompatible
        axis = self._resolve_axis(xs[0].ndim)
        sizes = [x.shape[axis] for x in xs]
        self.cache = {"axis": axis, "ends": np.cumsum(sizes)[:-1]}
        return np.concatenate(xs, axis=axis)       # (N, ..., sum of sizes, ...)

    def backward(self, dy, from_logits=False, compute_dx=True):
        return np.split(dy, self.cache["ends"], axis=self.cache["axis"])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
