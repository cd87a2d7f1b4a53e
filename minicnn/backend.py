"""Global settings: default float type, kernel backend, random generator.

minicnn keeps three pieces of global state, all here so they are easy to find:

* ``floatx``  - the default dtype of weights and activations ("float32" or "float64"),
* ``backend`` - which kernels run the hot loops: "numba" (JIT, fast) or "numpy"
  (the plain twins in ``minicnn.kernels.reference``, easy to read),
* ``rng``     - the ``numpy.random.Generator`` that initializers, dropout and
  shuffling draw from, so ``set_random_seed`` makes a run reproducible.
"""
import contextlib
import os
import sys
import threading
import warnings

import numpy as np

# Rule: ask OpenMP for sleeping threads (OMP_WAIT_POLICY=PASSIVE) unless the
# user chose, because threads that spin between kernels take the cores from
# the work on a small shared machine. OpenMP reads it once, when Numba starts
# its pool, so minicnn must be imported first. (Measurements:
# benchmarks/NOTES.md, optimization 1.)
def _ask_for_sleeping_threads():
    if "OMP_WAIT_POLICY" in os.environ:
        return                                   # the user's choice stands
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if (parallel is not None and getattr(parallel, "_is_initialized", False)
            and parallel.threading_layer() == "omp"):
        warnings.warn(
            "Numba's OpenMP thread pool started before minicnn was imported, so "
            "OMP_WAIT_POLICY=PASSIVE cannot take effect and training may be several "
            "times slower on a busy machine. Import minicnn first, or set "
            "OMP_WAIT_POLICY=PASSIVE in the environment.", RuntimeWarning, stacklevel=3)


_ask_for_sleeping_threads()


# Rule: keep freed memory in the process instead of handing it back to the
# system after every batch, unless the user tuned glibc's malloc themselves.
# A batch worker's thread allocates from its own malloc arena; by default
# glibc maps each array above a moving threshold afresh and trims a thread
# arena's free memory soon, so every call faulted its output arrays in again
# (MNIST convnet, batch-256 predict on 2 workers: 2,400-4,400 page faults and
# 11,300-12,200 img/s per call, then 370-700 faults and 14,500-17,000 img/s).
# Arrays up to 32 MiB come from the arenas and up to 64 MiB of free memory is
# kept per arena. glibc only (Linux); elsewhere nothing changes.
MMAP_THRESHOLD_BYTES = 32 << 20      # glibc's largest allowed mmap threshold
TRIM_THRESHOLD_BYTES = 64 << 20


def _keep_freed_memory():
    """True when the thresholds were set (glibc, and no MALLOC_* choice of the user's)."""
    import ctypes
    import platform
    if platform.libc_ver()[0] != "glibc":
        return False
    if {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"} & set(os.environ):
        return False                             # the user's choice stands
    libc = ctypes.CDLL(None)
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD_BYTES)
                and libc.mallopt(m_trim_threshold, TRIM_THRESHOLD_BYTES))


MALLOC_TUNED = _keep_freed_memory()

_FLOATX = "float32"
_VALID_FLOATX = ("float32", "float64")
_VALID_BACKENDS = ("numba", "numpy")
_BACKEND = os.environ.get("MINICNN_BACKEND", "numba").lower()
if _BACKEND not in _VALID_BACKENDS:
    raise ValueError(
        f"MINICNN_BACKEND must be one of {_VALID_BACKENDS}, received {_BACKEND!r}")
_RNG = np.random.default_rng()
_CONTROLLER = None


def floatx():
    """The default float dtype name, "float32" unless changed."""
    return _FLOATX


def set_floatx(value):
    """Set the default float dtype for layers built from now on."""
    global _FLOATX
    if value not in _VALID_FLOATX:
        raise ValueError(f"floatx must be one of {_VALID_FLOATX}, received {value!r}")
    _FLOATX = value


def backend():
    """The kernel backend in use: "numba" or "numpy"."""
    return _BACKEND


