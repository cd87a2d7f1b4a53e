"""Keras's ``keras.utils`` namespace: the helpers a training script reaches for.

    minicnn.utils.set_random_seed(0)               # every draw minicnn makes
    y = minicnn.utils.to_categorical(labels, 10)   # (N,) ints -> (N, 10) one-hot

The implementations live where they belong (``backend`` owns the random
generator, ``datasets.utils`` the label helpers); this module only gathers them
under the names Keras users expect.
"""
import itertools
import warnings

from .backend import set_random_seed
from .datasets.utils import to_categorical

__all__ = ["set_random_seed", "to_categorical", "PyDataset", "Sequence",
           "image_dataset_from_directory", "pad_sequences"]


class PyDataset:
    """Keras 3's ``keras.utils.PyDataset``: a dataset written in Python that hands
    out whole batches. A subclass writes ``__len__`` (the number of batches) and
    ``__getitem__(index)`` (batch ``index``: ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; x or y a list/tuple for several inputs/outputs),
    and may write ``on_epoch_begin`` / ``on_epoch_end`` (called by ``fit`` around
    every epoch, e.g. to reshuffle). ``fit`` with ``shuffle=True`` visits the
    batches in a new random order each pass, as Keras does.

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted and
    kept for Keras compatibility; minicnn reads the batches in the training
    thread, in order (its parallelism is inside each batch, see
    ``minicnn.parallel``).

        class Batches(minicnn.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size
            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)
            def __getitem__(self, i):
                rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
                return self.x[rows], self.y[rows]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = [k for k in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, k)]
        if missing:
            self._workers = getattr(self, "_workers", 1)
            self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
            self._max_queue_size = getattr(self, "_max_queue_size", 10)
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError

    @property
    def num_batches(self):
        """The number of batches, or None for an endless dataset (``__len__`` by
        default)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in (range(count) if count is not None else itertools.count()):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset          # Keras's older name
from .image_dataset import image_dataset_from_directory  # noqa: E402,F401  (keras.utils name)
from .preprocessing.sequence import pad_sequences  # noqa: E402,F401  (keras.utils name)
