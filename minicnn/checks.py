"""Input checks for the model API: clear errors before any arithmetic runs."""
import numpy as np


def as_float_input(x, dtype, what="x"):
    """Accept a float array (cast to the model dtype); reject ints, bools, objects."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{what} must be a numpy array, received {type(x).__name__}") from exc
    if x.dtype.kind != "f":
        hint = (" (scale images first, e.g. x.astype('float32') / 255)"
                if x.dtype.kind in "iu" else "")
        raise TypeError(f"{what} must be a float array, received dtype {x.dtype}{hint}")
    return np.ascontiguousarray(x, dtype=dtype)


def check_input_shape(x, expected, model_name):
    """``expected`` excludes the batch axis; None entries match anything."""
    if expected is None:
        return
    if x.ndim != len(expected) + 1 or any(
            e is not None and e != a for e, a in zip(expected, x.shape[1:])):
        raise ValueError(f"Model '{model_name}' expects input of shape (batch, "
                         f"{', '.join('None' if e is None else str(e) for e in expected)}), "
                         f"received shape {x.shape}")


def check_lengths(x, y):
    ny = len(y)
    if len(x) != ny:
        raise ValueError(f"x and y must have the same number of samples, received "
                         f"{len(x)} inputs and {ny} labels")
    if len(x) == 0:
        raise ValueError("received no samples (x is empty)")


def as_targets(y):
    y = np.asarray(y)
    if y.dtype.kind not in "iubf":
        raise TypeError(f"y must be a numeric array, received dtype {y.dtype}")
    return y


def check_validation_split(n, validation_split):
    """Number of training samples left by ``validation_split`` of ``n`` samples.

    Keras's rule: the first ``floor(n * (1 - validation_split))`` samples
    train, the rest validate; a split that leaves either part empty is an
    error (Keras raises too), because training on nothing returns an empty
    history and says nothing.
    """
    if (isinstance(validation_split, bool)
            or not isinstance(validation_split, (int, float, np.integer, np.floating))
            or not 0 <= validation_split < 1):
        raise ValueError(f"validation_split must be a number in [0, 1), received "
                         f"{validation_split!r}")
    if not validation_split:
        return n
    train = int(n * (1 - validation_split))
    if train == 0 or train == n:
        raise ValueError(
            f"validation_split={validation_split!r} of {n} samples leaves {train} for "
            f"training and {n - train} for validation; both need at least one. Use more "
            f"data or a different validation_split")
    return train


def check_integer_labels(y, units):
    """Sparse labels: one whole number in [0, units - 1] per sample.

    ``y`` has shape (N,) or (N, 1); NaN, inf and fractions are named in the
    error with the index of the first one, so a bad label is easy to find.
    """
    y = np.asarray(y)
    if y.ndim == 0 or any(d != 1 for d in y.shape[1:]):
        raise ValueError(f"sparse_categorical_crossentropy expects one integer label per "
                         f"sample, shape (N,) or (N, 1), received shape {y.shape}")
    if y.dtype.kind not in "iuf":
        raise ValueError(f"sparse_categorical_crossentropy expects integer labels, "
                         f"received dtype {y.dtype}")
    flat = y.reshape(-1)
    if flat.size == 0:
        return
    if flat.dtype.kind == "f":
        _check_whole_numbers(flat)
    low, high = flat.min(), flat.max()
    if low < 0 or high >= units:
        worst = int(np.argmax((flat < 0) | (flat >= units)))
        raise ValueError(f"labels must be in [0, {units - 1}] for a model with {units} "
                         f"outputs, received values from {_number(low)} to {_number(high)} "
                         f"(the first outside is {_number(flat[worst])} at index {worst})")


def _check_whole_numbers(flat):
    not_finite = ~np.isfinite(flat)
    if not_finite.any():
        i = int(np.argmax(not_finite))
        raise ValueError(f"labels must be whole numbers, received {flat[i]} at index {i} "
                         f"({int(not_finite.sum())} label(s) are NaN or inf)")
    fraction = flat != np.round(flat)
    if fraction.any():
        i = int(np.argmax(fraction))
        raise ValueError(f"labels must be whole numbers (class indices), received "
                         f"{flat[i]} at index {i} ({int(fraction.sum())} label(s) have a "
                         f"fractional part)")


def _number(value):
    """A label for a message: 3 rather than 3.0 or np.int64(3)."""
    value = value.item()
    return int(value) if float(value).is_integer() else value
