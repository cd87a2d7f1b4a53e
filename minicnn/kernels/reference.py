"""Plain-NumPy twins of the JIT kernels: the version to read.

Every function here computes exactly what its namesake in ``jit.py`` computes,
with whole-array NumPy operations instead of explicit loops, NaN and inf
included. The tests compare the two on random shapes and on special values;
``minicnn.set_backend("numpy")`` runs a model on these alone.

Shapes use NHWC throughout. ``window`` is a ``geometry.Window``: the kernel
size, strides, dilation, padding and output size of one sliding window.

Everything a conv or a pool does to the image goes through one function,
``windows``, which lays every receptive field out side by side, and its
adjoint ``windows_adjoint``, which adds them back where they came from
(that is what a backward pass needs). im2col is ``windows`` flattened; max and
average pooling reduce over it.

The im2col column order is ``(kh, kw, C)``, the same order in which a Keras
kernel ``(kh, kw, C, F)`` reshapes to ``(kh*kw*C, F)``, so a convolution is
one matrix product with no transpose.
"""
import numpy as np


# -- one sliding window, forward and adjoint -------------------------------------------
def _taps(i, d, s, n_out):
    """The cells tap i of every window reads along one axis: a strided slice."""
    start = i * d
    return slice(start, start + s * (n_out - 1) + 1, s)


def windows(x, window, fill=0.0):
    """Every receptive field of x, side by side.

    x (N, H, W, C) -> (N, OH, OW, kh, kw, C), where ``[n, r, q, i, j, :]`` is
    tap (i, j) of the window at output cell (r, q). Cells outside the image
    read ``fill``. Tap (i, j) of *all* windows is one strided slice of the
    padded image, so the loop runs over the kh*kw taps, not over the windows.
    """
    n, _, _, c = x.shape
    (kh, kw), (sh, sw), (dh, dw) = window.size, window.strides, window.dilation
    oh, ow = window.output_hw
    (pt, pb), (pl, pr) = window.padding
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)),
                constant_values=fill)                            # (N, H+pt+pb, W+pl+pr, C)
    out = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, :, i, j, :] = xp[:, _taps(i, dh, sh, oh), _taps(j, dw, sw, ow), :]
    return out


def windows_adjoint(win, x_shape, window):
    """Add every window's cells back onto the image: the transpose of ``windows``.

    win (N, OH, OW, kh, kw, C) -> (N, H, W, C). A cell that several windows
    cover receives the sum of their values; values that fall on the padding
    are dropped.
    """
    n, h, w, c = x_shape
    (kh, kw), (sh, sw), (dh, dw) = window.size, window.strides, window.dilation
    oh, ow = window.output_hw
    (pt, pb), (pl, pr) = window.padding
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=win.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, _taps(i, dh, sh, oh), _taps(j, dw, sw, ow), :] += win[:, :, :, i, j, :]
    return xp[:, pt:pt + h, pl:pl + w, :]


# -- convolution -------------------------------------------------------------------
def im2col(x, window, out=None):
    """Unfold every receptive field into a row.

    x (N, H, W, C) -> cols (N*OH*OW, kh*kw*C), written into ``out`` if given.
    """
    n, _, _, c = x.shape
    (kh, kw), (oh, ow) = window.size, window.output_hw
    cols = windows(x, window).reshape(n * oh * ow, kh * kw * c)
    if out is None:
        return cols
    out[...] = cols
    return out


def col2im(dcols, x_shape, window):
    """Fold rows back onto the image, adding where receptive fields overlap.

    The adjoint of ``im2col``: dcols (N*OH*OW, kh*kw*C) -> dx (N, H, W, C).
    """
    n, _, _, c = x_shape
    (kh, kw), (oh, ow) = window.size, window.output_hw
    return windows_adjoint(dcols.reshape(n, oh, ow, kh, kw, c), x_shape, window)


def conv2d_forward(x, kernel, bias, window, relu=False, workspace=None):
    """A 2-D convolution (Keras's cross-correlation) as one matrix product.

    x (N, H, W, C), kernel (kh, kw, C, F), bias (F,) or None -> (y, cache),
    y (N, OH, OW, F). ``relu=True`` also applies max(., 0). ``workspace`` is
    ignored here (the fast twin keeps large work arrays in it).

        cols = im2col(x)             (1)  (N*OH*OW, kh*kw*C), one receptive field a row
        z    = cols @ W + b          (2)  W = kernel as (kh*kw*C, F); z is (N*OH*OW, F)
        y    = z as (N, OH, OW, F)   (3)
    """
    n, f = x.shape[0], kernel.shape[-1]
    oh, ow = window.output_hw
    cols = im2col(x, window)                                  # (1) (N*OH*OW, kh*kw*C)
    z = cols @ kernel.reshape(-1, f)                          # (2) (N*OH*OW, F)
    if bias is not None:
        z += bias
    if relu:
        z = np.maximum(z, 0)
    cache = {"cols": cols, "kernel": kernel, "x_shape": x.shape, "window": window,
             "has_bias": bias is not None}
    return z.reshape(n, oh, ow, f), cache                     # (3) (N, OH, OW, F)


