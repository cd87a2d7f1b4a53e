"""The hot loops of minicnn, as pure functions.

Two implementations of every kernel live side by side:

* ``minicnn.kernels.reference`` - plain NumPy, written to be read;
* ``minicnn.kernels.jit``       - Numba ``@njit`` loops, written to be fast.

The functions exported here call whichever one the backend setting selects
(``minicnn.set_backend("numpy")`` or ``MINICNN_BACKEND=numpy``), so layers
never need to know which one runs.
"""
from .. import backend as _backend
from . import reference
from .geometry import conv_geometry, output_size, same_padding

KERNELS = ("im2col", "col2im", "maxpool_forward", "maxpool_backward",
           "avgpool_forward", "avgpool_backward", "bias_relu", "relu_backward", "column_sums",
           "matmul", "matmul_tn")
_jit_module = None


def implementation(name=None):
    """The module whose kernels run now: ``jit`` or ``reference``."""
    global _jit_module
    if (name or _backend.backend()) == "numpy":
        return reference
    if _jit_module is None:
        from . import jit as _jit_module_loaded
        _jit_module = _jit_module_loaded
    return _jit_module


def _dispatch(name):
    def kernel(*args, **kwargs):
        return getattr(implementation(), name)(*args, **kwargs)
    kernel.__name__ = name
    kernel.__doc__ = getattr(reference, name).__doc__
    return kernel


for _name in KERNELS:
    globals()[_name] = _dispatch(_name)

__all__ = list(KERNELS) + ["reference", "implementation", "conv_geometry",
                           "output_size", "same_padding"]
