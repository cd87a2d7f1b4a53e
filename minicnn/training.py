"""The training loop: ``fit``, ``evaluate``, ``predict``, ``train_on_batch``.

Kept apart from ``model.py`` so that file shows the model itself (layers,
forward, backward) and this one shows the bookkeeping around it. The loop
drives a model through its public face only:

    y_pred = model.forward(x, training=True)
    loss, dy = model.loss ... (+ sum(model.losses), the regularization)
    model.backward(dy, compute_dx=False)        # fills the layers' grads
    model.optimizer.apply(model.gradients, model.trainable_weights)

so any model with ``forward``, ``backward``, ``trainable_weights``,
``gradients``, ``non_trainable_weights`` and ``losses`` trains with it.
"""
import contextlib
import math
import sys
import threading
import warnings

import numpy as np

from . import backend, checks, data_adapters, kernels, parallel
from .callbacks import CallbackList
from .metrics import Mean


def _all_finite(arrays):
    return all(np.isfinite(a).all() for a in arrays)


def _concatenate(parts):
    """Stack per-shard (or per-batch) results along the batch axis; each part is an
    array or, for a model with several outputs, a list of arrays."""
    if isinstance(parts[0], list):
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return np.concatenate(parts)


def _positive_int(name, value):
    """``value`` as an int >= 1, or a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, received {name}={value!r}")
    return int(value)


def _fusable(loss, activation):
    """Can ``loss`` take the logits of an output with this ``activation``?"""
    return (loss.fusable_activation is not None and not getattr(loss, "from_logits", False)
            and activation == loss.fusable_activation)


def _concatenate_logits(parts):
    """Per-shard logits (None, an array, or a list with Nones) stacked like outputs."""
    if parts[0] is None:
        return None
    if isinstance(parts[0], list):
        return [None if parts[0][i] is None else np.concatenate([p[i] for p in parts])
                for i in range(len(parts[0]))]
    return np.concatenate(parts)


class TrainingMixin:
    @contextlib.contextmanager
    def _training_alone(self):
        """One model trains in one thread at a time: a second ``fit`` or
        ``train_on_batch`` while one runs is refused, never interleaved."""
        lock = self.__dict__.setdefault("_training_lock", threading.Lock())
        if not lock.acquire(blocking=False):
            raise RuntimeError(f"Model '{self.name}' is already training in another thread; "
                               f"one model trains in one thread at a time (predict and "
                               f"evaluate may run from several threads)")
        try:
            yield
        finally:
            lock.release()

    # -- one step ------------------------------------------------------------------
    def _fused_logits(self):
        """The output layer's logits when the loss can take them (softmax or sigmoid
        output with a cross-entropy loss): the exact gradient, as in Keras. One
        entry per output (a list) for a model with several outputs."""
        if self.loss is None:
            return None
        if len(self.outputs) == 1:
            return self.output_logits if _fusable(self.loss, self.output_activation) else None
        logits = self.all_output_logits()
        return [z if _fusable(loss, activation) else None for z, loss, activation in
                zip(logits, self.output_losses, self.output_activations())]

    def _loss_value(self, y, y_pred, logits, sample_weight=None):
        """(loss, dL/dy_pred, wrt_logits, {output_name}_loss logs). Several outputs:
        loss = sum_i loss_weight_i * loss_i(y_i, y_pred_i), and dy_i scales alike.
        ``sample_weight``: one array (N,) (for every output), or one per output."""
        if not isinstance(y_pred, list):
            value, dy, wrt_logits = self.loss.value_and_gradient(
                y, y_pred, logits, sample_weight=sample_weight)
            return value, dy, wrt_logits, {}
        weights = sample_weight if isinstance(sample_weight, list) else \
            [sample_weight] * len(y_pred)
        total, dys, flags, parts = 0.0, [], [], {}
        for name, loss, weight, yi, pi, zi, wi in zip(self.output_names, self.output_losses,
                                                      self._loss_weights, y, y_pred, logits,
                                                      weights):
            value, dy, wrt_logits = loss.value_and_gradient(yi, pi, zi, sample_weight=wi)
            total += weight * value
            dys.append(dy * np.asarray(weight, dy.dtype) if weight != 1 else dy)
            flags.append(wrt_logits)
            parts[f"{name}_loss"] = value
        return total, dys, flags, parts

    def _loss_and_backward(self, x, y, training, sample_weight=None):
        """Forward, loss (with regularization), backward; returns (loss, y_pred).

        A batch large enough is split into one shard per worker (``parallel``):
        each runs forward and backward on its rows, the loss is taken on the
        whole batch, and the shards' gradients are added in shard order."""
        if self.loss is None:
            raise ValueError(f"Model '{self.name}' must be compiled before training")
        group = self._shard_group(x, training)
        if group is None:
            y_pred, logits = self._forward_batch(x, training)
            value, dy, wrt_logits, parts = self._loss_value(y, y_pred, logits, sample_weight)
            self.backward(dy, from_logits=wrt_logits, compute_dx=False)
        else:
            with parallel.exclusive():      # the workers keep their caches until backward
                y_pred, logits = self._forward_batch(x, training, group)
                value, dy, wrt_logits, parts = self._loss_value(y, y_pred, logits,
                                                                sample_weight)
                per_shard = parallel.run(group, lambda shard: self._shard_backward(
                    data_adapters.rows(dy, slice(shard.start, shard.stop)), wrt_logits))
            totals = [a + b for a, b in zip(per_shard[0], per_shard[1])]   # in shard order
            for grads in per_shard[2:]:
                for total, g in zip(totals, grads):
                    total += g
            self.gradients = totals
        value += sum(self.losses)
        self.add_regularization_gradients()
        self._output_loss_logs = parts
        return value, y_pred

    def _shard_group(self, x, training):
        """The shards a batch is cut into, or None to run it whole in this thread.

        Random draws a training forward makes (Dropout masks) are drawn here
        for the whole batch, in layer order, so they do not depend on the
        number of workers."""
        bounds = parallel.shard_bounds(data_adapters.count(x))
        if len(bounds) == 1:
            return None
        noise = {}
        if training:
            for layer in self.leaf_layers():
                draws = layer.draw_batch_noise(data_adapters.count(x))
                if draws is not None:
                    noise[layer] = draws
        return parallel.ShardGroup(bounds, noise)

    def _forward_batch(self, x, training, group=None):
        """(y_pred, the logits a fused loss can use), for the batch whole or split."""
        if group is None:
            y_pred = self.forward(x, training=training)
            return y_pred, self._fused_logits()
        outputs = parallel.run(group, lambda shard: (
            self.forward(data_adapters.rows(x, slice(shard.start, shard.stop)), training=training),
            self._fused_logits()))
        y_pred = _concatenate([y for y, _ in outputs])                     # (N, ...)
        return y_pred, _concatenate_logits([z for _, z in outputs])

    def _infer(self, x):
        """(y_pred, logits) of one batch in inference mode, split across the workers
        when large enough."""
        return self._forward_batch(x, False, self._shard_group(x, False))

    def _shard_backward(self, dy, wrt_logits):
        self.backward(dy, from_logits=wrt_logits, compute_dx=False)
        return self.gradients

    def compute_gradients(self, x, y, training: bool = True,
                          sample_weight=None) -> tuple[float, list[np.ndarray]]:
        """``(loss, grads)`` with grads aligned with ``trainable_weights``; no update."""
        value, _ = self._loss_and_backward(x, y, training, sample_weight)
        return value, [g.copy() for g in self.gradients]

    def _train_step(self, x, y, sample_weight=None):
        """Forward, backward, check, update, check. Returns (loss, y_pred).

        Raises FloatingPointError, with every weight and statistic as it was
        before the step, when the loss, a gradient or an updated weight is
        NaN or inf."""
        weights, state = self.trainable_weights, self.non_trainable_weights
        state_before = [w.copy() for w in state]           # batch-norm statistics
        value, y_pred = self._loss_and_backward(x, y, True, sample_weight)
        grads = self.gradients
        problem = ("the loss" if not np.isfinite(value) else
                   "a gradient" if not _all_finite(grads) else None)
        if problem is None:
            weights_before = [w.copy() for w in weights]
            optimizer_before = self.optimizer.get_state()
            self.optimizer.apply(grads, weights)
            self.apply_constraints()
            if not _all_finite(weights):
                problem = "an updated weight"
                for w, before in zip(weights, weights_before):
                    w[...] = before
                self.optimizer.set_state(optimizer_before)
        if problem is not None:
            for w, before in zip(state, state_before):
                w[...] = before
            raise FloatingPointError(
                f"{problem} became NaN or inf at optimizer step {self.optimizer.iterations} "
                f"(loss {value}); training stopped and the weights from before this step were "
                f"kept. Try a smaller learning rate or check the inputs for NaN/inf values.")
        return value, y_pred

    # -- checks --------------------------------------------------------------------
    @staticmethod
    def _check_targets(y, loss, output_shape):
        """Labels must fit the output: sparse labels in range, one-hot widths equal.
        Returns y; targets (N,) for an output (N, 1) become (N, 1), as Keras takes them."""
        if loss.key == "sparse_categorical_crossentropy":
            checks.check_integer_labels(y, output_shape[-1])
            return y
        if y.shape[1:] + (1,) == tuple(output_shape[1:]):
            y = y.reshape(*y.shape, 1)                          # (N,) -> (N, 1)
        if y.shape[1:] != tuple(output_shape[1:]):
            raise ValueError(f"{loss.key} expects targets of shape (batch, "
                             f"{', '.join(map(str, output_shape[1:]))}), received "
                             f"shape {y.shape}")
        return y

    def _prepare_xy(self, x, y):
        x = self.prepare_input(x)
        if self.loss is None:
            raise ValueError(f"Model '{self.name}' must be compiled before training or evaluating")
        if len(self.outputs) == 1:
            y = checks.as_targets(y)
            checks.check_lengths(x[0] if isinstance(x, list) else x, y)
            return x, self._check_targets(y, self.loss, self.outputs[0].shape)
        ys = [checks.as_targets(t) for t in self._per_output(y, "y")]
        for yi in ys:
            checks.check_lengths(x[0] if isinstance(x, list) else x, yi)
        return x, [self._check_targets(yi, loss, t.shape)
                   for yi, loss, t in zip(ys, self.output_losses, self.outputs)]

    def _prepare_weights(self, sample_weight, n):
        """Sample weights as float arrays of n values: one array, or (several
        outputs) one per output; None stays None."""
        if sample_weight is None:
            return None
        if len(self.outputs) > 1 and isinstance(sample_weight, (list, tuple, dict)):
            return [self._prepare_weights(w, n) if w is not None else None
                    for w in self._per_output(sample_weight, "sample_weight")]
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.ndim != 1 or len(w) != n:
            raise ValueError(f"sample_weight must hold one weight per sample, shape ({n},), "
                             f"received shape {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("sample_weight must not hold NaN or inf")
        return w

    def _class_weights(self, y, class_weight):
        """Keras's ``class_weight_to_sample_weights``: each sample weighs its class's
        entry (1 when absent); one-hot targets by their argmax."""
        if len(self.outputs) > 1:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        labels = np.asarray(y)
        if labels.ndim > 1:
            labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
        labels = np.round(labels).astype(np.int64).reshape(len(labels), -1)[:, 0]
        return np.array([float(class_weight.get(int(c), 1.0)) for c in labels])

    def _metric_values(self, y, y_pred):
        """One batch's metric values on their own (fresh metric states)."""
        tracker = _Tracker(self)
        tracker.update_metrics(y, y_pred)
        return tracker.metric_results()

    # -- one batch -------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight: dict | None = None,
                       return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (and metrics, as Keras)."""
        x, y = self._prepare_xy(x, y)
        sample_weight = self._batch_weights(y, sample_weight, class_weight)
        with self._training_alone(), backend.compute_threads():
            value, y_pred = self._train_step(x, y, sample_weight)
        return self._batch_result(value, y, y_pred, return_dict, sample_weight)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) of one batch, no update (Keras's ``test_on_batch``)."""
        x, y = self._prepare_xy(x, y)
        sample_weight = self._batch_weights(y, sample_weight, None)
        with backend.compute_threads():
            value, y_pred = self._test_step(x, y, sample_weight)
        return self._batch_result(value, y, y_pred, return_dict, sample_weight)

    def _batch_weights(self, y, sample_weight, class_weight):
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(f"Arguments `sample_weight` and `class_weight` cannot be "
                                 f"specified at the same time. Received: sample_weight="
                                 f"{sample_weight}, class_weight={class_weight}")
            return self._class_weights(y, class_weight)
        return self._prepare_weights(sample_weight, data_adapters.count(y))

    def _batch_result(self, value, y, y_pred, return_dict, sample_weight=None):
        tracker = _Tracker(self)
        tracker.update(value, y, y_pred, data_adapters.count(y), sample_weight)
        logs = tracker.results()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _test_step(self, x, y, sample_weight=None):
        """(loss with regularization, y_pred) of one batch in inference mode."""
        y_pred, logits = self._infer(x)
        value, _, _, self._output_loss_logs = self._loss_value(y, y_pred, logits, sample_weight)
        return value + sum(self.losses), y_pred

    # -- the data ----------------------------------------------------------------------
    def _data(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps, what,
              predict=False):
        """An ``data_adapters.EpochIterator`` over x (arrays, a generator, a PyDataset or any
        object with ``__len__`` and ``__getitem__`` returning batches)."""
        if steps is not None:
            steps = _positive_int(what["steps"], steps)
        kind = data_adapters.data_kind(x)
        if kind == "arrays":
            batch_size = None if batch_size is None else _positive_int(what["batch_size"],
                                                                       batch_size)
            if predict:
                x = self.prepare_input(x)
                y = weights = None
            else:
                x, y = self._prepare_xy(x, y)
                if class_weight is not None:
                    if sample_weight is not None:
                        raise ValueError("You cannot `class_weight` and `sample_weight` at "
                                         "the same time.")
                    weights = self._class_weights(y, class_weight)
                else:
                    weights = self._prepare_weights(sample_weight, data_adapters.count(x))
            n = data_adapters.count(x)
            if batch_size is None:
                batch_size = 32 if steps is None else max(1, math.ceil(n / steps))
            source = data_adapters.ArraySource(x, y, weights, batch_size, shuffle)
            return data_adapters.EpochIterator(source, steps, unit="img" if steps is None else "step",
                                  total=n if steps is None else steps)
        what_name = "generator" if kind == "generator" else "PyDataset"
        if batch_size is not None:
            raise ValueError(f"{what['batch_size']} must be None when the data come as a "
                             f"{what_name}, which makes its own batches; received "
                             f"{what['batch_size']}={batch_size!r}")
        for arg, value, text in (("y", y, "the targets"),
                                 ("sample_weight", sample_weight, "the sample weights")):
            if value is not None:
                raise ValueError(f"When providing `x` as a {what_name}, `{arg}` should not be "
                                 f"passed. Instead, {text} should be included as part of the "
                                 f"{what_name}.")
        def prepare(batch):
            return self._prepare_batch(batch, class_weight, predict)

        if kind == "generator":
            if class_weight is not None:
                raise ValueError(f"Argument `class_weight` is not supported for Python "
                                 f"generator inputs. Received: class_weight={class_weight}")
            if shuffle:
                warnings.warn("`shuffle=True` was passed, but will be ignored since the data "
                              "`x` was provided as a generator. The generator is expected to "
                              "yield already-shuffled data.", stacklevel=3)
            source = data_adapters.GeneratorSource(x, prepare)
        else:
            source = data_adapters.DatasetSource(x, prepare, shuffle)
        total = steps if steps is not None else source.num_batches
        return data_adapters.EpochIterator(source, steps, unit="step", total=total)

    def _prepare_batch(self, batch, class_weight, predict):
        """(x, y, sample_weight) of one batch from a generator or dataset, checked as
        arrays given to fit are."""
        if isinstance(batch, dict) or not isinstance(batch, (tuple, list, np.ndarray)):
            raise ValueError(f"A batch must be a tuple, ordered either (input,) or (inputs, "
                             f"targets) or (inputs, targets, sample_weights). Received: "
                             f"{str(batch)[:100]}... of type {type(batch)}")
        if isinstance(batch, np.ndarray):
            batch = (batch,)
        batch = tuple(batch)
        if len(batch) not in (1, 2, 3):
            raise ValueError(f"A batch must be a tuple of 1 to 3 items, ordered either "
                             f"(input,) or (inputs, targets) or (inputs, targets, "
                             f"sample_weights). Received a tuple of {len(batch)} items")
        x = list(batch[0]) if isinstance(batch[0], tuple) else batch[0]
        if predict:
            return self.prepare_input(x), None, None
        if len(batch) == 1 or batch[1] is None:
            raise ValueError("fit and evaluate need targets: each batch must be (inputs, "
                             "targets) or (inputs, targets, sample_weights)")
        y = list(batch[1]) if isinstance(batch[1], tuple) else batch[1]
        x, y = self._prepare_xy(x, y)
        weights = batch[2] if len(batch) == 3 else None
        if class_weight is not None:
            if weights is not None:
                raise ValueError("You cannot specify `class_weight` and `sample_weight` at "
                                 "the same time.")
            return x, y, self._class_weights(y, class_weight)
        return x, y, self._prepare_weights(weights, data_adapters.count(x))

    # -- fit -------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list | None = None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int | list = 1):
        """Train for ``epochs`` passes over the data; returns a ``History``.

        x: arrays (with y), a generator of ``(x, y)`` / ``(x, y, sample_weight)``
        batches, a ``minicnn.utils.PyDataset`` or any object with ``__len__`` and
        ``__getitem__`` returning such batches. Keras 3's arguments and rules."""
        epochs = _positive_int("epochs", epochs)
        verbose = _verbose(verbose)
        _check_validation_freq(validation_freq)
        if isinstance(batch_size, bool) or (batch_size is not None and data_adapters.data_kind(x) == "arrays"):
            batch_size = _positive_int("batch_size", batch_size)
        if validation_split and validation_data is None:
            if data_adapters.data_kind(x) != "arrays":
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 "arrays, not for a generator or dataset; pass "
                                 "`validation_data` instead")
            x, y = self._prepare_xy(x, y)
            cut = checks.check_validation_split(data_adapters.count(x), validation_split)
            head, tail = slice(None, cut), slice(cut, None)
            w = self._prepare_weights(sample_weight, data_adapters.count(x))
            validation_data = (data_adapters.rows(x, tail), data_adapters.rows(y, tail)) + (
                (data_adapters.rows(w, tail),) if w is not None else ())
            x, y = data_adapters.rows(x, head), data_adapters.rows(y, head)
            sample_weight = None if w is None else data_adapters.rows(w, head)
        elif not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), received "
                             f"{validation_split!r}")
        train = self._data(x, y, sample_weight, class_weight, batch_size, shuffle,
                           steps_per_epoch, _FIT_NAMES)
        val = None
        if validation_data is not None:
            vx, vy, vw = data_adapters.unpack_validation(validation_data)
            val_batch = validation_batch_size
            if val_batch is None and data_adapters.data_kind(vx) == "arrays":
                val_batch = batch_size
            val = self._data(vx, vy, vw, None, val_batch, False, validation_steps,
                             _VALIDATION_NAMES)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=train.num_batches,
                           unit=train.unit, total=train.total)
        with self._training_alone(), backend.compute_threads():
            self.stop_training = False
            self.history = cbs.history
            train.reset()
            if val is not None:
                val.reset()
            notice = kernels.compile_notice() if verbose else None
            if notice:
                print(notice, flush=True)
            try:
                cbs.on_train_begin()
                start = self.__dict__.pop("_initial_epoch", None) or initial_epoch
                training_logs = None
                for epoch in range(start, epochs):
                    cbs.on_epoch_begin(epoch)
                    logs = self._train_epoch(train, cbs)
                    if logs is None:                       # not one step was taken
                        break
                    if val is not None and _should_eval(epoch, validation_freq):
                        val_logs = self._test_epoch(val, cbs)
                        logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    cbs.on_epoch_end(epoch, logs)
                    training_logs = logs
                    if self.stop_training:
                        break
                cbs.on_train_end(training_logs)
            finally:
                if cbs.progbar is not None:
                    cbs.progbar.close()
        return cbs.history

    def _train_epoch(self, data, cbs):
        """One epoch of training steps; the epoch logs, or None if no step was taken."""
        tracker = _Tracker(self)
        with contextlib.closing(data.epoch()) as batches:
            for step, (xb, yb, wb) in batches:
                cbs.on_train_batch_begin(step)
                try:
                    value, y_pred = self._train_step(xb, yb, wb)
                except FloatingPointError as exc:
                    print(f"fit stopped: {exc}", file=sys.stderr)
                    self.stop_training = True
                    break
                rows = data_adapters.count(xb)
                tracker.update(value, yb, y_pred, rows, wb)
                cbs.progress(rows)
                cbs.on_train_batch_end(step, tracker.results())
                if self.stop_training:     # set by a callback or a Ctrl-C handler
                    break
        tracker.publish()
        return tracker.results() if tracker.steps else None

    def _test_epoch(self, data, cbs):
        """One pass of evaluation; the logs (Keras's hooks on ``cbs``)."""
        tracker = _Tracker(self)
        cbs.on_test_begin()
        with contextlib.closing(data.epoch()) as batches:
            for step, (xb, yb, wb) in batches:
                cbs.on_test_batch_begin(step)
                value, y_pred = self._test_step(xb, yb, wb)
                rows = data_adapters.count(xb)
                tracker.update(value, yb, y_pred, rows, wb)
                cbs.progress(rows)
                cbs.on_test_batch_end(step, tracker.results())
        tracker.publish()
        logs = tracker.results() if tracker.steps else {}
        cbs.on_test_end(logs)
        return logs

    # -- evaluate and predict -------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size: int | None = None,
                 verbose: int | str = "auto", sample_weight=None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False):
        """Mean loss (with regularization) and metrics over the data, no training.
        x as ``fit`` takes it (arrays, a generator, a PyDataset)."""
        verbose = _verbose(verbose)
        data = self._data(x, y, sample_weight, None, batch_size, False, steps, _EVAL_NAMES)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=data.num_batches, unit=data.unit, total=data.total)
        with backend.compute_threads():
            data.reset()
            try:
                results = self._test_epoch(data, cbs)
            finally:
                if cbs.progbar is not None:
                    cbs.progbar.close()
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict_on_batch(self, x) -> np.ndarray | list[np.ndarray]:
        """Model outputs for one batch (split across the workers when large enough)."""
        x = self.prepare_input(x)
        with backend.compute_threads():
            return self._infer(x)[0]

    def predict(self, x, batch_size: int | None = None, verbose: int | str = "auto",
                steps: int | None = None,
                callbacks: list | None = None) -> np.ndarray | list[np.ndarray]:
        """Model outputs for x (arrays, or a generator / PyDataset of ``x`` or
        ``(x,)`` batches), computed batch by batch in inference mode."""
        verbose = _verbose(verbose)
        data = self._data(x, None, None, None, batch_size, False, steps, _EVAL_NAMES,
                          predict=True)
        if isinstance(data.source, data_adapters.ArraySource) and data.source.n == 0:
            empty = [np.empty((0, *t.shape[1:]), dtype=t.dtype) for t in self.outputs]
            return empty if len(empty) > 1 else empty[0]
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=data.num_batches, unit=data.unit, total=data.total)
        batches = []
        with backend.compute_threads():
            data.reset()
            cbs.on_predict_begin()
            try:
                with contextlib.closing(data.epoch()) as epoch:
                    for step, (xb, _, _) in epoch:
                        cbs.on_predict_batch_begin(step)
                        out = self._infer(xb)[0]
                        out = [a.copy() for a in out] if isinstance(out, list) else out.copy()
                        batches.append(out)
                        cbs.progress(data_adapters.count(xb))
                        cbs.on_predict_batch_end(step, {"outputs": out})
            finally:
                if cbs.progbar is not None:
                    cbs.progbar.close()
            cbs.on_predict_end()
        if not batches:
            raise ValueError("predict received no batch: the data are empty")
        return _concatenate(batches)


