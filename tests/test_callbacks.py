"""Callbacks: Keras 3's hooks and order, the LR callbacks, CSVLogger, BackupAndRestore."""
import csv

import numpy as np
import pytest

import minicnn
from minicnn import callbacks, layers
from minicnn.parity.compare import TOLERANCES

keras = pytest.importorskip("keras")
FWD, GRAD = TOLERANCES["forward"]["cpu"], TOLERANCES["grad"]["cpu"]
RNG = np.random.default_rng(1)
X = RNG.standard_normal((12, 3)).astype(np.float32)
Y = RNG.integers(0, 2, 12)


def _pair(lr=0.1):
    minicnn.set_random_seed(0)
    ours = minicnn.Sequential([layers.Input((3,)), layers.Dense(2, activation="softmax")])
    theirs = minicnn.to_keras(ours, compile=False)
    ours.compile(minicnn.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["acc"])
    theirs.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["acc"])
    return ours, theirs


HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end"]


def _recorder(base):
    calls = []

    def make(name):
        return lambda self, *args, **kwargs: calls.append(
            (name,) + tuple(a for a in args if isinstance(a, int)))
    cls = type("Recorder", (base,), {name: make(name) for name in HOOKS})
    return cls(), calls


def test_hooks_are_called_in_keras_order_with_keras_names():
    ours, theirs = _pair()
    results = []
    for model, base in ((ours, callbacks.Callback), (theirs, keras.callbacks.Callback)):
        cb, calls = _recorder(base)
        model.fit(X, Y, batch_size=5, epochs=2, verbose=0, shuffle=False,
                  validation_data=(X, Y), validation_batch_size=8, callbacks=[cb])
        model.evaluate(X, Y, batch_size=8, verbose=0, callbacks=[cb])
        model.predict(X, batch_size=8, verbose=0, callbacks=[cb])
        results.append(calls)
    assert results[0] == results[1]


def test_on_train_batch_end_and_its_old_name_on_batch_end_are_both_called():
    ours, _ = _pair()
    seen = []

    class New(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(("new", batch, sorted(logs)))

    class Old(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(("old", batch))
    ours.fit(X, Y, batch_size=6, verbose=0, callbacks=[New(), Old()])
    assert seen == [("new", 0, ["acc", "loss"]), ("old", 0),
                    ("new", 1, ["acc", "loss"]), ("old", 1)]


def test_learning_rate_scheduler_matches_keras():
    ours, theirs = _pair()
    kw = dict(batch_size=4, epochs=3, verbose=0, shuffle=False)
    h1 = ours.fit(X, Y, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: lr * 0.5)], **kw)
    h2 = theirs.fit(X, Y, callbacks=[keras.callbacks.LearningRateScheduler(
        lambda e, lr: lr * 0.5)], **kw)
    assert set(h1.history) == set(h2.history) == {"loss", "acc", "learning_rate"}
    assert h1.history["learning_rate"] == h2.history["learning_rate"]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, *GRAD)


def test_reduce_lr_on_plateau_matches_keras():
    ours, theirs = _pair(lr=0.0)
    ours.optimizer.learning_rate = theirs.optimizer.learning_rate = 0.5
    kw = dict(batch_size=4, epochs=6, verbose=0, shuffle=False, validation_data=(X, Y))

    def cb(lib):
        return lib.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=1,
                                     min_lr=0.1, min_delta=10.0)
    h1 = ours.fit(X, Y, callbacks=[cb(callbacks)], **kw)
    h2 = theirs.fit(X, Y, callbacks=[cb(keras.callbacks)], **kw)
    assert h1.history["learning_rate"] == h2.history["learning_rate"]
    assert min(h1.history["learning_rate"]) < 0.5


def test_csv_logger_writes_the_rows_keras_writes(tmp_path):
    ours, theirs = _pair()
    kw = dict(batch_size=4, epochs=2, verbose=0, shuffle=False)
    ours.fit(X, Y, callbacks=[callbacks.CSVLogger(tmp_path / "a.csv")], **kw)
    theirs.fit(X, Y, callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "b.csv"))], **kw)
    rows = [list(csv.reader(open(tmp_path / name))) for name in ("a.csv", "b.csv")]
    assert rows[0][0] == rows[1][0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    for ours_row, keras_row in zip(rows[0][1:], rows[1][1:]):
        assert ours_row[0] == keras_row[0] and ours_row[3:] == keras_row[3:] == ["NA", "NA"]
        np.testing.assert_allclose(np.float64(ours_row[1:3]), np.float64(keras_row[1:3]), *FWD)
    ours.fit(X, Y, callbacks=[callbacks.CSVLogger(tmp_path / "a.csv", append=True)], **kw)
    assert len(list(csv.reader(open(tmp_path / "a.csv")))) == 5     # one header


def test_terminate_on_nan_stops_training():
    ours, _ = _pair()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(ours)
    cb.on_train_batch_end(3, {"loss": float("nan")})
    assert ours.stop_training


def test_early_stopping_without_validation_warns_and_restores_best_weights():
    ours, _ = _pair()
    with pytest.warns(UserWarning, match="val_loss"):
        history = ours.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])
    assert len(history.history["loss"]) == 2

    class Worse(callbacks.Callback):                     # make epochs 2.. look worse
        def on_epoch_end(self, epoch, logs=None):
            logs["loss"] = float(epoch)
            self.weights = self.weights if epoch else self.model.get_weights()
    worse = Worse()
    ours.fit(X, Y, epochs=5, verbose=0, callbacks=[
        worse, callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)])
    for a, b in zip(ours.get_weights(), worse.weights):
        np.testing.assert_array_equal(a, b)


class Crash(callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("power cut")


def _dropout_model():
    minicnn.set_random_seed(7)
    model = minicnn.Sequential([layers.Input((3,)), layers.Dense(8, activation="relu"),
                                layers.Dropout(0.3), layers.Dropout(0.2, seed=5),
                                layers.BatchNormalization(),
                                layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    return model


def test_backup_and_restore_resumes_bit_exactly(tmp_path):
    reference = _dropout_model()
    full = reference.fit(X, Y, batch_size=4, epochs=4, verbose=0)
    model = _dropout_model()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="power cut"):
        model.fit(X, Y, batch_size=4, epochs=4, verbose=0, callbacks=[backup, Crash()])
    assert (tmp_path / "backup" / "latest.npz").exists()
    resumed = _dropout_model()                       # a new process: other weights, seed
    minicnn.set_random_seed(123)
    history = resumed.fit(X, Y, batch_size=4, epochs=4, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")])
    assert history.epoch == [2, 3]
    assert history.history["loss"] == full.history["loss"][2:]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    for key, value in reference.optimizer.get_state().items():
        np.testing.assert_array_equal(resumed.optimizer.get_state()[key], value)
    assert not (tmp_path / "backup").exists()             # deleted after a normal end
