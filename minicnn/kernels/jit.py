"""Numba-JIT kernels: the hot loops, written as explicit loops.

Each function computes exactly what its twin in ``reference.py`` computes;
read that file first. Here the loops are spelled out so Numba can compile them
to machine code, run the outer loop on every core (``prange``) and write
straight into one output buffer with no temporary copies.

Compiled code is cached on disk (``cache=True``), so only the first run on a
machine pays the compile time.
"""
import os
import tempfile
import threading
import types
import warnings

import numba
import numpy as np
from numba import njit, prange
from numba.misc.appdirs import AppDirs

from . import reference


def _writable(folder):
    """True when a file can be created in ``folder`` (made if missing)."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def disk_cache_possible(folders=None):
    """Whether Numba can keep compiled kernels on disk: in ``__pycache__`` beside this
    file, else in the user's cache folder (where Numba itself looks, in that
    order). With neither writable (a read-only install and home), Numba would
    raise "cannot cache function"; minicnn then compiles in memory, with one
    warning, and every new process pays the compile time again."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True                                      # the user chose a folder
    if folders is None:
        folders = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__"),
                   AppDirs(appname="numba", appauthor=False).user_cache_dir]
    if any(_writable(folder) for folder in folders):
        return True
    warnings.warn(f"minicnn: no writable folder for Numba's cache (tried {', '.join(folders)}); "
                  f"kernels are compiled in memory and each new process compiles them again. "
                  f"Set NUMBA_CACHE_DIR to a writable folder to keep them.",
                  RuntimeWarning, stacklevel=2)
    return False


JIT = dict(cache=disk_cache_possible(), nogil=True)


def compiled_on_disk():
    """Whether Numba's disk cache already holds this source's kernels (the index
    file of an im2col kernel, named after its current line, exists): a first call then
    loads them in well under a second instead of compiling for several."""
    try:
        return any(os.path.exists(probe.serial._cache._cache_file._index_path)
                   for probe in (_im2col, _im2col_taps))
    except AttributeError:                       # no disk cache (or another Numba)
        return False


def compiled_in_process():
    """Whether the im2col kernels (every convolution uses one) were compiled or loaded
    in this process already."""
    return any(getattr(twin, "signatures", True)                 # (True: Numba is off)
               for probe in (_im2col, _im2col_taps) for twin in (probe.serial, probe.parallel))

# Rule: a loop whose largest array has fewer elements than this runs on one
# thread, because waking the other cores costs more than it saves on small
# work (benchmarks/NOTES.md, optimization 2).
SERIAL_BELOW = 1 << 18

_thread = threading.local()


def one_thread(on):
    """Declare that the calling thread runs every kernel on one thread (a worker of
    a split batch, whose Numba thread count is already 1), so the kernels skip
    asking Numba, which takes a lock, on every call."""
    if on:
        numba.set_num_threads(1)
    _thread.one = on


def _one_thread():
    return getattr(_thread, "one", False)


# Numba's thread count is a per-thread setting, and reading or setting it takes
# a lock (about 35 of the 175 us of a batch-1 forward when asked around every
# loop). So each thread remembers the count it found ("full") and the one it
# set last, and changes it only when a parallel loop finds it lowered (a batch
# worker sets 1); ``restore_threads`` (end of fit/predict) gives the thread its
# count back.
def _threads_for(work):
    """1 when ``work`` (elements) is below SERIAL_BELOW, else every core, with
    Numba's count for this thread set to it."""
    state = _thread.__dict__
    if "full" not in state:
        state["full"] = state["now"] = numba.get_num_threads()
    if work < SERIAL_BELOW:
        return 1                               # the serial twin runs: no count to set
    if state["now"] != state["full"]:
        numba.set_num_threads(state["full"])
        state["now"] = state["full"]
    return state["full"]


def _all_threads():
    """The thread count this thread's loops may use."""
    return 1 if _one_thread() else _thread.__dict__.get("full") or numba.get_num_threads()


def restore_threads():
    """Give the calling thread back the Numba thread count it had before the kernels ran."""
    state = _thread.__dict__
    if "full" in state:
        if state["now"] != state["full"]:
            numba.set_num_threads(state["full"])
        del state["full"], state["now"]


