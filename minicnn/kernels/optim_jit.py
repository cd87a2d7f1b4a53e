"""Numba optimizer updates: each rule of ``optim_reference.py`` in one pass.

The NumPy rule of Adam makes about ten whole-array passes (a temporary for
``g - m``, another for its product, ...); here one loop reads g, w and the
slots once per element and writes w and the slots back, on every core for a
large variable. Read ``optim_reference.py`` first: every line below is the
same operation, in the same order, on scalars of the same dtype, so the
result is the same bit for bit (the compilation keeps ``fastmath`` off, so
no multiply-add is fused, and ``error_model="numpy"`` lets x / 0 give inf or
NaN as NumPy does instead of raising).

Arrays other than C-contiguous float32 or float64 ones (rare: a transposed
view passed as a variable) take the NumPy rule.
"""
import numpy as np
from numba import njit, prange

from . import jit
from . import optim_reference as reference
from .jit import JIT

# Rule: a variable with fewer elements than this is updated on one thread,
# because waking the other cores costs more than it saves (benchmarks/NOTES.md, 6).
SERIAL_BELOW = 1 << 20

_FAST = (np.dtype(np.float32), np.dtype(np.float64))


def _elementwise(fn):
    """Compile ``fn(n, ...)``, whose ``prange(n)`` runs over the elements, as serial
    and parallel twins (``jit.twins``), and run the serial one when ``n < SERIAL_BELOW``
    or in a worker of a split batch, the parallel one on every core otherwise."""
    def run(n, *args):
        if jit._one_thread() or n < SERIAL_BELOW:
            return run.serial(n, *args)
        jit._threads_for(jit.SERIAL_BELOW)     # every core
        return run.parallel(n, *args)
    run.serial, run.parallel = jit.twins(fn, error_model="numpy")
    run.__name__ = fn.__name__
    return run


@njit(inline="always", **JIT)
def _maximum(a, b):
    """np.maximum(a, b) as NumPy computes it on x86: a NaN wins (a's if both are
    NaN), and of two equal values (+0 and -0) the second."""
    return a if a > b or a != a else b


@njit(inline="always", **JIT)
def _moments(m, v, i, gi, one_minus_beta_1, one_minus_beta_2):
    """Adam's (and Nadam's) moments of element i moved toward g and g^2; returns both."""
    mi = m[i] + (gi - m[i]) * one_minus_beta_1
    vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
    m[i] = mi
    v[i] = vi
    return mi, vi


def _update(kernel, numpy_rule, w, g, slots, scalars, flags=()):
    """``kernel`` on 1-D views of w, g and the slots (an empty array for a slot that
    is None) with the numbers cast to w's dtype; ``numpy_rule`` unless g, w and
    the slots are float32 or float64 of one dtype, and w and the slots C-contiguous."""
    present = [w] + [s for s in slots if s is not None]
    if w.dtype not in _FAST or g.dtype != w.dtype or any(
            a.dtype != w.dtype or not a.flags.c_contiguous for a in present):
        return numpy_rule(w, g, *slots, *scalars, *flags)
    absent, cast = np.empty(0, w.dtype), w.dtype.type
    return kernel(w.size, w.reshape(-1), np.ascontiguousarray(g).reshape(-1),
                  *[absent if s is None else s.reshape(-1) for s in slots],
                  *[cast(x) for x in scalars], *flags)


@_elementwise
def _sgd(n, w, g, v, lr, momentum, nesterov):
    has_momentum = v.size > 0
    for i in prange(n):
        gi = g[i]
        if has_momentum:
            vi = v[i] * momentum - gi * lr
            v[i] = vi
            if nesterov:
                w[i] = w[i] + (vi * momentum - gi * lr)
            else:
                w[i] = w[i] + vi
        else:
            w[i] = w[i] - gi * lr


def sgd_update(w, g, v, lr, momentum, nesterov):
    """w (any shape), g and the slot v ("momentum", None without momentum)."""
    _update(_sgd, reference.sgd_update, w, g, [v], [lr, momentum], [bool(nesterov)])


@_elementwise
def _rmsprop(n, w, g, v, a, m, lr, rho, one_minus_rho, epsilon, momentum):
    centered, has_momentum = a.size > 0, m.size > 0
    for i in prange(n):
        gi = g[i]
        vi = rho * v[i] + one_minus_rho * (gi * gi)
        v[i] = vi
        if centered:
            ai = rho * a[i] + one_minus_rho * gi
            a[i] = ai
            denominator = vi - ai * ai + epsilon
        else:
            denominator = vi + epsilon
        step = lr * gi / np.sqrt(denominator)
        if has_momentum:
            mi = momentum * m[i] + step
            m[i] = mi
            w[i] = w[i] - mi
        else:
            w[i] = w[i] - step


