"""Numba-JIT kernels: the hot loops, written as explicit loops.

Each function computes exactly what its twin in ``reference.py`` computes;
read that file first. Here the loops are spelled out so Numba can compile them
to machine code, run the outer loop on every core (``prange``) and write
straight into one output buffer with no temporary copies.

Compiled code is cached on disk (``cache=True``), so only the first run on a
machine pays the compile time.
"""
import numba
import numpy as np
from numba import njit, prange

from .geometry import output_hw

JIT = dict(cache=True, nogil=True)

# Waking the other cores for a parallel loop costs tens of microseconds (the
# OpenMP threads sleep between kernels, see backend.py). Below this many array
# elements the loop is done sooner on one core: batch-1 inference measured
# 1.01 ms all parallel against 0.30 ms with this threshold (Keras MNIST
# convnet, 2 cores); 2**18 beat 2**16, 2**17 and 2**19 on the emotion net.
# (A second, serial compilation of each kernel ran 0.23 ms but took the cold
# start, compiling everything, from 7.6 s to 10.0 s.)
SERIAL_BELOW = 1 << 18


def parallel_loops(fn):
    """Compile ``fn`` with its ``prange`` spread over every core, and run it on
    one thread when the largest array argument has fewer than ``SERIAL_BELOW``
    elements (with one thread Numba runs the loop in place, waking nobody)."""
    compiled = njit(parallel=True, **JIT)(fn)

    def run(*args):
        work = max(a.size for a in args if isinstance(a, np.ndarray))
        if work >= SERIAL_BELOW:
            return compiled(*args)
        threads = numba.get_num_threads()     # a per-thread setting in Numba
        numba.set_num_threads(1)
        try:
            return compiled(*args)
        finally:
            numba.set_num_threads(threads)
    run.compiled, run.__name__, run.__doc__ = compiled, fn.__name__, fn.__doc__
    return run


