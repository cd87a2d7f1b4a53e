"""The training loop: ``fit``, ``evaluate``, ``predict``, ``train_on_batch``.

Kept apart from ``model.py`` so that file shows the model itself (layers,
forward, backward) and this one shows the bookkeeping around it.
"""
import sys

import numpy as np
from tqdm.auto import tqdm

from . import backend, checks
from .callbacks import History


class TrainingMixin:
    # -- one step ------------------------------------------------------------------
    def _train_step(self, x, y):
        """Forward, backward, check, update. Returns (loss, y_pred) or raises on NaN."""
        saved_state = [(layer, {k: v.copy() for k, v in layer.state.items()})
                       for layer in self.layers if layer.state]     # batch-norm statistics
        value, y_pred = self._loss_and_backward(x, y, training=True)
        slots = self._trainable_slots()
        grads = [layer.grads[key] for layer, key in slots]
        if not np.isfinite(value) or not all(np.isfinite(g).all() for g in grads):
            for layer, state in saved_state:
                for key, v in state.items():
                    layer.state[key][...] = v
            raise FloatingPointError(
                f"the loss became {value} (NaN or inf) at optimizer step "
                f"{self.optimizer.iterations}; training stopped and the weights from before "
                f"this step were kept. Try a smaller learning rate or check the inputs for "
                f"NaN/inf values.")
        self.optimizer.apply(grads, [layer.params[key] for layer, key in slots])
        for layer in self.layers:
            if layer.trainable:
                layer.apply_constraints()
        return value, y_pred

    def _check_targets(self, y):
        """Labels must fit the output: sparse labels in range, one-hot widths equal."""
        units = self.output_shape[-1]
        if self.loss.key == "sparse_categorical_crossentropy":
            labels = y.reshape(len(y), -1)
            if labels.shape[1] != 1 or (y.dtype.kind == "f" and np.any(y != np.round(y))):
                raise ValueError(f"sparse_categorical_crossentropy expects integer labels of "
                                 f"shape ({len(y)},), received shape {y.shape}")
            if y.min() < 0 or y.max() >= units:
                raise ValueError(f"labels must be in [0, {units - 1}] for a model with "
                                 f"{units} outputs, received values from {y.min()} to {y.max()}")
        elif y.shape[1:] != tuple(self.output_shape[1:]):
            raise ValueError(f"{self.loss.key} expects targets of shape (batch, "
                             f"{', '.join(map(str, self.output_shape[1:]))}), received "
                             f"shape {y.shape}")

    def _prepare_xy(self, x, y):
        x = self._prepare(x)
        y = checks.as_targets(y)
        checks.check_lengths(x, y)
        if self.loss is None:
            raise ValueError(f"Model '{self.name}' must be compiled before training or evaluating")
        self._check_targets(y)
        return x, y

    def _metric_values(self, y, y_pred):
        return {name: fn(y, y_pred) for name, fn in self.metrics}

    def train_on_batch(self, x, y):
        """One optimizer step on one batch; returns the loss (and metrics, as Keras)."""
        x, y = self._prepare_xy(x, y)
        with backend.compute_threads():
            value, y_pred = self._train_step(x, y)
        values = [value, *self._metric_values(y, y_pred).values()]
        return values[0] if len(values) == 1 else values

    # -- loops -----------------------------------------------------------------------
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, validation_data=None,
            validation_split=0.0, shuffle=True, callbacks=None, initial_epoch=0):
        """Train for ``epochs`` passes over (x, y); returns a ``History``."""
        with backend.compute_threads():
            return self._fit(x, y, batch_size, epochs, verbose, validation_data,
                             validation_split, shuffle, callbacks, initial_epoch)

    def _fit(self, x, y, batch_size, epochs, verbose, validation_data, validation_split,
             shuffle, callbacks, initial_epoch):
        x, y = self._prepare_xy(x, y)
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), received {validation_split!r}")
        if batch_size is None or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, received {batch_size!r}")
        if validation_split and validation_data is None:
            cut = int(len(x) * (1 - validation_split))   # Keras takes the last samples
            x, y, validation_data = x[:cut], y[:cut], (x[cut:], y[cut:])
        history = History()
        callbacks = [history, *(callbacks or [])]
        for cb in callbacks:
            cb.set_model(self)
            cb.on_train_begin()
        self.stop_training, self.history = False, history
        n = len(x)
        for epoch in range(initial_epoch, epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            order = backend.rng().permutation(n) if shuffle else np.arange(n)
            totals, seen = {}, 0
            bar = tqdm(total=n, unit="img", desc=f"Epoch {epoch + 1}/{epochs}", leave=True,
                       disable=verbose != 1, file=sys.stdout, dynamic_ncols=True)
            try:
                for batch, start in enumerate(range(0, n, batch_size)):
                    idx = order[start:start + batch_size]
                    xb, yb = x[idx], y[idx]
                    try:
                        value, y_pred = self._train_step(xb, yb)
                    except FloatingPointError as exc:
                        print(f"fit stopped: {exc}", file=sys.stderr)
                        self.stop_training = True
                        self.stop_reason = str(exc)
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
            if seen == 0:
                break
            epoch_logs = {k: v / seen for k, v in totals.items()}
            if validation_data is not None:
                val = self.evaluate(*validation_data, batch_size=batch_size, verbose=0,
                                    return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            for cb in callbacks:
                cb.on_epoch_end(epoch, epoch_logs)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs} - " +
                      " - ".join(f"{k}: {v:.4f}" for k, v in epoch_logs.items()), flush=True)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end()
        return history

    def evaluate(self, x, y, batch_size=32, verbose=1, return_dict=False):
        """Mean loss (with regularization) and metrics over the data, no training."""
        x, y = self._prepare_xy(x, y)
        with backend.compute_threads():
            return self._evaluate(x, y, batch_size, verbose, return_dict)

    def _evaluate(self, x, y, batch_size, verbose, return_dict):
        totals = {}
        for start in tqdm(range(0, len(x), batch_size), disable=verbose != 1,
                          desc="evaluate", file=sys.stdout):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            y_pred = self.forward(xb, training=False)
            value, _, _ = self.loss.value_and_gradient(yb, y_pred, self._fused_logits())
            logs = {"loss": value + self.regularization_loss(), **self._metric_values(yb, y_pred)}
            for key, v in logs.items():
                totals[key] = totals.get(key, 0.0) + v * len(xb)
        results = {k: v / len(x) for k, v in totals.items()}
        if return_dict:
            return results
        return results["loss"] if len(results) == 1 else list(results.values())

    def predict(self, x, batch_size=32, verbose=0):
        """Model outputs for x, computed batch by batch in inference mode."""
        x = self._prepare(x)
        with backend.compute_threads():
            batches = [self.forward(x[start:start + batch_size], training=False).copy()
                   for start in tqdm(range(0, len(x), batch_size), disable=verbose != 1,
                                     desc="predict", file=sys.stdout)]
            return np.concatenate(batches, axis=0)