def rmsprop_update(w, g, v, a, m, lr, rho, one_minus_rho, epsilon, momentum):
    """w (any shape), g and the slots v ("velocity"), a ("average_gradient", None
    unless centered) and m ("momentum", None without momentum)."""
    _update(_rmsprop, reference.rmsprop_update, w, g, [v, a, m],
            [lr, rho, one_minus_rho, epsilon, momentum])


@_elementwise
def _adam(n, w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    amsgrad = v_hat.size > 0
    for i in prange(n):
        gi = g[i]
        mi, vi = _moments(m, v, i, gi, one_minus_beta_1, one_minus_beta_2)
        if amsgrad:
            vi = _maximum(v_hat[i], vi)
            v_hat[i] = vi
        w[i] = w[i] - mi * alpha / (np.sqrt(vi) + epsilon)


def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """w (any shape), g and the slots m ("momentum"), v ("velocity") and v_hat
    ("velocity_hat", None unless amsgrad); ``alpha`` is the bias-corrected rate."""
    _update(_adam, reference.adam_update, w, g, [m, v, v_hat],
            [alpha, one_minus_beta_1, one_minus_beta_2, epsilon])


@_elementwise
def _adagrad(n, w, g, s, lr, epsilon):
    for i in prange(n):
        gi = g[i]
        si = s[i] + gi * gi
        s[i] = si
        w[i] = w[i] - lr * gi / np.sqrt(si + epsilon)


def adagrad_update(w, g, s, lr, epsilon):
    """w (any shape), g and the slot s ("accumulator")."""
    _update(_adagrad, reference.adagrad_update, w, g, [s], [lr, epsilon])


@_elementwise
def _adadelta(n, w, g, grad_sq, delta_sq, lr, rho, one_minus_rho, epsilon):
    for i in prange(n):
        gi = g[i]
        gs = rho * grad_sq[i] + one_minus_rho * (gi * gi)
        grad_sq[i] = gs
        delta = -(np.sqrt(delta_sq[i] + epsilon) * gi / np.sqrt(gs + epsilon))
        delta_sq[i] = rho * delta_sq[i] + one_minus_rho * (delta * delta)
        w[i] = w[i] + lr * delta


def adadelta_update(w, g, grad_sq, delta_sq, lr, rho, one_minus_rho, epsilon):
    """w (any shape), g and the slots grad_sq ("accumulated_grad", G) and
    delta_sq ("accumulated_delta_var", D)."""
    _update(_adadelta, reference.adadelta_update, w, g, [grad_sq, delta_sq],
            [lr, rho, one_minus_rho, epsilon])


@_elementwise
def _adamax(n, w, g, m, u, lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon):
    for i in prange(n):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        m[i] = mi
        ui = _maximum(beta_2 * u[i], abs(gi))
        u[i] = ui
        w[i] = w[i] - lr * mi / (one_minus_beta_1_power * (ui + epsilon))


def adamax_update(w, g, m, u, lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon):
    """w (any shape), g and the slots m ("momentum") and u ("norm")."""
    _update(_adamax, reference.adamax_update, w, g, [m, u],
            [lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon])


@_elementwise
def _nadam(n, w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next,
           one_minus_u_product_next, one_minus_mu_t, one_minus_u_product,
           one_minus_beta_2_power, epsilon):
    for i in prange(n):
        gi = g[i]
        mi, vi = _moments(m, v, i, gi, one_minus_beta_1, one_minus_beta_2)
        m_hat = (mu_next * mi / one_minus_u_product_next
                 + one_minus_mu_t * gi / one_minus_u_product)
        v_hat = vi / one_minus_beta_2_power
        w[i] = w[i] - m_hat * lr / (np.sqrt(v_hat) + epsilon)


def nadam_update(w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next,
                 one_minus_u_product_next, one_minus_mu_t, one_minus_u_product,
                 one_minus_beta_2_power, epsilon):
    """w (any shape), g and the slots m ("momentum") and v ("velocity")."""
    _update(_nadam, reference.nadam_update, w, g, [m, v],
            [lr, one_minus_beta_1, one_minus_beta_2, mu_next, one_minus_u_product_next,
             one_minus_mu_t, one_minus_u_product, one_minus_beta_2_power, epsilon])
