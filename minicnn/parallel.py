"""One batch shard per core: data parallelism inside one process.

Splitting each small kernel of a step across the cores pays a wake-up and a
join some 50 times a step and gains little. Instead minicnn cuts each batch
into one contiguous shard per worker; every worker runs the whole network,
forward and backward, on its shard with single-threaded kernels (Numba
releases the GIL, BLAS runs on one thread), and the gradients are summed in
shard order before the optimizer steps once:

    shards  = x[0:n/k], x[n/k:2n/k], ...         # one per worker, in order
    y_pred  = concat(worker i: forward(shard i))  # the loss sees the whole batch
    dy      = dL/dy_pred, cut the same way
    grads   = sum over i (in order) of worker i: backward(dy shard i)

The numbers are Keras's up to float summation order: the loss is computed on
the whole batch, BatchNormalization exchanges per-channel sums between the
shards (``Shard.allreduce``, a barrier, as synchronized batch norm does), and
Dropout draws for the whole batch before it is cut (one key; each worker then
computes its rows of the batch's mask from it). The same seed
and the same worker count give the same numbers, bit for bit.

Worker 0 is the calling thread; the others are threads kept for the life of
the process, each always serving the same shard index, so what a layer keeps
from forward to backward (``layer.cache``, per thread) is found again.
"""
import contextlib
import os
import queue
import threading

import numpy as np

from . import backend

_WORKERS = None          # set_num_threads; None: the environment or every core
MIN_ROWS_PER_SHARD = 4   # smaller batches run on one thread (batch-1 latency)


def default_num_threads():
    """``MINICNN_NUM_THREADS`` if set, else every core this process may run on."""
    value = os.environ.get("MINICNN_NUM_THREADS")
    if value is not None:
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"MINICNN_NUM_THREADS must be a positive int, received {value!r}")
        return int(value)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def num_threads():
    """How many workers a batch is split across."""
    return default_num_threads() if _WORKERS is None else _WORKERS


def set_num_threads(n: int | None) -> None:
    """Use ``n`` workers (1: no splitting); ``None`` goes back to the default."""
    global _WORKERS
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_num_threads expects a positive int or None, received {n!r}")
    _WORKERS = None if n is None else int(n)


def shard_bounds(rows):
    """``[(start, stop), ...]`` of the shards a batch of ``rows`` is cut into."""
    k = max(1, min(num_threads(), rows // MIN_ROWS_PER_SHARD))
    return [(i * rows // k, (i + 1) * rows // k) for i in range(k)]


# -- what a worker knows about its shard -------------------------------------------------
_local = threading.local()


class Shard:
    """Worker ``index`` of ``count``, holding rows ``start:stop`` of a batch of ``rows``."""

    def __init__(self, group, index, start, stop):
        self.group, self.index, self.start, self.stop = group, index, start, stop
        self.rows, self.count = group.rows, group.count

    def allreduce(self, value):
        """The sum of every shard's ``value``, added in shard order (so reproducible)."""
        return self.group.allreduce(self.index, value)

    def batch_noise(self, layer):
        """This shard's rows of the random draws ``layer`` made for the whole batch."""
        noise = self.group.noise[layer]
        return noise if noise.shape[0] == 1 else noise[self.start:self.stop]   # (1, ...) broadcasts


class ShardGroup:
    """The shards of one batch, and the barrier they meet at to add their sums."""

    def __init__(self, bounds, noise=None):
        self.bounds, self.count, self.rows = bounds, len(bounds), bounds[-1][1]
        self.noise = noise or {}
        self._slots = [None] * self.count
        self._barrier = threading.Barrier(self.count)

    def allreduce(self, index, value):
        self._slots[index] = np.asarray(value)
        self._barrier.wait()                       # every shard has put its value
        total = self._slots[0].copy()
        for other in self._slots[1:]:
            total += other
        self._barrier.wait()                       # every shard has read them all
        return total

    def abort(self):
        self._barrier.abort()                      # a failed shard frees the others


def current():
    """The ``Shard`` the calling thread works on, or None outside a split batch."""
    return getattr(_local, "shard", None)


# -- the workers ---------------------------------------------------------------------
class _Worker(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name="minicnn-worker")
        self.tasks = queue.SimpleQueue()

    def run(self):
        while True:
            task, done = self.tasks.get()
            done.put(_attempt(task))


def _attempt(task):
    try:
        return task(), None
    except BaseException as exc:                   # handed to the caller, raised there
        return None, exc


_POOL = []
_POOL_LOCK = threading.Lock()
_RUN_LOCK = threading.RLock()    # one split batch at a time: shards meet at barriers


def exclusive():
    """Hold the workers for several ``run`` calls in a row (a training step's forward
    and backward): another thread's batch must not overwrite what the workers'
    layers keep between the two."""
    return _RUN_LOCK


def _after_fork_in_child():
    """A forked child has none of its parent's threads: start afresh."""
    global _POOL_LOCK, _RUN_LOCK
    _POOL.clear()
    _POOL_LOCK, _RUN_LOCK = threading.Lock(), threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _workers(n):
    with _POOL_LOCK:
        while len(_POOL) < n:
            worker = _Worker()
            worker.start()
            _POOL.append(worker)
        return _POOL[:n]


@contextlib.contextmanager
def _single_threaded_kernels():
    """Numba's thread count is a per-thread setting: 1 inside a worker, as before after."""
    if backend.backend() != "numba":
        yield
        return
    import numba

    from .kernels import jit
    before = numba.get_num_threads()
    jit.one_thread(True)
    try:
        yield
    finally:
        jit.one_thread(False)
        numba.set_num_threads(before)


def _on_shard(shard, fn):
    def task():
        _local.shard = shard
        try:
            with _single_threaded_kernels():
                return fn(shard)
        except BaseException:
            shard.group.abort()
            raise
        finally:
            _local.shard = None
    return task


def run(group, fn):
    """``[fn(shard) for every shard]``, all at once: shard 0 in this thread, shard i
    always in the same worker thread. The first error (in shard order) is raised."""
    shards = [Shard(group, i, lo, hi) for i, (lo, hi) in enumerate(group.bounds)]
    with _RUN_LOCK:
        inboxes = []
        for worker, shard in zip(_workers(group.count - 1), shards[1:]):
            inbox = queue.SimpleQueue()
            worker.tasks.put((_on_shard(shard, fn), inbox))
            inboxes.append(inbox)
        results = [_attempt(_on_shard(shards[0], fn))] + [inbox.get() for inbox in inboxes]
    errors = [exc for _, exc in results if exc is not None]
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if errors:
        raise (real or errors)[0]
    return [value for value, _ in results]
