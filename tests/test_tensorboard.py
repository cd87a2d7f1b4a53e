"""The TensorBoard callback writes event files TensorBoard reads: the scalars come back."""
import os

import numpy as np
import pytest

import minicnn
from minicnn.callbacks import TensorBoard

pytest.importorskip("tensorboardX", reason="TensorBoard writes through tensorboardX")
from tensorboardX.proto.event_pb2 import Event  # noqa: E402


def _read(folder):
    """``{tag: [(step, value), ...]}`` from the event files in ``folder``: TFRecords
    (length, its CRC, the Event protobuf, its CRC), read as TensorBoard reads them."""
    scalars = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        at = 0
        while at < len(data):
            length = int.from_bytes(data[at:at + 8], "little")
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_epoch_and_batch_scalars_come_back(tmp_path):
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([minicnn.Input((4,)), minicnn.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((40, 4), dtype=np.float32)
    y = np.arange(40) % 3
    history = model.fit(x, y, epochs=3, batch_size=10, verbose=0, validation_split=0.25,
                        callbacks=[TensorBoard(tmp_path, update_freq=2)])
    train, val = _read(os.path.join(tmp_path, "train")), _read(os.path.join(tmp_path, "validation"))
    assert [s for s, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history.history["loss"],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in val["epoch_accuracy"]],
                               history.history["val_accuracy"], rtol=1e-6)
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]     # 3 steps an epoch, every 2nd


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="histogram_freq=1 is not supported"):
        TensorBoard(histogram_freq=1)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq=0)