def twins(fn, **options):
    """``fn`` compiled twice, as (serial, parallel): the serial twin runs each ``prange``
    as a plain ``range`` on the calling thread; the parallel one spreads it over
    Numba's threads. The loop bodies are the same, so the results are the same bit
    for bit. The serial twin compiles in about a third of the time (no parallel
    lowering) and is all a batch worker or a small loop ever calls, so a parallel
    twin is compiled only when a large array meets it outside a batch worker.

    The serial twin compiles a copy of ``fn`` named ``<name>_serial``: Numba's disk
    cache files a kernel under its name and line, and its index does not tell a
    parallel compilation from a serial one."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    copy.__qualname__, copy.__doc__ = fn.__qualname__ + "_serial", fn.__doc__
    return njit(**JIT, **options)(copy), njit(parallel=True, **JIT, **options)(fn)


def parallel_loops(fn):
    """``fn``'s twins (see ``twins``): the serial one in a batch worker or when the
    largest array argument has fewer than ``SERIAL_BELOW`` elements, the parallel
    one (on every core) otherwise."""
    serial, parallel = twins(fn)

    def run(*args):
        if _one_thread() or _threads_for(max(a.size for a in args if isinstance(a, np.ndarray))) == 1:
            return serial(*args)
        return parallel(*args)
    run.serial, run.parallel = serial, parallel
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
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


# Rule: below this many channels (gray or RGB images) im2col goes tap by tap
# over a zero-padded copy of the input: for one output row and one tap, the
# OW values come from one input row at a fixed step, and the OW x kh*kw*C block
# being written stays in the core's L1 cache, so the strided stores are cheap.
# The patch-by-patch loop copies only 1-3 values at a time there, and a loop by
# kernel rows (kw*C values) was 2.3-4.5x slower (benchmarks/NOTES.md, 4 and 13).
ROWS_BELOW_C = 4


@parallel_loops
def _im2col_taps(xp, cols, c, kh, kw, sh, sw, dh, dw, oh, ow):
    # xp (N, Hp, Wp*C): the input with its padding written in; cols (N*OH*OW, kh*kw*C)
    for nr in prange(xp.shape[0] * oh):        # one output row of one image per task
        b, r = nr // oh, nr % oh
        row = nr * ow                          # cols row of this output row's first pixel
        for i in range(kh):
            src = xp[b, r * sh + i * dh]       # (Wp*C,): the input row under kernel row i
            for j in range(kw):
                for ch in range(c):
                    t = (i * kw + j) * c + ch      # cols column of this tap and channel
                    first, step = j * dw * c + ch, sw * c
                    for q in range(ow):
                        cols[row + q, t] = src[first + q * step]


def _zero_padded(x, window):
    """x (N, H, W, C) as (N, Hp, Wp*C) with the window's zero padding written in
    (x itself, reshaped, when there is none)."""
    n, h, w, c = x.shape
    (pt, pb), (pl, pr) = window.padding
    if pt == pb == pl == pr == 0:
        return x.reshape(n, h, w * c)
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=x.dtype)   # (N, Hp, Wp, C)
    xp[:, pt:pt + h, pl:pl + w] = x
    return xp.reshape(n, h + pt + pb, (w + pl + pr) * c)


def _loop_args(window):
    """The scalars the loops take: kh, kw, sh, sw, dh, dw, top and left padding, OH, OW
    (the loops need only the top and left padding)."""
    (kh, kw), (sh, sw), (dh, dw) = window.size, window.strides, window.dilation
    (pt, _), (pl, _) = window.padding
    return (kh, kw, sh, sw, dh, dw, pt, pl, *window.output_hw)


def im2col(x, window, out=None):
    """x (N, H, W, C) -> cols (N*OH*OW, kh*kw*C), written into ``out`` if given;
    see reference.im2col."""
    n, h, w, c = x.shape
    (kh, kw), (oh, ow) = window.size, window.output_hw
    cols = _output(out, (n * oh * ow, kh * kw * c), x.dtype)
    x = np.ascontiguousarray(x)
    if c < ROWS_BELOW_C:
        kh, kw, sh, sw, dh, dw, _, _, oh, ow = _loop_args(window)
        _im2col_taps(_zero_padded(x, window), cols, c, kh, kw, sh, sw, dh, dw, oh, ow)
    else:
        _im2col(x, cols, *_loop_args(window))
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
    n, h, wc = dx.shape                        # dx seen as (N, H, W*C)
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


def col2im(dcols, x_shape, window):
    """dcols (N*OH*OW, kh*kw*C) -> dx (N, H, W, C); see reference.col2im."""
    n, h, w, c = x_shape
    dx = np.zeros(x_shape, dtype=dcols.dtype)
    dcols = np.ascontiguousarray(dcols)
    if c < ROWS_BELOW_C:                                         # dx seen as (N, H, W*C)
        _col2im_rows(dcols, dx.reshape(n, h, w * c), c, *_loop_args(window))
    else:
        _col2im(dcols, dx, *_loop_args(window))
    return dx


@njit(inline="always", **JIT)
def _challenge(best, k, v, kv):
    """The running maximum (best, its cell k) after cell kv holding v: strict
    '>' (the first maximum wins), and the first NaN wins over any number, as
    np.argmax decides. A select, not a branch, so the loops around it compile
    to vector instructions."""
    take = (v > best) | ((v != v) & (best == best))
    return (v, kv) if take else (best, k)


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
                            y[b, r, q, ch], arg[b, r, q, ch] = _challenge(
                                y[b, r, q, ch], arg[b, r, q, ch], x[b, ih, iw, ch], k)


# The common pooling, 2x2 windows at stride 2 with every window inside the
# image, has loops of its own with the four cells written out, so the running
# maximum stays in a register instead of going back to y after each cell. The
# channel loop is then the vector loop, and LLVM builds it to take 16
# channels at a time (two AVX2 registers): from 16 channels that is 4-6x
# faster than the general loop (32x28x28x32: 526 -> 103 us). Below 16 the
# vector loop never runs and the comparisons become branches that random
# data mispredicts, so narrow inputs (LeNet-5's 6 channels) go row by row
# instead: a window is evaluated at every column of the two image rows (one
# long contiguous loop, a vector loop for any C, twice the comparisons
# needed), and the windows at even columns are then copied out (32x28x28x6:
# 634 -> 133 us). Backward, narrow inputs spread each window's gradient over
# its two columns first and then write both rows in one contiguous pass
# (628 -> 81 us); from 16 channels the tiled loop is as fast
# (benchmarks/NOTES.md, entry 14).
POOL_ROWS_BELOW_C = 16


def _is_2x2_inside(window, exact=False):
    """2x2 windows at stride 2 with no padding before, all inside the image
    (``exact``: and covering it, no row or column left over)."""
    (oh, ow), (h, w) = window.output_hw, window.input_hw
    inside = (2 * oh == h and 2 * ow == w) if exact else (2 * oh <= h and 2 * ow <= w)
    return (window.size == (2, 2) and window.strides == (2, 2)
            and window.padding[0][0] == 0 and window.padding[1][0] == 0 and inside)


@parallel_loops
def _maxpool2x2_forward(x, y, arg):
    n, oh, ow, c = y.shape
    for nr in prange(n * oh):
        b, r = nr // oh, nr % oh
        top, bottom = 2 * r, 2 * r + 1
        for q in range(ow):
            left, right = 2 * q, 2 * q + 1
            for ch in range(c):                # contiguous channels: a vector loop
                best, k = x[b, top, left, ch], 0
                best, k = _challenge(best, k, x[b, top, right, ch], 1)
                best, k = _challenge(best, k, x[b, bottom, left, ch], 2)
                best, k = _challenge(best, k, x[b, bottom, right, ch], 3)
                y[b, r, q, ch] = best
                arg[b, r, q, ch] = k


@parallel_loops
def _maxpool2x2_rows_forward(x, y, arg, tasks):
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    rows = x.reshape(n * h, w * c)             # (N*H, W*C): image rows, flat
    span = (2 * ow - 1) * c                    # window starts that have a right column
    for task in prange(tasks):                 # each task its own rows and scratch rows
        best_row = np.empty(span, x.dtype)     # a window's max and cell, at every column
        k_row = np.empty(span, np.int32)
        for nr in range(task * n * oh // tasks, (task + 1) * n * oh // tasks):
            b, r = nr // oh, nr % oh
            top, bottom = rows[b * h + 2 * r], rows[b * h + 2 * r + 1]
            for t in range(span):              # one long contiguous loop: vectorized
                best, k = top[t], 0
                best, k = _challenge(best, k, top[t + c], 1)
                best, k = _challenge(best, k, bottom[t], 2)
                best, k = _challenge(best, k, bottom[t + c], 3)
                best_row[t] = best
                k_row[t] = k
            for q in range(ow):                # the real windows start at even columns
                for ch in range(c):
                    y[b, r, q, ch] = best_row[2 * q * c + ch]
                    arg[b, r, q, ch] = k_row[2 * q * c + ch]


@parallel_loops
def _maxpool2x2_rows_backward(dy, arg, dx, tasks):
    n, oh, ow, c = dy.shape
    h, w = dx.shape[1], dx.shape[2]
    rows = dx.reshape(n * h, w * c)            # (N*H, W*C): image rows, flat
    zero = np.zeros(1, dx.dtype)[0]
    for task in prange(tasks):
        g_row = np.empty(w * c, dy.dtype)      # each window's gradient under both its columns
        k_row = np.empty(w * c, np.int32)      # its winning cell, 0 or 2 if in this column
        for nr in range(task * n * oh // tasks, (task + 1) * n * oh // tasks):
            b, r = nr // oh, nr % oh
            for q in range(ow):
                left, right = 2 * q * c, (2 * q + 1) * c
                for ch in range(c):
                    g, k = dy[b, r, q, ch], arg[b, r, q, ch]
                    g_row[left + ch], k_row[left + ch] = g, k
                    g_row[right + ch], k_row[right + ch] = g, k - 1    # cells 1, 3 -> 0, 2
            top, bottom = rows[b * h + 2 * r], rows[b * h + 2 * r + 1]
            for t in range(w * c):             # every cell of dx written once, in order
                top[t] = g_row[t] if k_row[t] == 0 else zero
                bottom[t] = g_row[t] if k_row[t] == 2 else zero


def _pool_args(window):
    """The scalars the pooling loops take: ph, pw, sh, sw, top and left padding."""
    kh, kw, sh, sw, _, _, pt, pl, _, _ = _loop_args(window)
    return kh, kw, sh, sw, pt, pl


def maxpool_forward(x, window):
    """x (N, H, W, C) -> (y, argmax), both (N, OH, OW, C); see reference."""
    n, _, _, c = x.shape
    oh, ow = window.output_hw
    y = np.empty((n, oh, ow, c), dtype=x.dtype)
    arg = np.empty((n, oh, ow, c), dtype=np.int32)
    x = np.ascontiguousarray(x)
    if not _is_2x2_inside(window):
        _maxpool_forward(x, y, arg, *_pool_args(window))
    elif c < POOL_ROWS_BELOW_C:
        _maxpool2x2_rows_forward(x, y, arg, _all_threads())
    else:
        _maxpool2x2_forward(x, y, arg)
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


def maxpool_backward(dy, argmax, x_shape, window):
    """Scatter dy (N, OH, OW, C) to the winning cells of dx (N, H, W, C)."""
    ph, pw, sh, sw, pt, pl = _pool_args(window)
    dy = np.ascontiguousarray(dy)
    if dy.shape[3] < POOL_ROWS_BELOW_C and _is_2x2_inside(window, exact=True):
        dx = np.empty(x_shape, dtype=dy.dtype)
        _maxpool2x2_rows_backward(dy, np.ascontiguousarray(argmax), dx, _all_threads())
        return dx
    if (sh, sw) == (ph, pw):
        # Windows that tile the input (the usual 2x2, stride 2) never overlap:
        # each cell of dx is either its window's winner or 0, so one pass
        # writes dx with no zero-fill and no scattered adds.
        dx = np.empty(x_shape, dtype=dy.dtype)
        _maxpool_backward_tiled(dy, argmax, dx, ph, pw, pt, pl)
        return dx
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _maxpool_backward(dy, argmax, dx, pw, sh, sw, pt, pl)
    return dx


@parallel_loops
def _avgpool(x, y, ph, pw, sh, sw, pt, pl):
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    zero = np.zeros(1, x.dtype)[0]             # a 0 of x's type (x * 0 is NaN for inf)
    for nr in prange(n * oh):
        b, r = nr // oh, nr % oh
        for q in range(ow):
            i0, i1 = max(r * sh - pt, 0), min(r * sh - pt + ph, h)
            j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + pw, w)
            inv = 1.0 / ((i1 - i0) * (j1 - j0))     # in-bounds cells only
            for ch in range(c):
                acc = zero
                for ih in range(i0, i1):
                    for iw in range(j0, j1):
                        acc += x[b, ih, iw, ch]
                y[b, r, q, ch] = acc * inv


def avgpool_forward(x, window):
    """x (N, H, W, C) -> y (N, OH, OW, C); see reference.avgpool_forward."""
    n, _, _, c = x.shape
    y = np.empty((n, *window.output_hw, c), dtype=x.dtype)
    _avgpool(np.ascontiguousarray(x), y, *_pool_args(window))
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


def avgpool_backward(dy, x_shape, window):
    """Spread dy (N, OH, OW, C) evenly over each window of dx (N, H, W, C)."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _avgpool_backward(np.ascontiguousarray(dy), dx, *_pool_args(window))
    return dx