@parallel_loops
def _im2col(x, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    n, h, w, c = x.shape
    for nr in prange(n * oh):                  # one output row of one image per task
        b, r = nr // oh, nr % oh
        for q in range(ow):
            row = (b * oh + r) * ow + q
            for i in range(kh):
                ih = r * sh - pt + i * dh
                for j in range(kw):
                    iw = q * sw - pl + j * dw
                    base = (i * kw + j) * c
                    if 0 <= ih < h and 0 <= iw < w:
                        for ch in range(c):
                            cols[row, base + ch] = x[b, ih, iw, ch]
                    else:                      # a padded cell
                        for ch in range(c):
                            cols[row, base + ch] = 0


# With few channels (a gray or RGB image) the loop above copies only 1-3 values
# per tap. Seen as (N, H, W*C), one row of pixels is one run of memory: without
# dilation the kw taps of a kernel row are kw*C consecutive values, copied as
# one run (2-3x faster for 1 channel; from 6 channels on the tap loop wins,
# measured in benchmarks/NOTES.md).
ROWS_BELOW_C = 4


@parallel_loops
def _im2col_rows(x, cols, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    n, h, wc = x.shape
    w, span = wc // c, kw * c                  # span: one kernel row of a patch
    for nr in prange(n * oh):                  # one output row of one image per task
        b, r = nr // oh, nr % oh
        for q in range(ow):
            row = nr * ow + q
            iw0 = q * sw - pl                  # input column of the window's first tap
            whole = dw == 1 and iw0 >= 0 and iw0 + kw <= w
            for i in range(kh):
                ih = r * sh - pt + i * dh
                base = i * span
                if ih < 0 or ih >= h:          # a padded row of the window
                    for t in range(span):
                        cols[row, base + t] = 0
                elif whole:                    # the kernel row lies inside: one run
                    for t in range(span):
                        cols[row, base + t] = x[b, ih, iw0 * c + t]
                else:                          # tap by tap: C values at a time
                    for j in range(kw):
                        iw = iw0 + j * dw
                        if 0 <= iw < w:
                            for ch in range(c):
                                cols[row, base + j * c + ch] = x[b, ih, iw * c + ch]
                        else:                  # a padded cell
                            for ch in range(c):
                                cols[row, base + j * c + ch] = 0


def im2col(x, kh, kw, sh, sw, dh, dw, pads, out=None):
    """x (N, H, W, C) -> cols (N*OH*OW, kh*kw*C), written into ``out`` if given;
    see reference.im2col."""
    n, h, w, c = x.shape
    pt, pl = pads[0], pads[2]                   # the loops need only top and left
    oh, ow = output_hw(h, w, kh, kw, sh, sw, dh, dw, pads)
    cols = _output(out, (n * oh * ow, kh * kw * c), x.dtype)
    x = np.ascontiguousarray(x)
    if c < ROWS_BELOW_C:
        _im2col_rows(x.reshape(n, h, w * c), cols, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    else:
        _im2col(x, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    return cols


@parallel_loops
def _col2im(cols, dx, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    n, h, w, c = dx.shape
    for b in prange(n):                        # images are independent: no write races
        for r in range(oh):
            for q in range(ow):
                row = (b * oh + r) * ow + q
                for i in range(kh):
                    ih = r * sh - pt + i * dh
                    if ih < 0 or ih >= h:
                        continue
                    for j in range(kw):
                        iw = q * sw - pl + j * dw
                        if iw < 0 or iw >= w:
                            continue
                        base = (i * kw + j) * c
                        for ch in range(c):
                            dx[b, ih, iw, ch] += cols[row, base + ch]


@parallel_loops
def _col2im_rows(cols, dx, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    n, h, wc = dx.shape                        # (N, H, W*C), as in _im2col_rows
    w, span = wc // c, kw * c
    for b in prange(n):                        # images are independent: no write races
        for r in range(oh):
            for q in range(ow):
                row = (b * oh + r) * ow + q
                iw0 = q * sw - pl
                whole = dw == 1 and iw0 >= 0 and iw0 + kw <= w
                for i in range(kh):
                    ih = r * sh - pt + i * dh
                    if ih < 0 or ih >= h:
                        continue
                    base = i * span
                    if whole:                  # same additions, same order, as tap by tap
                        for t in range(span):
                            dx[b, ih, iw0 * c + t] += cols[row, base + t]
                        continue
                    for j in range(kw):
                        iw = iw0 + j * dw
                        if iw < 0 or iw >= w:
                            continue
                        for ch in range(c):
                            dx[b, ih, iw * c + ch] += cols[row, base + j * c + ch]


def col2im(dcols, x_shape, kh, kw, sh, sw, dh, dw, pads):
    """dcols (N*OH*OW, kh*kw*C) -> dx (N, H, W, C); see reference.col2im."""
    n, h, w, c = x_shape
    pt, pl = pads[0], pads[2]                   # the loops need only top and left
    oh, ow = output_hw(h, w, kh, kw, sh, sw, dh, dw, pads)
    dx = np.zeros(x_shape, dtype=dcols.dtype)
    dcols = np.ascontiguousarray(dcols)
    if c < ROWS_BELOW_C:                                         # dx seen as (N, H, W*C)
        _col2im_rows(dcols, dx.reshape(n, h, w * c), c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    else:
        _col2im(dcols, dx, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    return dx


@parallel_loops
def _maxpool_forward(x, y, arg, ph, pw, sh, sw, pt, pl):
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for nr in prange(n * oh):
        b, r = nr // oh, nr % oh
        for q in range(ow):
            first = True
            for i in range(ph):
                ih = r * sh - pt + i
                if ih < 0 or ih >= h:
                    continue
                for j in range(pw):
                    iw = q * sw - pl + j
                    if iw < 0 or iw >= w:
                        continue
                    k = i * pw + j
                    if first:                  # the first real cell starts the running max
                        for ch in range(c):
                            y[b, r, q, ch] = x[b, ih, iw, ch]
                            arg[b, r, q, ch] = k
                        first = False
                    else:                      # channels are contiguous: a vector loop
                        for ch in range(c):
                            v = x[b, ih, iw, ch]
                            if v > y[b, r, q, ch]:   # strict '>': the first maximum wins
                                y[b, r, q, ch] = v
                                arg[b, r, q, ch] = k


def maxpool_forward(x, ph, pw, sh, sw, pads):
    """x (N, H, W, C) -> (y, argmax), both (N, OH, OW, C); see reference."""
    n, h, w, c = x.shape
    pt, pl = pads[0], pads[2]                   # the loops need only top and left
    oh, ow = output_hw(h, w, ph, pw, sh, sw, 1, 1, pads)
    y = np.empty((n, oh, ow, c), dtype=x.dtype)
    arg = np.empty((n, oh, ow, c), dtype=np.int32)
    _maxpool_forward(np.ascontiguousarray(x), y, arg, ph, pw, sh, sw, pt, pl)
    return y, arg


@parallel_loops
def _maxpool_backward(dy, arg, dx, pw, sh, sw, pt, pl):
    n, oh, ow, c = dy.shape
    for b in prange(n):
        for r in range(oh):
            for q in range(ow):
                for ch in range(c):
                    k = arg[b, r, q, ch]
                    ih = r * sh - pt + k // pw
                    iw = q * sw - pl + k % pw
                    dx[b, ih, iw, ch] += dy[b, r, q, ch]


@parallel_loops
def _maxpool_backward_tiled(dy, arg, dx, ph, pw, pt, pl):
    n, h, w, c = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for nr in prange(n * h):                   # one row of dx per task: written once, in order
        b, ih = nr // h, nr % h
        r, i = (ih + pt) // ph, (ih + pt) % ph
        for iw in range(w):
            q, j = (iw + pl) // pw, (iw + pl) % pw
            if r >= oh or q >= ow:             # a cell that no window covers
                for ch in range(c):
                    dx[b, ih, iw, ch] = 0
            else:
                k = i * pw + j
                for ch in range(c):            # contiguous channels: a vector loop
                    dx[b, ih, iw, ch] = dy[b, r, q, ch] if arg[b, r, q, ch] == k else 0


def maxpool_backward(dy, argmax, x_shape, ph, pw, sh, sw, pads):
    """Scatter dy (N, OH, OW, C) to the winning cells of dx (N, H, W, C)."""
    if (sh, sw) == (ph, pw):
        # Windows that tile the input (the usual 2x2, stride 2) never overlap:
        # each cell of dx is either its window's winner or 0, so one pass
        # writes dx with no zero-fill and no scattered adds.
        dx = np.empty(x_shape, dtype=dy.dtype)
        _maxpool_backward_tiled(np.ascontiguousarray(dy), argmax, dx, ph, pw, pads[0], pads[2])
        return dx
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _maxpool_backward(np.ascontiguousarray(dy), argmax, dx, pw, sh, sw, pads[0], pads[2])
    return dx


@parallel_loops
def _avgpool(x, y, ph, pw, sh, sw, pt, pl):
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    for nr in prange(n * oh):
        b, r = nr // oh, nr % oh
        for q in range(ow):
            i0, i1 = max(r * sh - pt, 0), min(r * sh - pt + ph, h)
            j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + pw, w)
            inv = 1.0 / ((i1 - i0) * (j1 - j0))     # in-bounds cells only
            for ch in range(c):
                acc = x[b, i0, j0, ch] * 0
                for ih in range(i0, i1):
                    for iw in range(j0, j1):
                        acc += x[b, ih, iw, ch]
                y[b, r, q, ch] = acc * inv


def avgpool_forward(x, ph, pw, sh, sw, pads):
    """x (N, H, W, C) -> y (N, OH, OW, C); see reference.avgpool_forward."""
    n, h, w, c = x.shape
    pt, pl = pads[0], pads[2]                   # the loops need only top and left
    oh, ow = output_hw(h, w, ph, pw, sh, sw, 1, 1, pads)
    y = np.empty((n, oh, ow, c), dtype=x.dtype)
    _avgpool(np.ascontiguousarray(x), y, ph, pw, sh, sw, pt, pl)
    return y


@parallel_loops
def _avgpool_backward(dy, dx, ph, pw, sh, sw, pt, pl):
    n, h, w, c = dx.shape
    oh, ow = dy.shape[1], dy.shape[2]
    for b in prange(n):
        for r in range(oh):
            for q in range(ow):
                i0, i1 = max(r * sh - pt, 0), min(r * sh - pt + ph, h)
                j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + pw, w)
                inv = 1.0 / ((i1 - i0) * (j1 - j0))
                for ih in range(i0, i1):
                    for iw in range(j0, j1):
                        for ch in range(c):
                            dx[b, ih, iw, ch] += dy[b, r, q, ch] * inv


def avgpool_backward(dy, x_shape, ph, pw, sh, sw, pads):
    """Spread dy (N, OH, OW, C) evenly over each window of dx (N, H, W, C)."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _avgpool_backward(np.ascontiguousarray(dy), dx, ph, pw, sh, sw, pads[0], pads[2])
    return dx


@parallel_loops
def _bias_relu(z, b):
    rows, f = z.shape
    for r in prange(rows):
        for k in range(f):
            v = z[r, k] + b[k]
            z[r, k] = v if v > 0 else 0


def bias_relu(z, b):
    """y = max(z + b, 0) in place on z (rows, F); returns z."""
    _bias_relu(z, b)
    return z


@parallel_loops
def _relu_backward(dy, y, dz):
    for r in prange(dy.shape[0]):
        for k in range(dy.shape[1]):
            dz[r, k] = dy[r, k] if y[r, k] > 0 else 0


def relu_backward(dy, y):
    """dz = dy where y > 0 else 0, for any shape (flattened to 2-D inside)."""
    dy2 = np.ascontiguousarray(dy).reshape(-1, dy.shape[-1])   # (rows, F)
    dz = np.empty_like(dy2)
    _relu_backward(dy2, np.ascontiguousarray(y).reshape(dy2.shape), dz)
    return dz.reshape(dy.shape)


@parallel_loops
def _column_sums(a, out, bands):
    rows, f = a.shape
    for t in prange(bands):                    # each core sums its own band of columns
        lo, hi = t * f // bands, (t + 1) * f // bands
        acc = np.zeros(hi - lo, a.dtype)       # a private accumulator: a vector loop
        for r in range(rows):                  # rows in order, as NumPy adds them
            row = a[r, lo:hi]
            for k in range(hi - lo):
                acc[k] += row[k]
        out[lo:hi] = acc


def column_sums(a):
    """a (rows, F) -> (F,): the bias gradient; the same additions, in the same order,
    as ``a.sum(axis=0)``, so the result is bit-identical."""
    if a.shape[1] < 16:
        # NumPy sums a single column pairwise; narrow bands would share cache lines
        return a.sum(axis=0)
    out = np.empty(a.shape[1], dtype=a.dtype)
    bands = max(1, min(numba.get_num_threads(), a.shape[1] // 16))   # >= 16 floats each
    _column_sums(np.ascontiguousarray(a), out, bands)
    return out


# -- matrix products split across the cores ------------------------------------------
# np.dot inside an @njit function calls BLAS (through SciPy) on one thread; the
# prange below gives each core its own band of rows. That keeps every core busy
# without a second thread pool (BLAS's) competing with Numba's.
MIN_ROWS_PER_TASK = 512


@njit(parallel=True, **JIT)
def _matmul(a, b, out, tasks):
    n = a.shape[0]
    for t in prange(tasks):
        lo, hi = t * n // tasks, (t + 1) * n // tasks
        np.dot(a[lo:hi], b, out[lo:hi])


@njit(parallel=True, **JIT)
def _matmul_tn(a, b, parts):
    n, tasks = a.shape[0], parts.shape[0]
    for t in prange(tasks):
        lo, hi = t * n // tasks, (t + 1) * n // tasks
        np.dot(a[lo:hi].T, b[lo:hi], parts[t])


def _tasks(rows):
    return max(1, min(numba.get_num_threads(), rows // MIN_ROWS_PER_TASK))


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> (M, N), rows split across the cores; into ``out`` if given."""
    out = _output(out, (a.shape[0], b.shape[1]), a.dtype)
    tasks = _tasks(a.shape[0])
    if tasks == 1:
        return np.matmul(a, b, out=out)
    _matmul(np.ascontiguousarray(a), b, out, tasks)
    return out


def _output(out, shape, dtype):
    """``out`` checked against the shape and dtype a kernel writes, or a new array."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype).name} array of shape "
                         f"{shape}, received {out.dtype.name} {out.shape}")
    return out


def matmul_tn(a, b):
    """a.T @ b for a (M, K), b (M, N) -> (K, N): each core sums its band of rows."""
    tasks = _tasks(a.shape[0])
    if tasks == 1:
        return a.T @ b
    parts = np.empty((tasks, a.shape[1], b.shape[1]), dtype=a.dtype)
    _matmul_tn(np.ascontiguousarray(a), np.ascontiguousarray(b), parts)
    return parts.sum(axis=0)