def conv2d_backward(dz, cache, need_dx=True):
    """Gradients of ``conv2d_forward`` from dz = dL/dz (N, OH, OW, F), the gradient
    of the convolution's output before any ReLU. Returns (dx, dkernel, dbias);
    dx is None when ``need_dx`` is False, dbias None without a bias.

        dW = cols.T @ dz             (4)  (kh*kw*C, F), reshaped to the kernel
        db = dz summed over rows     (5)  (F,)
        dx = col2im(dz @ W.T)        (6)  (N*OH*OW, kh*kw*C) folded to (N, H, W, C)
    """
    kernel = cache["kernel"]
    f = kernel.shape[-1]
    dz = dz.reshape(-1, f)                                    # (N*OH*OW, F)
    dkernel = (cache["cols"].T @ dz).reshape(kernel.shape)    # (4)
    dbias = dz.sum(axis=0) if cache["has_bias"] else None     # (5)
    if not need_dx:
        return None, dkernel, dbias
    dcols = dz @ kernel.reshape(-1, f).T                      # (N*OH*OW, kh*kw*C)
    return col2im(dcols, cache["x_shape"], cache["window"]), dkernel, dbias   # (6)


# -- pooling -----------------------------------------------------------------------
def _real_cells(x_shape, window, dtype):
    """1 where a window's tap lands on the image, 0 on padding: (1, OH, OW, kh*kw, 1)."""
    ones = np.ones((1, x_shape[1], x_shape[2], 1), dtype=dtype)
    (kh, kw), (oh, ow) = window.size, window.output_hw
    return windows(ones, window, fill=0.0).reshape(1, oh, ow, kh * kw, 1)


def maxpool_forward(x, window):
    """Max over each window; padding is -inf so it never wins.

    Returns y (N, OH, OW, C) and argmax (N, OH, OW, C): the row-major position
    inside the window of the first maximum (np.argmax keeps the first, and a
    NaN counts as the maximum, so NaN propagates as in NumPy and TensorFlow).
    A window whose real cells are all -inf picks its first real cell, never a
    padded one.
    """
    n, _, _, c = x.shape
    (kh, kw), (oh, ow) = window.size, window.output_hw
    win = windows(x, window, fill=-np.inf).reshape(n, oh, ow, kh * kw, c)
    argmax = win.argmax(axis=3)[:, :, :, None, :]              # (N, OH, OW, 1, C)
    real = _real_cells(x.shape, window, x.dtype) > 0          # (1, OH, OW, kh*kw, 1)
    on_padding = ~np.take_along_axis(real, argmax, axis=3)    # only when all real cells are -inf
    argmax = np.where(on_padding, real.argmax(axis=3, keepdims=True), argmax)
    y = np.take_along_axis(win, argmax, axis=3)[:, :, :, 0, :]
    return y, argmax[:, :, :, 0, :].astype(np.int32)


def maxpool_backward(dy, argmax, x_shape, window):
    """Route each upstream gradient to the input cell that won its window."""
    n, oh, ow, c = dy.shape
    kh, kw = window.size
    taps = np.arange(kh * kw).reshape(1, 1, 1, kh * kw, 1)
    dwin = np.where(argmax[:, :, :, None, :] == taps, dy[:, :, :, None, :],
                    np.zeros((), dtype=dy.dtype))             # (N, OH, OW, kh*kw, C)
    return windows_adjoint(dwin.reshape(n, oh, ow, kh, kw, c), x_shape, window)


def avgpool_forward(x, window):
    """Mean over each window, counting only in-bounds cells (as TensorFlow)."""
    n, _, _, c = x.shape
    (kh, kw), (oh, ow) = window.size, window.output_hw
    win = windows(x, window, fill=0.0).reshape(n, oh, ow, kh * kw, c)
    count = _real_cells(x.shape, window, x.dtype).sum(axis=3)      # (1, OH, OW, 1)
    return win.sum(axis=3) / count


def avgpool_backward(dy, x_shape, window):
    """Spread each upstream gradient evenly over the real cells of its window."""
    n, oh, ow, c = dy.shape
    kh, kw = window.size
    share = dy / _real_cells(x_shape, window, dy.dtype).sum(axis=3)  # (N, OH, OW, C)
    dwin = np.broadcast_to(share[:, :, :, None, None, :], (n, oh, ow, kh, kw, c))
    return windows_adjoint(dwin, x_shape, window)


# -- element-wise and reductions ---------------------------------------------------
def bias_relu(z, b):
    """y = max(z + b, 0) in place on z (N*, F) with b (F,); returns z. NaN stays NaN."""
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


