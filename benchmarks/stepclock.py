"""Throughput of ``fit``, timed from inside: a callback notes when batches end.

Both frameworks are timed the same way: one ``fit`` call of ``warm + steps``
batches, a clock reading at the end of batch ``warm`` and at the end of the
last batch, so the per-call set-up of ``fit`` (Keras builds a data iterator,
minicnn validates the arrays) and the first, slower steps are left out.
"""
from .timing import clock


class _Clock:
    def __init__(self, warm, stop_after=None):
        self.warm, self.stop_after = warm, stop_after
        self.t_start = self.t_end = None
        self.batches = 0

    def _tick(self, model):
        self.batches += 1
        if self.batches == self.warm:
            self.t_start = clock()
        self.t_end = clock()
        if self.stop_after is not None and self.batches >= self.stop_after:
            model.stop_training = True


def minicnn_clock(warm, stop_after=None):
    """A minicnn callback that records batch-end times (and can stop training)."""
    from minicnn.callbacks import Callback

    class MinicnnClock(_Clock, Callback):
        def on_batch_end(self, batch, logs=None):
            self._tick(self.model)

    return MinicnnClock(warm, stop_after)


def keras_clock(warm, stop_after=None):
    """The Keras twin of ``minicnn_clock``."""
    import keras

    class KerasClock(_Clock, keras.callbacks.Callback):
        def __init__(self, warm, stop_after):
            keras.callbacks.Callback.__init__(self)
            _Clock.__init__(self, warm, stop_after)

        def on_train_batch_end(self, batch, logs=None):
            self._tick(self.model)

    return KerasClock(warm, stop_after)


def fit_throughput(model, x, y, batch, steps, warm=2, is_keras=False):
    """Images per second of ``model.fit`` over ``steps`` batches after ``warm`` batches.

    x and y must hold at least ``batch * (warm + steps)`` samples.
    """
    n = batch * (warm + steps)
    if len(x) < n:
        raise ValueError(f"fit_throughput needs {n} samples, received {len(x)}")
    cb = keras_clock(warm) if is_keras else minicnn_clock(warm)
    model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0, shuffle=True, callbacks=[cb])
    if cb.t_start is None or cb.batches < warm + steps:
        raise RuntimeError(f"fit ran {cb.batches} batches, expected {warm + steps}")
    return steps * batch / (cb.t_end - cb.t_start)
