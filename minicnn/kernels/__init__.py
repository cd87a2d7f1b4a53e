"""The hot loops of minicnn, as pure functions.

Two implementations of every kernel live side by side:

* ``minicnn.kernels.reference`` - plain NumPy, written to be read;
* ``minicnn.kernels.jit``       - Numba ``@njit`` loops, written to be fast.

Each function below is a one-line dispatch to the twin that the backend
setting selects (``minicnn.set_backend("numpy")`` or ``MINICNN_BACKEND=numpy``),
so layers never need to know which one runs. Windows (kernel size, strides,
dilation, padding, output size) are ``geometry.Window`` values, built by
``geometry.window``.
"""
from .. import backend as _backend
from . import reference
from .geometry import Window, output_size, same_padding, window

_jit_module = None


def implementation():
    """The module whose kernels run now: ``jit`` or ``reference``."""
    global _jit_module
    if _backend.backend() == "numpy":
        return reference
    if _jit_module is None:                   # Numba compiles on first import: only when used
        from . import jit as _jit_module_loaded
        _jit_module = _jit_module_loaded
    return _jit_module


def compile_notice():
    """The line ``fit`` prints before its first step when Numba must compile the
    kernels (first use on this machine, or after an upgrade), so that a bar
    standing still at 0 % is explained; None when there is nothing to say."""
    if implementation() is reference:
        return None
    jit = implementation()
    if jit.compiled_in_process() or jit.compiled_on_disk():
        return None
    return ("minicnn: compiling the kernels for this machine (about 10-20 s, once: they are "
            "kept in Numba's disk cache for every later run)")


# -- convolution -------------------------------------------------------------------
def conv2d_forward(x, kernel, bias, window, relu=False, workspace=None):
    """x (N, H, W, C), kernel (kh, kw, C, F), bias (F,) or None -> (y (N, OH, OW, F), cache).

    ``relu=True`` applies max(., 0) too; ``workspace`` is a dict the fast twin
    may keep large work arrays in from one call to the next (one per layer
    and thread)."""
    return implementation().conv2d_forward(x, kernel, bias, window, relu, workspace)


def conv2d_backward(dz, cache, need_dx=True):
    """dz (N, OH, OW, F) -> (dx (N, H, W, C) or None, dkernel (kh, kw, C, F), dbias (F,) or None)."""
    return implementation().conv2d_backward(dz, cache, need_dx)


def im2col(x, window, out=None):
    """x (N, H, W, C) -> cols (N*OH*OW, kh*kw*C): one receptive field per row."""
    return implementation().im2col(x, window, out)


def col2im(dcols, x_shape, window):
    """dcols (N*OH*OW, kh*kw*C) -> dx (N, H, W, C): the adjoint of im2col."""
    return implementation().col2im(dcols, x_shape, window)


# -- pooling -----------------------------------------------------------------------
def maxpool_forward(x, window):
    """x (N, H, W, C) -> (y, argmax), both (N, OH, OW, C); argmax indexes the window row-major."""
    return implementation().maxpool_forward(x, window)


def maxpool_backward(dy, argmax, x_shape, window):
    """dy (N, OH, OW, C) -> dx (N, H, W, C): each gradient to its window's winner."""
    return implementation().maxpool_backward(dy, argmax, x_shape, window)


def avgpool_forward(x, window):
    """x (N, H, W, C) -> y (N, OH, OW, C): the mean of each window's real cells."""
    return implementation().avgpool_forward(x, window)


def avgpool_backward(dy, x_shape, window):
    """dy (N, OH, OW, C) -> dx (N, H, W, C): each gradient shared over its window."""
    return implementation().avgpool_backward(dy, x_shape, window)


# -- element-wise, reductions, products -----------------------------------------------
def bias_relu(z, b):
    """z (rows, F), b (F,): z = max(z + b, 0) in place; returns z."""
    return implementation().bias_relu(z, b)


def relu_backward(dy, y):
    """dy (N, ..., F), y of the same shape -> dz = dy where y > 0, else 0."""
    return implementation().relu_backward(dy, y)


