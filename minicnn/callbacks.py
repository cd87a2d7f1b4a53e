"""Callbacks for ``fit``, ``evaluate`` and ``predict``, with Keras 3's names and order.

Hooks (``self.model`` and ``self.params`` are set first)::

    fit:       on_train_begin
                 on_epoch_begin(epoch)
                   on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)
                   [validation: on_test_begin, on_test_batch_begin/end..., on_test_end]
                 on_epoch_end(epoch, logs)
               on_train_end(logs)
    evaluate:  on_test_begin, on_test_batch_begin/end(batch, logs)..., on_test_end(logs)
    predict:   on_predict_begin, on_predict_batch_begin/end(batch, {"outputs": ...}),
               on_predict_end

``on_batch_begin`` / ``on_batch_end`` are Keras's old names for the training
batch hooks: the default ``on_train_batch_end`` calls ``on_batch_end``, so a
callback may override either. Batch logs hold the running (epoch so far)
values of the loss and metrics, as Keras 3 gives them. ``fit`` appends its
``History`` (and, when ``verbose``, a ``ProgbarLogger``) after the callbacks
it is given, so a callback that adds to the epoch logs (``learning_rate``)
is seen in ``history.history``.
"""
import csv
import json
import os
import shutil
import sys
import warnings

import numpy as np
from tqdm.auto import tqdm

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "LambdaCallback", "LearningRateScheduler", "ReduceLROnPlateau",
           "CSVLogger", "TerminateOnNaN", "BackupAndRestore", "TensorBoard"]


class Callback:
    """Base class: every hook does nothing (the training-batch hooks call their
    old names ``on_batch_begin`` / ``on_batch_end``)."""
    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


_HOOKS = ("on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
          "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
          "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end")


class CallbackList:
    """Calls a hook on every callback, in order. ``add_history`` / ``add_progbar``
    append a ``History`` / ``ProgbarLogger`` unless one was given (Keras's order)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self.progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if self.progbar is None and add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)
            if model is not None:
                cb.set_model(model)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def progress(self, rows):
        """Tell the progress bar a batch of ``rows`` samples was done."""
        if self.progbar is not None:
            self.progbar.advance(rows)

    def __iter__(self):
        return iter(self.callbacks)


def _dispatch(name):
    """Keras passes a logs dict (empty when there is nothing to say) to every hook."""
    if "batch" in name or "epoch" in name:
        def hook(self, index, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(index, logs)
    else:
        def hook(self, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, name)(logs)
    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _dispatch(_name))


class History(Callback):
    """``history.history["loss"]`` etc.: one value per epoch (also ``history["loss"]``)."""

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]


def _line(logs):
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, (float, int, np.floating))
                      else f"{k}: {v}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """The progress display ``fit`` / ``evaluate`` / ``predict`` add when ``verbose``
    is not 0: ``verbose=1`` a tqdm bar per epoch (counting samples for arrays,
    steps for batched data, with a total only when the length is known) and a
    summary line per epoch; ``verbose=2`` the summary line only."""

    def __init__(self):
        self.bar, self.seen, self._in_fit, self._testing = None, 0, False, False

    def _open(self, desc):
        self.close()
        params = self.params or {}
        self.seen = 0
        # smoothing=0: the rate shown is the average since the clock started, and
        # the clock restarts after the first batch (see ``advance``)
        self.bar = tqdm(total=params.get("total"), unit=params.get("unit", "step"), desc=desc,
                        leave=True, disable=params.get("verbose", 1) != 1, file=sys.stdout,
                        dynamic_ncols=True, smoothing=0)

    def advance(self, rows):
        if self.bar is not None and not (self._in_fit and self._testing):
            step = rows if (self.params or {}).get("unit") == "img" else 1
            first = self.seen == 0
            self.seen += step
            if first and not self.bar.disable:
                # The first batch pays for compiling (or loading) the kernels and first
                # touches of memory: the clock starts after it, so its time is left out
                # of the rate (img/s, step/s) and of the elapsed time shown.
                self.bar.reset(total=self.bar.total)
                self.bar.initial = step
            self.bar.update(step)

    def _postfix(self, logs):
        if self.bar is not None and logs:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()
                                  if isinstance(v, (float, int, np.floating))}, refresh=False)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        epochs = (self.params or {}).get("epochs", 1)
        self._open(f"Epoch {epoch + 1}/{epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._postfix(logs)

    def on_epoch_end(self, epoch, logs=None):
        self.close()
        params = self.params or {}
        if params.get("verbose", 1):
            print(f"Epoch {epoch + 1}/{params.get('epochs', 1)} - {_line(logs or {})}",
                  flush=True)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_test_begin(self, logs=None):
        self._testing = True
        if not self._in_fit:                        # validation inside fit: no bar
            self._open("evaluate")

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._postfix(logs)

    def on_test_end(self, logs=None):
        self._testing = False
        if not self._in_fit:
            self.close()

    def on_predict_begin(self, logs=None):
        self._open("predict")

    def on_predict_end(self, logs=None):
        self.close()

    def on_train_end(self, logs=None):
        self._in_fit = False
        self.close()


class MonitorCallback(Callback):
    """Watch one logged value (Keras's ``MonitorCallback``): ``mode`` "min", "max"
    or "auto" (the loss and error metrics go down, accuracies, AUC, precision
    and recall go up; any other name needs an explicit mode, as in Keras)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to "
                          f"auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor, self.mode, self.best = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        from .metrics import direction
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            name = self.monitor.removeprefix("val_")
            way = direction(self.model, name)
            if way is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    f"minicnn isn't able to automatically determine whether that metric "
                    f"should be maximized or minimized. Pass `mode='max'` in order to "
                    f"monitor based on the highest metric value, or pass `mode='min'` in "
                    f"order to use the lowest value.")
            self.monitor_op = np.greater if way == "up" else np.less
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))


