"""fit / evaluate / predict arguments: clear errors for what cannot work."""
import numpy as np
import pytest

import minicnn
from minicnn import layers


@pytest.fixture
def model():
    minicnn.set_random_seed(0)
    m = minicnn.Sequential([layers.Input((3,)), layers.Dense(2, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy")
    return m


X = np.arange(48, dtype=np.float32).reshape(16, 3) / 48
Y = np.arange(16) % 2


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8", True])
def test_batch_size_must_be_a_positive_int(model, bad):
    for call in (lambda: model.predict(X, batch_size=bad),
                 lambda: model.evaluate(X, Y, batch_size=bad, verbose=0),
                 lambda: model.fit(X, Y, batch_size=bad, verbose=0)):
        with pytest.raises(ValueError, match=f"batch_size must be a positive int, received "
                                             f"batch_size={bad!r}"):
            call()


@pytest.mark.parametrize("bad", [0, 1.5, None])
def test_epochs_must_be_a_positive_int(model, bad):
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        model.fit(X, Y, epochs=bad, verbose=0)


def test_predict_on_no_sample_returns_an_empty_batch(model):
    out = model.predict(np.zeros((0, 3), np.float32))
    assert out.shape == (0, 2) and out.dtype == np.float32


def test_a_validation_split_that_leaves_no_training_sample_raises(model):
    with pytest.raises(ValueError, match="leaves 0 for training"):
        model.fit(X, Y, validation_split=0.99, verbose=0)
    history = model.fit(X, Y, validation_split=0.25, verbose=0)     # 12 train, 4 validate
    assert set(history.history) == {"loss", "val_loss"}


@pytest.mark.parametrize("labels, message", [
    (np.full(16, 1.5), "fractional part"), (np.full(16, np.nan), "NaN or inf")])
def test_labels_that_are_not_class_indices_are_named(model, labels, message):
    with pytest.raises(ValueError, match=message):
        model.fit(X, labels, verbose=0)
