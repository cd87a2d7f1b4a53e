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
