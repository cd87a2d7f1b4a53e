"""BatchNormalization and Dropout against Keras.

Batch norm: training and inference outputs, dx, dgamma, dbeta and the
moving statistics after one training call; ``trainable=False`` behaves as
inference. Dropout: TensorFlow's random stream cannot be reproduced, so the
units Keras kept become minicnn's injected mask (then output and dx must be
bit-identical), and minicnn's own draws are checked statistically.
"""
import numpy as np
import pytest

from minicnn import layers as L
from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.BATCHNORM_CASES, ids=lambda c: c.label)
def test_batchnorm_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "BatchNormalization",
                  reference.device)


@pytest.mark.parametrize("case", cases.DROPOUT_CASES, ids=lambda c: c.label)
def test_dropout_with_keras_mask_matches_exactly(case, reference, assert_parity):
    assert_parity(cases.run_dropout_case(case, reference), "Dropout", reference.device)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_statistics(rate):
    layer = L.Dropout(rate, seed=0)
    x = np.ones((200, 50, 10), dtype=np.float32)
    y = layer.forward(x, training=True)
    kept = y[y != 0]
    np.testing.assert_array_equal(kept, np.float32(1 / (1 - rate)))   # exactly 1/(1-rate)
    assert abs(y.mean() - 1) < 0.01                                     # mean about 1
    assert abs((y == 0).mean() - rate) < 0.01                           # drops a fraction `rate`
    np.testing.assert_array_equal(layer.forward(x, training=False), x)  # identity at inference


def test_dropout_kept_value_equals_keras(reference):
    keras = reference.keras
    rate = 0.3
    with reference.placement():
        y = keras.ops.convert_to_numpy(
            keras.layers.Dropout(rate, seed=1)(np.ones((50, 40), np.float32), training=True))
    ours = L.Dropout(rate).forward(np.ones((50, 40), np.float32), training=True)
    assert set(np.unique(y)) == set(np.unique(ours)) == {0.0, np.float32(1 / (1 - rate))}