# -- metrics of one run -----------------------------------------------------------------------
class _Tracker:
    """The loss (mean over batches weighted by their sizes, as Keras's loss tracker),
    each output's loss for several outputs, and fresh copies of the compiled
    metric objects, updated batch by batch; ``results`` in Keras's log order."""

    def __init__(self, model):
        self.model = model
        self.loss = Mean(name="loss")
        self.steps = 0
        single = len(model.outputs) == 1
        self.output_losses = {} if single else {f"{n}_loss": Mean() for n in model.output_names}
        outputs = [None] if single else model.output_names
        self.metrics = []      # (log name, output index or None, weighted, fresh, original)
        for weighted, groups in ((False, getattr(model, "output_metrics", [[]])),
                                 (True, getattr(model, "output_weighted_metrics", [[]]))):
            for i, (output, entries) in enumerate(zip(outputs, groups)):
                for name, metric in entries:
                    fresh = metric.fresh() if hasattr(metric, "fresh") \
                        else _FunctionMetric(metric)
                    self.metrics.append((self._log_name(name, output, weighted),
                                         None if single else i, weighted, fresh, metric))

    def _log_name(self, name, output, weighted):
        """Keras's names: ``<output>_<metric>``; a weighted metric whose name is taken
        by a plain one becomes ``weighted_<metric>``."""
        full = name if output is None else f"{output}_{name}"
        if weighted and any(taken == full for taken, *_ in self.metrics):
            full = f"weighted_{name}" if output is None else f"{output}_weighted_{name}"
        return full

    def update(self, value, y, y_pred, rows, sample_weight=None):
        self.steps += 1
        self.loss.update_state(float(value), sample_weight=rows)
        for key, part in getattr(self.model, "_output_loss_logs", {}).items():
            if key in self.output_losses:
                self.output_losses[key].update_state(float(part), sample_weight=rows)
        self.update_metrics(y, y_pred, sample_weight)

    def update_metrics(self, y, y_pred, sample_weight=None):
        """Keras 3: compile's ``metrics`` are not weighted, ``weighted_metrics`` are."""
        for _, i, weighted, fresh, _ in self.metrics:
            w = sample_weight if weighted else None
            if i is None:
                fresh.update_state(y, y_pred, sample_weight=w)
            else:
                fresh.update_state(y[i], y_pred[i], sample_weight=w)

    def metric_results(self):
        return {name: fresh.result() for name, _, _, fresh, _ in self.metrics}

    def results(self):
        logs = {"loss": self.loss.result()}
        logs.update({k: m.result() for k, m in self.output_losses.items()})
        logs.update(self.metric_results())
        return logs

    def publish(self):
        """Leave the run's state in the compiled metric objects (``metric.result()``
        after fit or evaluate gives the last epoch's value, as in Keras)."""
        for _, _, _, fresh, original in self.metrics:
            if hasattr(original, "assign_state"):
                original.assign_state(fresh)


class _FunctionMetric:
    """A plain ``fn(y_true, y_pred) -> batch mean`` as a metric: the mean over
    samples (batch values weighted by batch sizes)."""

    def __init__(self, fn):
        self.fn, self.mean = fn, Mean()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.mean.update_state(float(np.mean(self.fn(y_true, y_pred))),
                               sample_weight=data_adapters.count(y_pred))

    def result(self):
        return self.mean.result()


# -- data sources -------------------------------------------------------------------------------
_FIT_NAMES = {"batch_size": "batch_size", "steps": "steps_per_epoch"}
_EVAL_NAMES = {"batch_size": "batch_size", "steps": "steps"}
_VALIDATION_NAMES = {"batch_size": "validation_batch_size", "steps": "validation_steps"}


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)


def _check_validation_freq(freq):
    if isinstance(freq, bool) or not isinstance(freq, (int, list)):
        raise ValueError(f"Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={freq} of the type {type(freq)}.")


def _should_eval(epoch, freq):
    """Keras: validate after epoch e (counted from 1) when e % freq == 0, or e in freq."""
    epoch += 1
    return epoch % freq == 0 if isinstance(freq, int) else epoch in freq
