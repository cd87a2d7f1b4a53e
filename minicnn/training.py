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
import sys
import threading

import numpy as np
from tqdm.auto import tqdm

from . import backend, checks, parallel
from .callbacks import History


def _all_finite(arrays):
    return all(np.isfinite(a).all() for a in arrays)


def _rows(data, index):
    """The rows ``index`` of one array, or of each array of a multi-input/output list."""
    return [d[index] for d in data] if isinstance(data, list) else data[index]


def _count(data):
    return len(data[0]) if isinstance(data, list) else len(data)


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

    def _loss_value(self, y, y_pred, logits):
        """(loss, dL/dy_pred, wrt_logits, {output_name}_loss logs). Several outputs:
        loss = sum_i loss_weight_i * loss_i(y_i, y_pred_i), and dy_i scales alike."""
        if not isinstance(y_pred, list):
            value, dy, wrt_logits = self.loss.value_and_gradient(y, y_pred, logits)
            return value, dy, wrt_logits, {}
        total, dys, flags, parts = 0.0, [], [], {}
        for name, loss, weight, yi, pi, zi in zip(self.output_names, self.output_losses,
                                                  self._loss_weights, y, y_pred, logits):
            value, dy, wrt_logits = loss.value_and_gradient(yi, pi, zi)
            total += weight * value
            dys.append(dy * np.asarray(weight, dy.dtype) if weight != 1 else dy)
            flags.append(wrt_logits)
            parts[f"{name}_loss"] = value
        return total, dys, flags, parts

    def _loss_and_backward(self, x, y, training):
        """Forward, loss (with regularization), backward; returns (loss, y_pred).

        A batch large enough is split into one shard per worker (``parallel``):
        each runs forward and backward on its rows, the loss is taken on the
        whole batch, and the shards' gradients are added in shard order."""
        if self.loss is None:
            raise ValueError(f"Model '{self.name}' must be compiled before training")
        group = self._shard_group(x, training)
        if group is None:
            y_pred, logits = self._forward_batch(x, training)
            value, dy, wrt_logits, parts = self._loss_value(y, y_pred, logits)
            self.backward(dy, from_logits=wrt_logits, compute_dx=False)
        else:
            with parallel.exclusive():      # the workers keep their caches until backward
                y_pred, logits = self._forward_batch(x, training, group)
                value, dy, wrt_logits, parts = self._loss_value(y, y_pred, logits)
                per_shard = parallel.run(group, lambda shard: self._shard_backward(
                    _rows(dy, slice(shard.start, shard.stop)), wrt_logits))
            totals = [g.copy() for g in per_shard[0]]
            for grads in per_shard[1:]:
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
        bounds = parallel.shard_bounds(_count(x))
        if len(bounds) == 1:
            return None
        noise = {}
        if training:
            for layer in self.leaf_layers():
                draws = layer.draw_batch_noise(_count(x))
                if draws is not None:
                    noise[layer] = draws
        return parallel.ShardGroup(bounds, noise)

    def _forward_batch(self, x, training, group=None):
        """(y_pred, the logits a fused loss can use), for the batch whole or split."""
        if group is None:
            y_pred = self.forward(x, training=training)
            return y_pred, self._fused_logits()
        outputs = parallel.run(group, lambda shard: (
            self.forward(_rows(x, slice(shard.start, shard.stop)), training=training),
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

    def compute_gradients(self, x, y, training=True):
        """``(loss, grads)`` with grads aligned with ``trainable_weights``; no update."""
        value, _ = self._loss_and_backward(x, y, training)
        return value, [g.copy() for g in self.gradients]

    def _train_step(self, x, y):
        """Forward, backward, check, update, check. Returns (loss, y_pred).

        Raises FloatingPointError, with every weight and statistic as it was
        before the step, when the loss, a gradient or an updated weight is
        NaN or inf."""
        weights, state = self.trainable_weights, self.non_trainable_weights
        state_before = [w.copy() for w in state]           # batch-norm statistics
        value, y_pred = self._loss_and_backward(x, y, training=True)
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

    def _metric_values(self, y, y_pred):
        """The metrics (and, for several outputs, each output's loss and metrics, named
        ``<output>_loss``, ``<output>_<metric>`` as Keras names them)."""
        if not isinstance(y_pred, list):
            return {name: fn(y, y_pred) for name, fn in self.metrics}
        logs = dict(getattr(self, "_output_loss_logs", {}))
        for output, metrics, yi, pi in zip(self.output_names, self.output_metrics, y, y_pred):
            logs.update({f"{output}_{name}": fn(yi, pi) for name, fn in metrics})
        return logs

    def train_on_batch(self, x, y):
        """One optimizer step on one batch; returns the loss (and metrics, as Keras)."""
        x, y = self._prepare_xy(x, y)
        with self._training_alone(), backend.compute_threads():
            value, y_pred = self._train_step(x, y)
        values = [value, *self._metric_values(y, y_pred).values()]
        return values[0] if len(values) == 1 else values

    # -- fit -------------------------------------------------------------------------
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, validation_data=None,
            validation_split=0.0, shuffle=True, callbacks=None, initial_epoch=0):
        """Train for ``epochs`` passes over (x, y); returns a ``History``."""
        x, y = self._prepare_xy(x, y)
        batch_size, epochs = _positive_int("batch_size", batch_size), _positive_int("epochs", epochs)
        x, y, validation_data = self._split_validation(x, y, validation_data, validation_split)
        history = History()
        callbacks = [history, *(callbacks or [])]
        with self._training_alone(), backend.compute_threads():
            self.stop_training, self.history = False, history
            for cb in callbacks:
                cb.set_model(self)
                cb.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                logs = self._train_epoch(x, y, batch_size, shuffle, callbacks,
                                         f"Epoch {epoch + 1}/{epochs}", verbose)
                if logs is None:                       # not one step was taken
                    break
                if validation_data is not None:
                    val = self.evaluate(*validation_data, batch_size=batch_size, verbose=0,
                                        return_dict=True)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if verbose:
                    print(f"Epoch {epoch + 1}/{epochs} - " +
                          " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
                if self.stop_training:
                    break
            for cb in callbacks:
                cb.on_train_end()
        return history

    @staticmethod
    def _split_validation(x, y, validation_data, validation_split):
        """Keras takes the last ``validation_split`` of the samples for validation."""
        if validation_data is not None or not validation_split:
            if not 0 <= validation_split < 1:
                raise ValueError(f"validation_split must be in [0, 1), received "
                                 f"{validation_split!r}")
            return x, y, validation_data
        cut = checks.check_validation_split(_count(x), validation_split)
        head, tail = slice(None, cut), slice(cut, None)
        return _rows(x, head), _rows(y, head), (_rows(x, tail), _rows(y, tail))

    def _train_epoch(self, x, y, batch_size, shuffle, callbacks, title, verbose):
        """One pass over (x, y) in batches; the mean logs, or None if no step was taken."""
        n = _count(x)
        order = backend.rng().permutation(n) if shuffle else np.arange(n)
        totals, seen = {}, 0
        bar = tqdm(total=n, unit="img", desc=title, leave=True, disable=verbose != 1,
                   file=sys.stdout, dynamic_ncols=True)
        try:
            for batch, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                xb, yb = _rows(x, idx), _rows(y, idx)
                try:
                    value, y_pred = self._train_step(xb, yb)
                except FloatingPointError as exc:
                    print(f"fit stopped: {exc}", file=sys.stderr)
                    self.stop_training = True
                    break
                logs = {"loss": value, **self._metric_values(yb, y_pred)}
                for key, v in logs.items():
                    totals[key] = totals.get(key, 0.0) + v * len(idx)
                seen += len(idx)
                bar.update(len(idx))
                bar.set_postfix({k: f"{v / seen:.4f}" for k, v in totals.items()}, refresh=False)
                for cb in callbacks:
                    cb.on_batch_end(batch, logs)
                if self.stop_training:     # set by a callback or a Ctrl-C handler
                    break
        finally:
            bar.close()
        return {k: v / seen for k, v in totals.items()} if seen else None

    # -- evaluate and predict -------------------------------------------------------------
    def evaluate(self, x, y, batch_size=32, verbose=1, return_dict=False):
        """Mean loss (with regularization) and metrics over the data, no training."""
        x, y = self._prepare_xy(x, y)
        batch_size = _positive_int("batch_size", batch_size)
        totals, n = {}, _count(x)
        with backend.compute_threads():
            for start in tqdm(range(0, n, batch_size), disable=verbose != 1,
                              desc="evaluate", file=sys.stdout):
                rows = slice(start, start + batch_size)
                xb, yb = _rows(x, rows), _rows(y, rows)
                y_pred, logits = self._infer(xb)
                value, _, _, self._output_loss_logs = self._loss_value(yb, y_pred, logits)
                logs = {"loss": value + sum(self.losses), **self._metric_values(yb, y_pred)}
                for key, v in logs.items():
                    totals[key] = totals.get(key, 0.0) + v * _count(xb)
        results = {k: v / n for k, v in totals.items()}
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict_on_batch(self, x):
        """Model outputs for one batch (split across the workers when large enough)."""
        x = self.prepare_input(x)
        with backend.compute_threads():
            return self._infer(x)[0]

    def predict(self, x, batch_size=32, verbose=0):
        """Model outputs for x, computed batch by batch in inference mode."""
        x = self.prepare_input(x)
        batch_size = _positive_int("batch_size", batch_size)
        n = _count(x)
        if n == 0:                               # no sample: an empty batch of outputs
            empty = [np.empty((0, *t.shape[1:]), dtype=t.dtype) for t in self.outputs]
            return empty if len(empty) > 1 else empty[0]
        with backend.compute_threads():
            batches = []
            for start in tqdm(range(0, n, batch_size), disable=verbose != 1,
                              desc="predict", file=sys.stdout):
                y = self._infer(_rows(x, slice(start, start + batch_size)))[0]
                batches.append([a.copy() for a in y] if isinstance(y, list) else y.copy())
        return _concatenate(batches)
