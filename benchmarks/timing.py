"""Timing helpers: interleaved repeats, medians, and the matmul peak.

Machine noise (other jobs, frequency changes) comes in bursts, so every
comparison here runs its contenders in turn, A B A B ..., and quotes the
median of each: a burst then hits both sides instead of one.
"""
import statistics
import time

import numpy as np


def clock():
    return time.perf_counter()


def interleave(contenders, repeats):
    """Call each ``contenders[name]()`` in turn, ``repeats`` rounds.

    Each callable returns one sample (seconds, or images per second).
    Returns ``{name: [samples]}``.
    """
    samples = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            samples[name].append(fn())
    return samples


def summary(values):
    """Median, min, max and count of a list of samples."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def time_calls(fn, calls):
    """Seconds per call of ``fn()``, averaged over ``calls`` back-to-back calls."""
    start = clock()
    for _ in range(calls):
        fn()
    return (clock() - start) / calls


def calls_for(fn, target_s, lo=1, hi=10_000):
    """How many calls of ``fn`` fill about ``target_s`` seconds (after one warm-up call)."""
    fn()
    one = max(time_calls(fn, 1), 1e-7)
    return int(min(hi, max(lo, target_s / one)))


def matmul_peak(n=2048, repeats=5, threads=None):
    """float32 GFLOP/s of ``a @ b`` for n x n matrices: the best of ``repeats``.

    ``threads=None`` leaves BLAS at its default thread count; an int limits it.
    The best (not the median) is the peak: what the hardware can do when
    nobody else is using it.
    """
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    flops = 2.0 * n ** 3
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)                     # warm-up: threads start, pages fault in
        best = min(time_calls(lambda: np.matmul(a, b, out=out), 1) for _ in range(repeats))
    return flops / best / 1e9
