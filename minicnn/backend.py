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


def set_random_seed(seed):
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
    """
    global _CONTROLLER
    if _BACKEND != "numba":
        yield
        return
    if _CONTROLLER is None:       # scanning the loaded libraries costs ~0.3 ms: do it once
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield


def standardize_dtype(dtype):
    """Turn a dtype argument (None, str or numpy dtype) into a numpy float dtype."""
    name = floatx() if dtype is None else np.dtype(dtype).name
    if name not in _VALID_FLOATX:
        raise ValueError(f"dtype must be one of {_VALID_FLOATX}, received {dtype!r}")
    return np.dtype(name)