class EarlyStopping(MonitorCallback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keras 3's rules: a monitored value missing from the logs (``val_loss``
    without validation data) gives a warning and the epoch is skipped, never an
    error; ``restore_best_weights`` puts back the best epoch's weights when
    training ends (stopped early or not)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", stacklevel=2)
        return value


class ModelCheckpoint(MonitorCallback):
    """Save the model after each epoch (or only when ``monitor`` improves)."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto",
                 verbose=0):
        super().__init__(monitor, mode)
        self.filepath, self.save_best_only, self.verbose = str(filepath), save_best_only, verbose

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            if self.monitor_op is None:
                self._set_monitor_op()
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              f"skipping.", stacklevel=2)
                return
            if not self._is_improvement(value, self.best):
                return
            self.best = value
        self.model.save(path)


class LambdaCallback(Callback):
    """Quick hooks: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any
    hook name of ``Callback`` may be given."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in given.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            if fn is not None:
                setattr(self, name, fn)


def _current_lr(optimizer):
    """The learning rate as Keras reports it: its float32 variable, as a float."""
    return float(np.float32(optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """At the start of every epoch set the learning rate to ``schedule(epoch, lr)``
    (or ``schedule(epoch)``), ``epoch`` counted from 0; logs ``learning_rate``."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            lr = self.schedule(epoch, _current_lr(optimizer))
        except TypeError:                            # the old one-argument form
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. "
                             f"Got: {lr}")
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved
    by ``min_delta`` for ``patience`` epochs (then wait ``cooldown`` epochs),
    never below ``min_lr``; logs ``learning_rate``."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor, self.min_lr, self.patience = factor, min_lr, patience
        self.verbose, self.cooldown = verbose, cooldown
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = _current_lr(optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: {','.join(logs)}.",
                          stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = _current_lr(optimizer)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or inf (``raise_error``: raise a
    RuntimeError instead)."""

    def __init__(self, raise_error=False):
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss "
                                   f"value: {loss}. Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """One row per epoch in a CSV file: ``epoch`` (from 0) and the logs in sorted
    key order, as Keras writes them; each row is flushed when written."""

    def __init__(self, filename, separator=",", append=False):
        self.sep, self.filename, self.append = separator, os.fspath(filename), append
        self.writer = self.keys = self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            is_zero_dim = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if hasattr(k, "__iter__") and not is_zero_dim:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])   # Keras does this
        if not self.writer:
            class Dialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class BackupAndRestore(Callback):
    """Resume a ``fit`` that was interrupted (an exception, a killed process) from
    the end of its last completed epoch, exactly as if it had never stopped.

    At the end of every epoch (or every ``save_freq`` batches) the callback
    writes ``<backup_dir>/latest.npz`` atomically (minicnn's temporary file +
    rename, never pickle): every weight and moving statistic, the optimizer
    state and learning rate, the state of the random generators (minicnn's and
    any seeded layer's) and the number of epochs done. ``fit`` with the same
    callback finds the file in ``on_train_begin``, restores all of it and starts
    at the next epoch. When training ends normally the folder is deleted
    (``delete_checkpoint=True``), as in Keras. With ``save_freq`` a number of
    batches, a resumed fit restarts the interrupted epoch from the weights of
    the last save (Keras's behaviour; only epoch ends are exact)."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             f"value.")
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self.path = os.path.join(self.backup_dir, "latest.npz")
        self._batches_since_save = self._last_batch_seen = self._current_epoch = 0

    # -- what is saved ---------------------------------------------------------
    def _generators(self):
        from . import backend
        gens = {"backend": backend.rng()}
        for i, layer in enumerate(self.model.leaf_layers()):
            rng = getattr(layer, "_rng", None)
            if isinstance(rng, np.random.Generator):
                gens[f"layer/{i}"] = rng
        return gens

    def _save(self):
        from .saving import _write_atomically
        model, optimizer = self.model, self.model.optimizer
        arrays = {f"w/{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
        for key, value in optimizer.get_state().items():
            arrays[f"opt/{key}"] = np.asarray(value)
        meta = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                "rng": {k: g.bit_generator.state for k, g in self._generators().items()},
                "learning_rate": None if optimizer.learning_rate_schedule is not None
                else optimizer.learning_rate}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self.path):
            shutil.copyfile(self.path, self.path + ".bkp")
        _write_atomically(self.path, lambda f: np.savez(f, **arrays))

    def _load(self):
        from . import backend
        with np.load(self.path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            weights = [data[f"w/{i}"] for i in range(len(self.model.get_weights()))]
            state = {k[4:]: data[k] for k in data.files if k.startswith("opt/")}
        self.model.set_weights(weights)
        optimizer = self.model.optimizer
        optimizer.set_state(state)
        if meta["learning_rate"] is not None:
            optimizer.learning_rate = meta["learning_rate"]
        gens = self._generators()
        for key, value in meta["rng"].items():
            if key == "backend":
                backend._RNG = np.random.Generator(type(backend.rng().bit_generator)())
                backend._RNG.bit_generator.state = value
            elif key in gens:
                gens[key].bit_generator.state = value
        self.model._initial_epoch = meta["epoch"]

    # -- hooks -------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if os.path.exists(self.path):
            try:
                self._load()
            except (OSError, ValueError, KeyError):
                if not os.path.exists(self.path + ".bkp"):
                    raise
                shutil.copyfile(self.path + ".bkp", self.path)
                self._load()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch, self._last_batch_seen = epoch + 1, 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += added
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save()

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class TensorBoard(Callback):
    """Scalars for TensorBoard, as Keras's callback writes them: ``log_dir/train`` and
    ``log_dir/validation`` event files with ``epoch_loss``, ``epoch_<metric>`` (and
    ``epoch_learning_rate`` when logged) per epoch, and with ``update_freq="batch"``
    or an int N, ``batch_<metric>`` every N training steps.

        model.fit(x, y, validation_split=0.1, callbacks=[TensorBoard("logs")])
        # tensorboard --logdir logs

    The files are written with tensorboardX (``pip install tensorboardX``, the
    ``tensorboard`` extra), a writer made for frameworks other than TensorFlow.
    Histograms, graphs, images, profiling and embeddings are Keras options
    minicnn does not write: a non-default value is refused."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("TensorBoard needs tensorboardX to write event files: "
                              "pip install tensorboardX (or minicnn's 'tensorboard' extra)"
                              ) from None
        for name, value, default in (("histogram_freq", histogram_freq, 0),
                                     ("write_images", write_images, False),
                                     ("write_steps_per_second", write_steps_per_second, False),
                                     ("profile_batch", profile_batch, 0),
                                     ("embeddings_freq", embeddings_freq, 0),
                                     ("embeddings_metadata", embeddings_metadata, None)):
            if value != default:
                raise ValueError(f"TensorBoard: minicnn writes scalars only; {name}="
                                 f"{value!r} is not supported (use {name}={default!r})")
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, int) and update_freq >= 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a "
                             f"positive int, received {update_freq!r}")
        self.log_dir, self.write_graph = os.fspath(log_dir), write_graph
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writer_class, self._writers, self._step = SummaryWriter, {}, 0

    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = self._writer_class(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.update_freq != "epoch" and self._step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                self._writer("train").add_scalar(f"batch_{key}", float(value), self._step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            which, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(which).add_scalar(f"epoch_{name}", float(value), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
