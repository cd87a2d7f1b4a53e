"""minicnn: a convolutional-network engine written from scratch in NumPy and Numba.

Keras names, NHWC layout, and tests that hold it to TensorFlow's numbers.

    import minicnn
    from minicnn import layers
    model = minicnn.Sequential([layers.Input((28, 28, 1)),
                                layers.Conv2D(32, 3, activation="relu"), ...])
"""
from . import activations, backend, callbacks, kernels, layers, losses, metrics  # noqa: F401
from . import constraints, initializers, models, optimizers, regularizers, saving  # noqa: F401
from . import utils  # noqa: F401
from .backend import floatx, set_backend, set_floatx, set_random_seed  # noqa: F401
from .layers import clear_session  # noqa: F401
from .parallel import num_threads, set_num_threads  # noqa: F401
from .layers import Input  # noqa: F401
from .model import Model  # noqa: F401
from .sequential import Sequential  # noqa: F401
from .models import load_model  # noqa: F401
from .tape import GradientTape, Tensor, Variable  # noqa: F401
from . import ops  # noqa: F401
from .keras_io import from_keras, to_keras  # noqa: F401  (Keras is imported when called)

__version__ = "0.1.0"

# Imported on first use, so that ``import minicnn`` stays fast: ``minicnn.zoo``,
# ``minicnn.datasets``, ... work without a separate import.
_LAZY = ("applications", "datasets", "demos", "experiments", "parity", "preprocessing", "viz",
         "zoo")


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'minicnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