@parallel_loops
def _bias_relu(z, b):
    rows, f = z.shape
    for r in prange(rows):
        for k in range(f):
            v = z[r, k] + b[k]
            z[r, k] = v if v > 0 or v != v else 0    # NaN stays NaN, as np.maximum


def bias_relu(z, b):
    """y = max(z + b, 0) in place on z (rows, F); returns z."""
    _bias_relu(z, b)
    return z


@parallel_loops
def _relu_backward(dy, y, dz):
    # One flat loop: a (rows, F) loop nest with F = 6 (LeNet-5) ran 27x slower.
    for i in prange(dy.shape[0]):
        dz[i] = dy[i] if y[i] > 0 else 0


def relu_backward(dy, y):
    """dz = dy where y > 0 else 0, for any shape (flattened to 1-D inside)."""
    dy1 = np.ascontiguousarray(dy).reshape(-1)                  # (N*...,)
    dz = np.empty_like(dy1)
    _relu_backward(dy1, np.ascontiguousarray(y).reshape(-1), dz)
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
        band = out[lo:hi]
        for k in range(hi - lo):               # (a loop: `out[lo:hi] = acc` compiles
            band[k] = acc[k]                   # a shape check's error text, seconds)


def column_sums(a):
    """a (rows, F) -> (F,): the bias gradient; the same additions, in the same order,
    as ``a.sum(axis=0)``, so the result is bit-identical."""
    if a.shape[1] == 1:
        return a.sum(axis=0)                   # NumPy sums a single column pairwise
    out = np.empty(a.shape[1], dtype=a.dtype)
    bands = max(1, min(_all_threads(), a.shape[1] // 16))        # >= 16 floats each
    # (fewer than 16 columns: one band, as narrow bands would share cache lines)
    _column_sums(np.ascontiguousarray(a), out, bands)
    return out


# -- matrix products split across the cores ------------------------------------------
# Rule: each core multiplies its own band of rows with single-threaded BLAS
# (np.dot inside @njit), so no second thread pool competes with Numba's.
MIN_ROWS_PER_TASK = 512

# Rule: a tall product with few columns (a convolution's cols times its kernel,
# and cols.T @ dz) is multiplied in runs of rows whose product has at most
# SMALL_PRODUCT multiply-adds (rows * K * N). OpenBLAS multiplies a product that
# small with its small-matrix kernels (M*N*K <= 100^3 in its
# kernel/x86_64/sgemm_small_kernel_permit_skylakex.c, AVX-512 CPUs), which skip
# packing both operands into buffers, the copy that dominates a product of
# 9-150 columns; one whole product is packed. Runs shorter than MIN_CHUNK_ROWS
# are not worth a call: the product stays whole. One core, float32: cols.T @ dz
# 25,088x25 by 6 405 -> 155 us, 43,264x9 by 32 1,428 -> 591; cols @ W 43,264x9
# by 32 416 -> 282 (benchmarks/NOTES.md, entry 15). dz @ W.T (a transposed right
# side) is slower cut, so only a C-contiguous right side is.
SMALL_PRODUCT = 1_000_000
MIN_CHUNK_ROWS = 32


def chunk_rows(k, n):
    """Rows per run of a tall product with K = k, N = n (see the rule), or 0: whole."""
    rows = SMALL_PRODUCT // max(1, k * n)
    return rows if rows >= MIN_CHUNK_ROWS else 0


@njit(parallel=True, **JIT)
def _matmul(a, b, out, tasks, chunk):
    n = a.shape[0]
    for t in prange(tasks):
        lo, hi = t * n // tasks, (t + 1) * n // tasks
        for r in range(lo, hi, chunk):                   # runs of rows: small products
            e = min(r + chunk, hi)
            np.dot(a[r:e], b, out[r:e])


@njit(parallel=True, **JIT)
def _matmul_tn(a, b, parts, chunk):
    n, tasks = a.shape[0], parts.shape[0]
    for t in prange(tasks):
        lo, hi = t * n // tasks, (t + 1) * n // tasks
        e = min(lo + chunk, hi)
        np.dot(a[lo:e].T, b[lo:e], parts[t])
        if e < hi:
            run = np.empty_like(parts[t])
            for r in range(e, hi, chunk):                # the runs' products, in order
                np.dot(a[r:min(r + chunk, hi)].T, b[r:min(r + chunk, hi)], run)
                parts[t] += run


def _tasks(rows):
    return max(1, min(_all_threads(), rows // MIN_ROWS_PER_TASK))


def matmul(a, b, out=None):
    """a (M, K) @ b (K, N) -> (M, N), rows split across the cores and cut into runs
    (see the rules above); into ``out`` if given."""
    out = _output(out, (a.shape[0], b.shape[1]), a.dtype)
    tasks = _tasks(a.shape[0])
    chunk = chunk_rows(a.shape[1], b.shape[1]) if b.flags.c_contiguous else 0
    if tasks == 1:
        if not chunk or chunk >= a.shape[0]:
            return np.matmul(a, b, out=out)
        for r in range(0, a.shape[0], chunk):
            np.matmul(a[r:r + chunk], b, out=out[r:r + chunk])      # (chunk, N)
        return out
    _threads_for(SERIAL_BELOW)                 # every core for the bands
    _matmul(np.ascontiguousarray(a), b, out, tasks, chunk or a.shape[0])
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
    """a.T @ b for a (M, K), b (M, N) -> (K, N): each core sums its band of rows,
    run by run (see the rules above)."""
    tasks = _tasks(a.shape[0])
    chunk = chunk_rows(a.shape[1], b.shape[1])
    if tasks == 1:
        if not chunk or chunk >= a.shape[0]:
            return a.T @ b
        total = a[:chunk].T @ b[:chunk]                           # (K, N)
        run = np.empty_like(total)
        for r in range(chunk, a.shape[0], chunk):
            np.matmul(a[r:r + chunk].T, b[r:r + chunk], out=run)
            total += run
        return total
    parts = np.empty((tasks, a.shape[1], b.shape[1]), dtype=a.dtype)
    _threads_for(SERIAL_BELOW)
    _matmul_tn(np.ascontiguousarray(a), np.ascontiguousarray(b), parts, chunk or a.shape[0])
    return parts.sum(axis=0)


# -- the convolution, fast path ------------------------------------------------------
# The same three steps as reference.conv2d_forward / conv2d_backward, with the
# detours that buy speed:
# * a 1x1, stride-1, unpadded kernel needs no im2col: x already is cols;
# * bias and ReLU in one pass over z (bias_relu);
# * work arrays above WORKSPACE_FROM_BYTES are kept in the caller's
#   ``workspace`` dict and reused next step, because the C allocator often
#   hands a fresh large array out as new memory and every step then pays its
#   page faults (a batch worker's thread allocates from its own arena, which
#   gives memory back to the system more eagerly), while small arrays come
#   back warm from the allocator's cache (benchmarks/NOTES.md, 4 and 8).
WORKSPACE_FROM_BYTES = 4 << 20


def _work_array(workspace, name, shape, dtype):
    """A large work array kept in ``workspace`` between calls, or None ("allocate")."""
    if workspace is None or np.prod(shape) * np.dtype(dtype).itemsize < WORKSPACE_FROM_BYTES:
        return None
    buf = workspace.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = workspace[name] = np.empty(shape, dtype)
    return buf


def _is_pointwise(window):
    """A 1x1, stride-1, unpadded window: every pixel is its own receptive field."""
    return (window.size == (1, 1) and window.strides == (1, 1)
            and window.padding == ((0, 0), (0, 0)))


def _bias_and_relu(z, bias, relu):
    """z (rows, F) += bias, then max(., 0), in place (bias_relu when both)."""
    if bias is not None and relu:
        bias_relu(z, bias)
    else:
        if bias is not None:
            z += bias
        if relu:
            np.maximum(z, 0, out=z)


# Rule: a thread that runs its kernels on one core (a batch worker) convolves
# block by block when the whole cols matrix would pass BLOCKED_FROM_BYTES: a
# few images' cols (about BLOCK_BYTES) are built, multiplied and dropped while
# they are still in the core's cache, instead of writing the whole matrix to
# memory and reading it back for each product; backward builds each block's
# cols again. Gray and RGB inputs (fewer than ROWS_BELOW_C channels) keep the
# whole-matrix path: their patches are short and the blocks lost there
# (benchmarks/NOTES.md, entry 7).
BLOCKED_FROM_BYTES = 8 << 20
BLOCK_BYTES = 2 << 20


def _blocked(x, kernel, window):
    """Whether this convolution runs block by block (see the rule above)."""
    n, _, _, c = x.shape
    oh, ow = window.output_hw
    cols_bytes = n * oh * ow * kernel.shape[0] * kernel.shape[1] * c * x.itemsize
    return (c >= ROWS_BELOW_C and cols_bytes >= BLOCKED_FROM_BYTES and n > 1
            and _all_threads() == 1)


def _image_blocks(n, cols_bytes_per_image):
    """[(first image, end image), ...]: runs of whole images, about BLOCK_BYTES of cols each."""
    per = max(1, BLOCK_BYTES // cols_bytes_per_image)
    return [(b, min(n, b + per)) for b in range(0, n, per)]


def _conv2d_forward_blocked(x, kernel2d, bias, window, relu):
    """z (N*OH*OW, F) of conv2d_forward, computed a few images at a time."""
    n = x.shape[0]
    p = window.output_hw[0] * window.output_hw[1]            # output pixels per image
    k, f = kernel2d.shape
    z = np.empty((n * p, f), dtype=x.dtype)                  # (N*OH*OW, F)
    blocks = _image_blocks(n, p * k * x.itemsize)
    buf = np.empty(((blocks[0][1] - blocks[0][0]) * p, k), dtype=x.dtype)
    for b0, b1 in blocks:
        cols = im2col(x[b0:b1], window, out=buf[:(b1 - b0) * p])        # (rows, kh*kw*C)
        zb = z[b0 * p:b1 * p]                                            # (rows, F)
        matmul(cols, kernel2d, out=zb)
        _bias_and_relu(zb, bias, relu)                       # while zb is in the cache
    return z


def _conv2d_backward_blocked(dz, cache, need_dx):
    """(dx, dkernel (kh*kw*C, F)) of conv2d_backward, a few images at a time: each
    block's cols are built again from x; dkernel adds the blocks' products in order."""
    x, window = cache["x"], cache["window"]
    kernel2d = cache["kernel"].reshape(-1, dz.shape[1])      # (kh*kw*C, F)
    n = x.shape[0]
    p = window.output_hw[0] * window.output_hw[1]
    k = kernel2d.shape[0]
    blocks = _image_blocks(n, p * k * x.itemsize)
    rows = (blocks[0][1] - blocks[0][0]) * p
    buf = np.empty((rows, k), dtype=x.dtype)
    dcols = np.empty((rows, k), dtype=x.dtype) if need_dx else None
    kernel_t = np.ascontiguousarray(kernel2d.T)              # (F, kh*kw*C)
    dkernel = None
    dx = np.zeros(x.shape, dtype=dz.dtype) if need_dx else None
    for b0, b1 in blocks:
        r0, r1 = b0 * p, b1 * p
        cols = im2col(x[b0:b1], window, out=buf[:r1 - r0])   # (rows, kh*kw*C)
        part = matmul_tn(cols, dz[r0:r1])                    # (kh*kw*C, F)
        if dkernel is None:
            dkernel = part
        else:
            dkernel += part                                  # the blocks in order
        if need_dx:
            dcb = np.matmul(dz[r0:r1], kernel_t, out=dcols[:r1 - r0])    # (rows, kh*kw*C)
            _col2im(dcb, dx[b0:b1], *_loop_args(window))
    return dx, dkernel


def conv2d_forward(x, kernel, bias, window, relu=False, workspace=None):
    """x (N, H, W, C) -> (y (N, OH, OW, F), cache); see reference.conv2d_forward."""
    n, h, w, c = x.shape
    f = kernel.shape[-1]
    (kh, kw), (oh, ow) = window.size, window.output_hw
    cache = {"kernel": kernel, "x_shape": x.shape, "window": window,
             "has_bias": bias is not None, "workspace": workspace}
    if _is_pointwise(window):
        cols = np.ascontiguousarray(x).reshape(n * h * w, c)          # (N*H*W, C)
    elif _blocked(x, kernel, window):
        x = np.ascontiguousarray(x)
        z = _conv2d_forward_blocked(x, kernel.reshape(-1, f), bias, window, relu)
        cache["x"] = x                                   # backward builds cols again from x
        return z.reshape(n, oh, ow, f), cache
    else:
        cols = im2col(x, window, out=_work_array(workspace, "cols", (n * oh * ow, kh * kw * c),
                                                  x.dtype))            # (N*OH*OW, kh*kw*C)
    z = matmul(cols, kernel.reshape(-1, f))                             # (N*OH*OW, F)
    _bias_and_relu(z, bias, relu)
    cache["cols"] = cols
    return z.reshape(n, oh, ow, f), cache


def conv2d_backward(dz, cache, need_dx=True):
    """(dx, dkernel, dbias) from dz (N, OH, OW, F); see reference.conv2d_backward."""
    kernel = cache["kernel"]
    f = kernel.shape[-1]
    dz = np.ascontiguousarray(dz).reshape(-1, f)                        # (N*OH*OW, F)
    dbias = column_sums(dz) if cache["has_bias"] else None              # dz.sum(axis=0)
    if "x" in cache:                                                    # run block by block
        dx, dkernel = _conv2d_backward_blocked(dz, cache, need_dx)
        return dx, dkernel.reshape(kernel.shape), dbias
    dkernel = matmul_tn(cache["cols"], dz).reshape(kernel.shape)        # cols.T @ dz
    if not need_dx:
        return None, dkernel, dbias
    kernel2d = kernel.reshape(-1, f)                                    # (kh*kw*C, F)
    if _is_pointwise(cache["window"]):          # dx is dcols itself: never a kept array
        return matmul(dz, kernel2d.T).reshape(cache["x_shape"]), dkernel, dbias
    dcols = matmul(dz, kernel2d.T, out=_work_array(cache["workspace"], "dcols",
                                                    (dz.shape[0], kernel2d.shape[0]), dz.dtype))
    return col2im(dcols, cache["x_shape"], cache["window"]), dkernel, dbias


# -- dropout, fast path ---------------------------------------------------------------
# reference.dropout_keep, one element at a time, fused with the product: one
# pass reads x and writes y, and no mask is stored (backward hashes again).
_GAMMA, _MIX_1, _MIX_2 = reference.GAMMA, reference.MIX_1, reference.MIX_2
_S27, _S30, _S31, _S32, _ONE = (np.uint64(k) for k in (27, 30, 31, 32, 1))


@parallel_loops
def _dropout_apply(x, out, key, start, threshold, scale, zero):
    for i in prange(x.size):                   # uint64 throughout: products wrap mod 2**64
        z = key + (start + np.uint64(i) + _ONE) * _GAMMA
        z = (z ^ (z >> _S30)) * _MIX_1
        z = (z ^ (z >> _S27)) * _MIX_2
        z = z ^ (z >> _S31)
        out[i] = x[i] * (scale if (z >> _S32) >= threshold else zero)


def dropout_apply(x, key, start, threshold, scale):
    """x * scale where kept, x * 0 where dropped; see reference.dropout_apply."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    cast = x.dtype.type
    _dropout_apply(flat, out, np.uint64(key), np.uint64(start), np.uint64(threshold),
                   cast(scale), cast(0))
    return out.reshape(x.shape)


# -- depthwise convolution, fast path -------------------------------------------------
# The same steps as reference.depthwise_conv2d_forward / _backward: im2col, then
# per-channel products spelled out as loops over (window, tap, channel, multiplier).
@parallel_loops
def _depthwise_forward(cols, kernel, z):
    p_, k_, c_ = cols.shape                    # cols (P, K, C), kernel (K, C, M), z (P, C*M)
    m_ = kernel.shape[2]
    for p in prange(p_):                       # windows are independent: no write races
        for cm in range(c_ * m_):
            z[p, cm] = 0
        for k in range(k_):
            for c in range(c_):
                v = cols[p, k, c]
                for m in range(m_):
                    z[p, c * m_ + m] += v * kernel[k, c, m]


@parallel_loops
def _depthwise_dkernel(cols, dz, parts):
    p_, k_, c_ = cols.shape                    # cols (P, K, C), dz (P, C*M), parts (T, K, C, M)
    tasks, m_ = parts.shape[0], parts.shape[3]
    for t in prange(tasks):                    # each task sums its own band of windows
        lo, hi = t * p_ // tasks, (t + 1) * p_ // tasks
        part = parts[t]
        part[:] = 0
        for p in range(lo, hi):
            for k in range(k_):
                for c in range(c_):
                    v = cols[p, k, c]
                    for m in range(m_):
                        part[k, c, m] += v * dz[p, c * m_ + m]


@parallel_loops
def _depthwise_dcols(dz, kernel, dcols):
    p_, k_, c_ = dcols.shape                   # dz (P, C*M), kernel (K, C, M), dcols (P, K, C)
    m_ = kernel.shape[2]
    for p in prange(p_):
        for k in range(k_):
            for c in range(c_):
                s = dz[p, c * m_] * kernel[k, c, 0]
                for m in range(1, m_):
                    s += dz[p, c * m_ + m] * kernel[k, c, m]
                dcols[p, k, c] = s


def depthwise_conv2d_forward(x, kernel, bias, window, workspace=None):
    """x (N, H, W, C), kernel (kh, kw, C, M) -> (y (N, OH, OW, C*M), cache);
    see reference.depthwise_conv2d_forward."""
    n, _, _, c = x.shape
    kh, kw, _, m = kernel.shape
    oh, ow = window.output_hw
    cols = im2col(x, window, out=_work_array(workspace, "depthwise_cols",
                                             (n * oh * ow, kh * kw * c), x.dtype))
    cols = cols.reshape(-1, kh * kw, c)                                 # (P, K, C)
    z = np.empty((cols.shape[0], c * m), dtype=x.dtype)                 # (P, C*M)
    _depthwise_forward(cols, np.ascontiguousarray(kernel).reshape(kh * kw, c, m), z)
    if bias is not None:
        z += bias
    cache = {"cols": cols, "kernel": kernel, "x_shape": x.shape, "window": window,
             "has_bias": bias is not None}
    return z.reshape(n, oh, ow, c * m), cache


def depthwise_conv2d_backward(dz, cache, need_dx=True):
    """(dx, dkernel, dbias) from dz (N, OH, OW, C*M); see reference.depthwise_conv2d_backward."""
    cols, kernel = cache["cols"], cache["kernel"]
    p, k, c = cols.shape
    m = kernel.shape[-1]
    dz = np.ascontiguousarray(dz).reshape(p, c * m)                     # (P, C*M)
    tasks = 1 if cols.size < SERIAL_BELOW else max(1, min(_all_threads(), p // 64))
    parts = np.empty((tasks, k, c, m), dtype=dz.dtype)                  # (T, K, C, M)
    _depthwise_dkernel(cols, dz, parts)
    dkernel = parts.sum(axis=0).reshape(kernel.shape)                   # (kh, kw, C, M)
    dbias = dz.sum(axis=0) if cache["has_bias"] else None               # (C*M,)
    if not need_dx:
        return None, dkernel, dbias
    dcols = np.empty((p, k, c), dtype=dz.dtype)                         # (P, K, C)
    _depthwise_dcols(dz, np.ascontiguousarray(kernel).reshape(k, c, m), dcols)
    return col2im(dcols.reshape(p, k * c), cache["x_shape"], cache["window"]), dkernel, dbias


# -- scatter-add, fast path ---------------------------------------------------------------
@njit(**JIT)
def _scatter_add_rows(ids, rows, out):
    for i in range(ids.shape[0]):              # in order, as np.add.at: bit-identical sums
        r = ids[i]
        for d in range(rows.shape[1]):
            out[r, d] += rows[i, d]


def scatter_add_rows(ids, rows, num_rows):
    """ids (M,), rows (M, D) -> out (num_rows, D), out[ids[i]] += rows[i];
    see reference.scatter_add_rows."""
    out = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    _scatter_add_rows(np.ascontiguousarray(ids), np.ascontiguousarray(rows), out)
    return out
