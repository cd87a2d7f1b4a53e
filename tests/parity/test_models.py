"""Whole networks from docs/source_networks.md against Keras.

Same weights give the same output, logits, loss (regularization included)
and every weight gradient; after three ``train_on_batch`` steps with SGD
(momentum), RMSprop and Adam the weights still agree. See
``minicnn.parity.models`` for the networks.
"""
import pytest

from minicnn.parity import models


@pytest.mark.parametrize("case", models.MODEL_CASES, ids=lambda c: c.label)
def test_model_gradients_match_keras(case, reference, assert_parity):
    assert_parity(models.run_model_gradients(case, reference), "model gradients",
                  reference.device)


@pytest.mark.parametrize("optimizer", models.TRAIN_OPTIMIZERS, ids=lambda o: o[0])
@pytest.mark.parametrize("case", models.MODEL_CASES, ids=lambda c: c.label)
def test_model_training_steps_match_keras(case, optimizer, reference, assert_parity):
    assert_parity(models.run_model_training(case, optimizer, reference), "model training",
                  reference.device)


def test_graph_mode_training_matches_keras(reference, assert_parity):
    """Keras's traced train step (as in ``fit``) on the softmax network, RMSprop as in the book."""
    case = models.MODEL_CASES[0]
    assert case.name == "keras_mnist_convnet"
    assert_parity(models.run_model_training(case, models.TRAIN_OPTIMIZERS[1], reference,
                                            eager=False), "model training", reference.device)