def column_sums(a):
    """a (rows, F) -> (F,): the sum of each column (a bias gradient)."""
    return implementation().column_sums(a)


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> (M, N), written into ``out`` if given."""
    return implementation().matmul(a, b, out)


def matmul_tn(a, b):
    """a (M, K), b (M, N) -> a.T @ b (K, N): the weight gradient of a matmul."""
    return implementation().matmul_tn(a, b)


KERNELS = ("conv2d_forward", "conv2d_backward", "im2col", "col2im", "maxpool_forward",
           "maxpool_backward", "avgpool_forward", "avgpool_backward", "bias_relu",
           "relu_backward", "column_sums", "matmul", "matmul_tn")

__all__ = list(KERNELS) + ["Window", "window", "output_size", "same_padding", "reference",
                           "implementation"]


# -- optimizer updates: twins in optim_reference.py (NumPy) and optim_jit.py (Numba) ----
# Each updates w and its slots in place; the numbers are scalars of w's dtype.
def optim_implementation():
    """The module whose optimizer updates run now: ``optim_jit`` or ``optim_reference``."""
    if _backend.backend() == "numpy":
        from . import optim_reference
        return optim_reference
    from . import optim_jit
    return optim_jit


def sgd_update(w, g, v, lr, momentum, nesterov):
    """w (any shape), g and slot v (same shape, or None): one SGD step."""
    return optim_implementation().sgd_update(w, g, v, lr, momentum, nesterov)


def rmsprop_update(w, g, v, a, m, lr, rho, one_minus_rho, epsilon, momentum):
    """w (any shape), g and slots v, a, m (same shape; a, m or None): one RMSprop step."""
    return optim_implementation().rmsprop_update(w, g, v, a, m, lr, rho, one_minus_rho,
                                                 epsilon, momentum)


def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """w (any shape), g and slots m, v, v_hat (same shape; v_hat or None): one Adam step."""
    return optim_implementation().adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1,
                                              one_minus_beta_2, epsilon)


def adagrad_update(w, g, s, lr, epsilon):
    """w (any shape), g and slot s (same shape): one Adagrad step."""
    return optim_implementation().adagrad_update(w, g, s, lr, epsilon)


def adadelta_update(w, g, grad_sq, delta_sq, lr, rho, one_minus_rho, epsilon):
    """w (any shape), g and slots grad_sq, delta_sq (same shape): one Adadelta step."""
    return optim_implementation().adadelta_update(w, g, grad_sq, delta_sq, lr, rho,
                                                  one_minus_rho, epsilon)


def adamax_update(w, g, m, u, lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon):
    """w (any shape), g and slots m, u (same shape): one Adamax step."""
    return optim_implementation().adamax_update(w, g, m, u, lr, one_minus_beta_1, beta_2,
                                                one_minus_beta_1_power, epsilon)


def nadam_update(w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next,
                 one_minus_u_product_next, one_minus_mu_t, one_minus_u_product,
                 one_minus_beta_2_power, epsilon):
    """w (any shape), g and slots m, v (same shape): one Nadam step."""
    return optim_implementation().nadam_update(
        w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next, one_minus_u_product_next,
        one_minus_mu_t, one_minus_u_product, one_minus_beta_2_power, epsilon)


# Kept out of KERNELS: their twins live in optim_reference and optim_jit
# (tests/test_optimizer_kernels.py checks them as test_architecture checks KERNELS).
OPTIMIZER_KERNELS = ("sgd_update", "rmsprop_update", "adam_update", "adagrad_update",
                     "adadelta_update", "adamax_update", "nadam_update")
__all__ += list(OPTIMIZER_KERNELS) + ["optim_implementation"]


# -- depthwise convolution and scatter-add (DepthwiseConv2D, SeparableConv2D, Embedding) --
def depthwise_conv2d_forward(x, kernel, bias, window, workspace=None):
    """x (N, H, W, C), kernel (kh, kw, C, M), bias (C*M,) or None -> (y (N, OH, OW, C*M),
    cache); output channel c*M + m is input channel c under its filter m. ``workspace``:
    as in conv2d_forward."""
    return implementation().depthwise_conv2d_forward(x, kernel, bias, window, workspace)


def depthwise_conv2d_backward(dz, cache, need_dx=True):
    """dz (N, OH, OW, C*M) -> (dx (N, H, W, C) or None, dkernel (kh, kw, C, M),
    dbias (C*M,) or None)."""
    return implementation().depthwise_conv2d_backward(dz, cache, need_dx)


def scatter_add_rows(ids, rows, num_rows):
    """ids (M,) ints, rows (M, D) -> out (num_rows, D) with out[ids[i]] += rows[i]."""
    return implementation().scatter_add_rows(ids, rows, num_rows)


KERNELS += ("depthwise_conv2d_forward", "depthwise_conv2d_backward", "scatter_add_rows")
__all__ += ["depthwise_conv2d_forward", "depthwise_conv2d_backward", "scatter_add_rows"]


# -- dropout: counter-based keep-decisions, fused with the product ----------------------
def dropout_apply(x, key, start, threshold, scale):
    """x (N, ...) -> x * scale where kept, x * 0 where dropped (same shape); element j
    of x is element start + j of the batch's mask with this key (reference.dropout_keep)."""
    return implementation().dropout_apply(x, key, start, threshold, scale)


KERNELS += ("dropout_apply",)
__all__ += ["dropout_apply"]
