"""Callbacks for ``fit``: History, EarlyStopping, ModelCheckpoint."""


class Callback:
    """Hooks called by ``Sequential.fit``; ``self.model`` is set before training."""
    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_end(self, logs=None): pass


class History(Callback):
    """``history.history["loss"]`` etc.: one value per epoch (also ``history["loss"]``)."""

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]


class _Monitor(Callback):
    def __init__(self, monitor, mode):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"received {mode!r}")
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode

    def _improved(self, value, best, min_delta=0.0):
        if best is None:
            return True
        return value < best - min_delta if self.mode == "min" else value > best + min_delta

    def _value(self, logs):
        if self.monitor not in (logs or {}):
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but the epoch "
                             f"logs only have {sorted(logs or {})}")
        return logs[self.monitor]


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False, baseline=None):
        super().__init__(monitor, mode)
        self.min_delta, self.patience = abs(min_delta), patience
        self.restore_best_weights, self.baseline = restore_best_weights, baseline

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights = 0, 0, self.baseline, None

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if self._improved(value, self.best, self.min_delta):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model after each epoch (or only when ``monitor`` improves)."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        super().__init__(monitor, mode)
        self.filepath, self.save_best_only, self.best = str(filepath), save_best_only, None

    def on_epoch_end(self, epoch, logs=None):
        path = self.filepath.format(epoch=epoch + 1, **(logs or {}))
        if self.save_best_only:
            value = self._value(logs)
            if not self._improved(value, self.best):
                return
            self.best = value
        self.model.save(path)


class LambdaCallback(Callback):
    """Quick hooks: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_end=None, on_batch_end=None):
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_batch_end is not None:
            self.on_batch_end = on_batch_end
