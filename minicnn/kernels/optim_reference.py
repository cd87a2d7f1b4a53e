"""Plain-NumPy optimizer updates: the version to read.

One function per optimizer, the element-wise part of its ``update_step`` in
``minicnn/optimizers.py`` (whose docstrings give the formulas): it reads the
gradient ``g``, the variable ``w`` and the optimizer's slots for ``w``, and
writes ``w`` and the slots in place. ``optim_jit.py`` computes exactly the
same thing in one pass over the elements, bit for bit.

Every array has ``w``'s shape and dtype; every number is a scalar of ``w``'s
dtype (the optimizer casts its hyper-parameters first, and works out the
per-step scalars such as Adam's bias-corrected ``alpha``). A slot an option
does not use is None. Operations and their order are the optimizer's own:
changing one changes the last bits of a trained network.
"""
import numpy as np


def sgd_update(w, g, v, lr, momentum, nesterov):
    """w (any shape), g and the slot v ("momentum", None without momentum)."""
    if v is None:
        w -= g * lr
        return
    v[...] = v * momentum - g * lr
    if nesterov:
        w += v * momentum - g * lr
    else:
        w += v


def rmsprop_update(w, g, v, a, m, lr, rho, one_minus_rho, epsilon, momentum):
    """w (any shape), g and the slots v ("velocity"), a ("average_gradient", None
    unless centered) and m ("momentum", None without momentum)."""
    v[...] = rho * v + one_minus_rho * np.square(g)
    if a is not None:
        a[...] = rho * a + one_minus_rho * g
        denominator = v - np.square(a) + epsilon
    else:
        denominator = v + epsilon
    step = lr * g / np.sqrt(denominator)
    if m is not None:
        m[...] = momentum * m + step
        w -= m
    else:
        w -= step


def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """w (any shape), g and the slots m ("momentum"), v ("velocity") and v_hat
    ("velocity_hat", None unless amsgrad); ``alpha`` is the bias-corrected rate."""
    m += (g - m) * one_minus_beta_1
    v += (np.square(g) - v) * one_minus_beta_2
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    w -= m * alpha / (np.sqrt(v) + epsilon)


def adagrad_update(w, g, s, lr, epsilon):
    """w (any shape), g and the slot s ("accumulator")."""
    s += np.square(g)
    w -= lr * g / np.sqrt(s + epsilon)


def adadelta_update(w, g, grad_sq, delta_sq, lr, rho, one_minus_rho, epsilon):
    """w (any shape), g and the slots grad_sq ("accumulated_grad", G) and
    delta_sq ("accumulated_delta_var", D)."""
    grad_sq[...] = rho * grad_sq + one_minus_rho * np.square(g)
    delta = -(np.sqrt(delta_sq + epsilon) * g / np.sqrt(grad_sq + epsilon))
    delta_sq[...] = rho * delta_sq + one_minus_rho * np.square(delta)
    w += lr * delta


def adamax_update(w, g, m, u, lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon):
    """w (any shape), g and the slots m ("momentum") and u ("norm")."""
    m += (g - m) * one_minus_beta_1
    u[...] = np.maximum(beta_2 * u, np.abs(g))
    w -= lr * m / (one_minus_beta_1_power * (u + epsilon))


def nadam_update(w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next,
                 one_minus_u_product_next, one_minus_mu_t, one_minus_u_product,
                 one_minus_beta_2_power, epsilon):
    """w (any shape), g and the slots m ("momentum") and v ("velocity")."""
    m += (g - m) * one_minus_beta_1
    v += (np.square(g) - v) * one_minus_beta_2
    m_hat = mu_next * m / one_minus_u_product_next + one_minus_mu_t * g / one_minus_u_product
    v_hat = v / one_minus_beta_2_power
    w -= m_hat * lr / (np.sqrt(v_hat) + epsilon)