def set_backend(name):
    """Choose the kernels: "numba" (JIT) or "numpy" (the readable twins)."""
    global _BACKEND
    if name not in _VALID_BACKENDS:
        raise ValueError(f"backend must be one of {_VALID_BACKENDS}, received {name!r}")
    if name == "numba":
        try:
            import numba  # noqa: F401
        except ImportError as exc:  # pragma: no cover - numba is a dependency
            raise ImportError("set_backend('numba') needs the numba package") from exc
    _BACKEND = name


def rng():
    """The shared random generator (re-created by ``set_random_seed``)."""
    return _RNG


def set_random_seed(seed: int) -> None:
    """Seed every random draw minicnn makes (weights, dropout, shuffling)."""
    global _RNG
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, received {seed!r}")
    _RNG = np.random.default_rng(seed)
    np.random.seed(None if seed is None else int(seed) % 2**32)


@contextlib.contextmanager
def compute_threads():
    """Give the cores to the Numba kernels while a model trains or predicts.

    Inside this context BLAS runs on one thread and Numba's kernels use all of
    them, because two thread pools taking turns with the same few cores leave
    each other's threads spinning (benchmarks/NOTES.md). Outside it nothing
    changes.

    The BLAS limit is process-wide, so concurrent users share it: the first
    thread to enter sets it, the last one to leave restores the original
    count (a count of users under a lock). While any thread is inside, BLAS
    calls from every thread of the process run on one thread.
    """
    if _BACKEND != "numba":
        yield
        return
    _enter_blas_limit()
    try:
        yield
    finally:
        _leave_blas_limit()
        jit = sys.modules.get("minicnn.kernels.jit")
        if jit is not None:
            jit.restore_threads()          # this thread's Numba count, as it was


_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0                  # threads inside compute_threads right now
_BLAS_LIMITER = None             # threadpoolctl's limiter, set by the first user
_SCANNED_WITH_MODULES = None     # len(sys.modules) when _CONTROLLER scanned the libraries


def _enter_blas_limit():
    global _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            controller = _controller()
            _BLAS_LIMITER = _from_any_thread(
                lambda: controller.limit(limits=1, user_api="blas"))   # applies it now
        _BLAS_USERS += 1


def _controller():
    """threadpoolctl's list of the loaded thread pools, scanned again after imports.

    A scan costs ~0.3 ms, so it is kept; but a library loaded since (SciPy's
    BLAS, which the Numba kernels call, arrives with the first kernel
    compiled) would escape the limit, and libraries arrive with imports.
    """
    global _CONTROLLER, _SCANNED_WITH_MODULES
    if _CONTROLLER is None or _SCANNED_WITH_MODULES != len(sys.modules):
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
        _SCANNED_WITH_MODULES = len(sys.modules)
    return _CONTROLLER


def _leave_blas_limit():
    global _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        _BLAS_USERS -= 1
        if _BLAS_USERS == 0:
            _from_any_thread(_BLAS_LIMITER.restore_original_limits)
            _BLAS_LIMITER = None


def _from_any_thread(action):
    """Run ``action`` (set or restore the BLAS limit) from whichever thread calls.

    threadpoolctl (3.6 and later) lets only one "controlling" thread change
    OpenBLAS's process-wide thread count and silently ignores the others; the
    last thread to leave ``compute_threads`` is often not the first one that
    entered, so the ownership is released before and after each change.
    """
    import threadpoolctl
    release = getattr(getattr(threadpoolctl, "OpenBLASController", None),
                      "clear_controlling_thread", None)
    if release is not None:
        release(force=True)
    try:
        return action()
    finally:
        if release is not None:
            release(force=True)


def standardize_dtype(dtype):
    """Turn a dtype argument (None, str or numpy dtype) into a numpy float dtype."""
    name = floatx() if dtype is None else np.dtype(dtype).name
    if name not in _VALID_FLOATX:
        raise ValueError(f"dtype must be one of {_VALID_FLOATX}, received {dtype!r}")
    return np.dtype(name)
