"""Where ``fit``, ``evaluate`` and ``predict`` get their batches (Keras's data adapters).

Three kinds of data, one interface: arrays (cut into batches, shuffled with
minicnn's seeded generator), Python generators and iterators (read as they
come), and datasets with ``__len__`` and ``__getitem__`` (``PyDataset``,
``image_dataset_from_directory``, ``ImageDataGenerator.flow``). An
``EpochIterator`` serves an epoch's batches from any of them, honouring
``steps_per_epoch`` as Keras does (an epoch of that many batches; the next
one carries on where it stopped).
"""
import itertools
import math
import types
import warnings

import numpy as np

from . import backend


def rows(data, index):
    """The rows ``index`` of one array, or of each array of a multi-input/output list."""
    return [d[index] for d in data] if isinstance(data, list) else data[index]


def count(data):
    return len(data[0]) if isinstance(data, list) else len(data)


def data_kind(x):
    """"arrays", "generator" or "dataset"."""
    if isinstance(x, (np.ndarray, list, tuple, dict)) or x is None or np.isscalar(x):
        return "arrays"
    if hasattr(x, "__len__") and hasattr(x, "__getitem__"):
        return "dataset"
    if isinstance(x, types.GeneratorType) or hasattr(x, "__next__") or hasattr(x, "__iter__"):
        return "generator"
    return "arrays"


def unpack_validation(data):
    """Keras's ``unpack_x_y_sample_weight``: (x, y), (x, y, w) or a generator/dataset."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"validation_data must be (x, y) or (x, y, sample_weight), or a "
                     f"generator or dataset of batches; received a tuple of {len(data)} items")


class ArraySource:
    """Batches of in-memory arrays, reshuffled with minicnn's generator each pass."""
    num_batches_known = True

    def __init__(self, x, y, weights, batch_size, shuffle):
        self.x, self.y, self.weights = x, y, weights
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n = count(x)
        self.num_batches = math.ceil(self.n / batch_size) if self.n else 0

    def new_pass(self):
        order = backend.rng().permutation(self.n) if self.shuffle else np.arange(self.n)
        return self._batches(order)

    def _batches(self, order):
        for start in range(0, self.n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if not self.shuffle:
                idx = slice(start, start + self.batch_size)
            yield (rows(self.x, idx), None if self.y is None else rows(self.y, idx),
                   None if self.weights is None else rows(self.weights, idx))

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class GeneratorSource:
    """A Python generator or iterator of batches: one pass only, as in Keras."""

    def __init__(self, generator, prepare):
        iterator = iter(generator)
        try:
            first = next(iterator)
        except StopIteration:
            raise ValueError("When passing a Python generator to a minicnn model, the "
                             "generator must yield at least one batch. Received an empty "
                             "generator.") from None
        self.iterator, self.prepare = itertools.chain([first], iterator), prepare
        self.num_batches = None

    def new_pass(self):
        return (self.prepare(batch) for batch in self.iterator)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class DatasetSource:
    """A PyDataset (or any object with ``__len__`` and ``__getitem__``): batch i is
    ``data[i]``; with ``shuffle`` the batches of each pass come in a random order
    (Keras shuffles a finite PyDataset's batch indices)."""

    def __init__(self, dataset, prepare, shuffle):
        self.dataset, self.prepare = dataset, prepare
        count = getattr(dataset, "num_batches", None) if hasattr(type(dataset), "num_batches") \
            else len(dataset)
        self.num_batches = None if count is None else int(count)
        if self.num_batches is None and shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` "
                          "was provided as an infinite PyDataset. The PyDataset is expected "
                          "to already be shuffled.", stacklevel=4)
        self.shuffle = shuffle and self.num_batches is not None

    def new_pass(self):
        if self.num_batches is None:
            return (self.prepare(self.dataset[i]) for i in itertools.count())
        order = backend.rng().permutation(self.num_batches) if self.shuffle \
            else range(self.num_batches)
        return (self.prepare(self.dataset[int(i)]) for i in order)

    def on_epoch_begin(self):
        hook = getattr(self.dataset, "on_epoch_begin", None)
        if callable(hook):
            hook()

    def on_epoch_end(self):
        hook = getattr(self.dataset, "on_epoch_end", None)
        if callable(hook):
            hook()


def _ran_out_warning():
    warnings.warn("Your input ran out of data; interrupting training. Make sure that your "
                  "dataset or generator can generate at least `steps_per_epoch * epochs` "
                  "batches.", stacklevel=4)


class EpochIterator:
    """Keras's ``EpochIterator``: ``epoch()`` yields ``(step, batch)`` for one epoch.

    Without ``steps``, an epoch is one pass over the data (a generator: until it
    ends, with Keras's "ran out of data" warning). With ``steps``, an epoch is
    that many batches, and the next epoch continues where this one stopped; a
    pass that reaches the end of data of known length ends the epoch early
    (with the warning) and the next epoch starts a new pass. A generator that
    has ended gives no more batches (fit then stops: nothing is left to train on)."""

    def __init__(self, source, steps, unit, total):
        self.source, self.steps, self.unit, self.total = source, steps, unit, total
        self._iterator, self._seen = None, 0
        self._num_batches = source.num_batches

    @property
    def num_batches(self):
        return self.steps or self._num_batches

    def reset(self):
        self._iterator, self._seen = None, 0
        self._num_batches = self.source.num_batches
        self.source.on_epoch_end()

    def epoch(self):
        self.source.on_epoch_begin()
        try:
            steps = self.steps or self._num_batches or -1
            if steps > 0:
                if self._iterator is None or self.steps is None:
                    self._iterator, self._seen = self.source.new_pass(), 0
                for step in range(steps):
                    if self._num_batches and self._seen >= self._num_batches:
                        if self.steps:
                            _ran_out_warning()
                        break
                    try:
                        batch = next(self._iterator)
                    except StopIteration:
                        if self._num_batches is None:
                            self._num_batches = self._seen
                        _ran_out_warning()
                        self._iterator = None
                        break
                    self._seen += 1
                    yield step, batch
                if self._num_batches and self._seen >= self._num_batches:
                    self._iterator, self._seen = None, 0
            else:
                iterator = self.source.new_pass()
                for step in itertools.count():
                    try:
                        batch = next(iterator)
                    except StopIteration:
                        self._num_batches = step
                        _ran_out_warning()
                        break
                    yield step, batch
        finally:
            self.source.on_epoch_end()
