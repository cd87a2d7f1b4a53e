"""Plain-NumPy twins of the JIT kernels: the version to read.

Every function here computes exactly what its namesake in ``jit.py`` computes,
with whole-array NumPy operations instead of explicit loops. The tests compare
the two on random shapes; ``minicnn.set_backend("numpy")`` runs a model on
these alone.

Shapes use NHWC throughout. ``pads`` is ``(top, bottom, left, right)``.
The im2col column order is ``(kh, kw, C)``, the same order in which a Keras
kernel ``(kh, kw, C, F)`` reshapes to ``(kh*kw*C, F)``, so a convolution is
one matrix product with no transpose.
"""
import numpy as np

from .geometry import output_hw


def _window_slices(i, j, oh, ow, sh, sw, dh, dw):
    """Row/column slices of the padded input that tap (i, j) of every window reads."""
    r0, c0 = i * dh, j * dw
    return slice(r0, r0 + sh * (oh - 1) + 1, sh), slice(c0, c0 + sw * (ow - 1) + 1, sw)


def _pad(x, pads, value=0.0):
    pt, pb, pl, pr = pads
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def im2col(x, kh, kw, sh, sw, dh, dw, pads, out=None):
    """Unfold every receptive field into a row.

    x: (N, H, W, C) -> cols: (N*OH*OW, kh*kw*C), written into ``out`` if given
    (the layers pass a buffer they keep from step to step).
    """
    n, h, w, c = x.shape
    oh, ow = output_hw(h, w, kh, kw, sh, sw, dh, dw, pads)
    xp = _pad(x, pads)                                    # (N, H+pt+pb, W+pl+pr, C)
    cols = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window_slices(i, j, oh, ow, sh, sw, dh, dw)
            cols[:, :, :, i, j, :] = xp[:, rows, columns, :]  # (N, OH, OW, C)
    cols = cols.reshape(n * oh * ow, kh * kw * c)
    if out is None:
        return cols
    out[...] = cols
    return out


def col2im(dcols, x_shape, kh, kw, sh, sw, dh, dw, pads):
    """Fold rows back onto the image, adding where receptive fields overlap.

    The adjoint of ``im2col``: dcols (N*OH*OW, kh*kw*C) -> dx (N, H, W, C).
    """
    n, h, w, c = x_shape
    pt, pb, pl, pr = pads
    oh, ow = output_hw(h, w, kh, kw, sh, sw, dh, dw, pads)
    cols = dcols.reshape(n, oh, ow, kh, kw, c)
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _window_slices(i, j, oh, ow, sh, sw, dh, dw)
            dxp[:, rows, columns, :] += cols[:, :, :, i, j, :]
    return dxp[:, pt:pt + h, pl:pl + w, :]


def _pool_windows(x, ph, pw, sh, sw, pads, fill):
    """All pooling windows side by side: (N, OH, OW, ph*pw, C)."""
    n, h, w, c = x.shape
    oh, ow = output_hw(h, w, ph, pw, sh, sw, 1, 1, pads)
    xp = _pad(x, pads, fill)
    win = np.empty((n, oh, ow, ph * pw, c), dtype=x.dtype)
    for i in range(ph):
        for j in range(pw):
            rows, columns = _window_slices(i, j, oh, ow, sh, sw, 1, 1)
            win[:, :, :, i * pw + j, :] = xp[:, rows, columns, :]
    return win


def maxpool_forward(x, ph, pw, sh, sw, pads):
    """Max over each window; padding is -inf so it never wins.

    Returns y (N, OH, OW, C) and argmax (N, OH, OW, C): the row-major position
    inside the window of the first maximum (np.argmax keeps the first).
    """
    win = _pool_windows(x, ph, pw, sh, sw, pads, -np.inf)   # (N, OH, OW, ph*pw, C)
    argmax = win.argmax(axis=3).astype(np.int32)
    y = np.take_along_axis(win, argmax[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return y, argmax


def maxpool_backward(dy, argmax, x_shape, ph, pw, sh, sw, pads):
    """Route each upstream gradient to the input cell that won its window."""
    n, h, w, c = x_shape
    pt, pb, pl, pr = pads
    oh, ow = dy.shape[1], dy.shape[2]
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dy.dtype)
    for i in range(ph):
        for j in range(pw):
            rows, columns = _window_slices(i, j, oh, ow, sh, sw, 1, 1)
            dxp[:, rows, columns, :] += np.where(argmax == i * pw + j, dy, 0)
    return dxp[:, pt:pt + h, pl:pl + w, :]


def _inbounds_count(x_shape, ph, pw, sh, sw, pads, dtype):
    """How many real (not padded) cells each window covers: (1, OH, OW, 1)."""
    ones = np.ones((1, x_shape[1], x_shape[2], 1), dtype=dtype)
    return _pool_windows(ones, ph, pw, sh, sw, pads, 0.0).sum(axis=3)


def avgpool_forward(x, ph, pw, sh, sw, pads):
    """Mean over each window, counting only in-bounds cells (as TensorFlow)."""
    win = _pool_windows(x, ph, pw, sh, sw, pads, 0.0)       # (N, OH, OW, ph*pw, C)
    count = _inbounds_count(x.shape, ph, pw, sh, sw, pads, x.dtype)
    return win.sum(axis=3) / count


def avgpool_backward(dy, x_shape, ph, pw, sh, sw, pads):
    """Spread each upstream gradient evenly over the cells of its window."""
    n, h, w, c = x_shape
    pt, pb, pl, pr = pads
    oh, ow = dy.shape[1], dy.shape[2]
    share = dy / _inbounds_count(x_shape, ph, pw, sh, sw, pads, dy.dtype)
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dy.dtype)
    for i in range(ph):
        for j in range(pw):
            rows, columns = _window_slices(i, j, oh, ow, sh, sw, 1, 1)
            dxp[:, rows, columns, :] += share
    return dxp[:, pt:pt + h, pl:pl + w, :]


def bias_relu(z, b):
    """y = max(z + b, 0) in place on z (N*, F) with b (F,); returns z."""
    z += b
    np.maximum(z, 0, out=z)
    return z


def column_sums(a):
    """a (rows, F) -> (F,): the sum of every column (the bias gradient)."""
    return a.sum(axis=0)


def relu_backward(dy, y):
    """dz = dy where the ReLU was open (y > 0), else 0."""
    return np.where(y > 0, dy, np.zeros((), dtype=dy.dtype))


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> (M, N), written into ``out`` if given."""
    return np.matmul(a, b, out=out)


def matmul_tn(a, b):
    """a.T @ b: a (M, K), b (M, N) -> (K, N), the weight gradient of a matmul."""
    return a.T @ b