# -- dropout: a counter-based random stream --------------------------------------------
# Element i of a batch's dropout mask (counted in C order over the whole batch)
# is decided by a hash of (key, i) alone, so any rows of the mask can be drawn
# by themselves, by any worker, in any order, and give what the whole batch
# would: the batch split across the cores keeps the masks of one worker. The
# hash is SplitMix64 (Steele, Lea and Flood, 2014; the stream Java's
# SplittableRandom and the xoshiro seeders use): the (i+1)-th output of the
# stream that starts at ``key``. Kept when its top 32 bits reach ``threshold``
# = ceil(rate * 2**32), i.e. with probability 1 - rate (to 2**-32).
GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


def dropout_keep(key, start, count, threshold):
    """Keep-decisions (bool, count) of mask elements start, ..., start+count-1."""
    with np.errstate(over="ignore"):                        # uint64 products wrap, by design
        i = np.arange(start, start + count, dtype=np.uint64)
        z = np.uint64(key) + (i + np.uint64(1)) * GAMMA
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(32)) >= np.uint64(threshold)


def dropout_apply(x, key, start, threshold, scale):
    """x (any shape) -> x * scale where kept, x * 0 where dropped (so NaN and inf stay
    NaN, as TensorFlow's scale-then-mask does): the forward of Dropout with
    x, and its backward with dy (the same key, the same decisions)."""
    keep = dropout_keep(key, start, x.size, threshold).reshape(x.shape)
    return x * np.where(keep, x.dtype.type(scale), x.dtype.type(0))


# -- depthwise convolution (DepthwiseConv2D, SeparableConv2D) --------------------------
# Each input channel c has its own M filters; output channel c*M + m is channel c
# under its filter m (Keras's order). The receptive fields are im2col's rows,
# seen as (P, K, C) (P = N*OH*OW windows, K = kh*kw taps); the channels are
# never mixed, so the product is one small (K,) . (K, M) contraction per channel.
def depthwise_conv2d_forward(x, kernel, bias, window, workspace=None):
    """A depthwise convolution: every channel convolved with its own filters.

    x (N, H, W, C), kernel (kh, kw, C, M), bias (C*M,) or None -> (y, cache),
    y (N, OH, OW, C*M). ``workspace`` is ignored here (the fast twin keeps its
    large im2col array in it, as conv2d_forward does).

        cols = im2col(x) as (P, K, C)                       (1)  P = N*OH*OW, K = kh*kw
        z[p, c, m] = sum_k cols[p, k, c] * W[k, c, m] + b   (2)  z is (P, C, M)
        y = z as (N, OH, OW, C*M)                           (3)  channel c*M + m
    """
    n, _, _, c = x.shape
    kh, kw, _, m = kernel.shape
    oh, ow = window.output_hw
    cols = im2col(x, window).reshape(-1, kh * kw, c)              # (1) (P, K, C)
    w = kernel.reshape(kh * kw, c, m)                             # (K, C, M)
    z = np.einsum("pkc,kcm->pcm", cols, w).reshape(-1, c * m)     # (2) (P, C*M)
    if bias is not None:
        z += bias
    cache = {"cols": cols, "kernel": kernel, "x_shape": x.shape, "window": window,
             "has_bias": bias is not None}
    return z.reshape(n, oh, ow, c * m), cache                     # (3) (N, OH, OW, C*M)


def depthwise_conv2d_backward(dz, cache, need_dx=True):
    """Gradients of ``depthwise_conv2d_forward`` from dz (N, OH, OW, C*M).
    Returns (dx or None, dkernel (kh, kw, C, M), dbias (C*M,) or None).

        dW[k, c, m]    = sum_p cols[p, k, c] * dz[p, c, m]     (4)  the same contraction
        db             = dz summed over rows                   (5)
        dcols[p, k, c] = sum_m dz[p, c, m] * W[k, c, m]        (6)  its adjoint
        dx             = col2im(dcols)                         (7)
    """
    cols, kernel = cache["cols"], cache["kernel"]
    _, k, c = cols.shape
    m = kernel.shape[-1]
    dz = dz.reshape(-1, c, m)                                     # (P, C, M)
    dkernel = np.einsum("pkc,pcm->kcm", cols, dz).reshape(kernel.shape)   # (4)
    dbias = dz.reshape(-1, c * m).sum(axis=0) if cache["has_bias"] else None   # (5)
    if not need_dx:
        return None, dkernel, dbias
    dcols = np.einsum("pcm,kcm->pkc", dz, kernel.reshape(k, c, m))   # (6) (P, K, C)
    dx = col2im(dcols.reshape(dcols.shape[0], k * c), cache["x_shape"], cache["window"])
    return dx, dkernel, dbias                                     # (7) (N, H, W, C)


# -- scatter-add (the gradient of a table lookup, Embedding) ----------------------------
def scatter_add_rows(ids, rows, num_rows):
    """out[ids[i]] += rows[i] for every i, in order: the adjoint of ``table[ids]``.

    ids (M,) integers in [0, num_rows), rows (M, D) -> out (num_rows, D); a row
    looked up several times receives the sum of its gradients.
    """
    out = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    np.add.at(out, ids, rows)                                     # unbuffered: repeats add up
    return out
