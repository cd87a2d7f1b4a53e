"""Every loss (with and without from_logits, the fused softmax/sigmoid path
included) and every regularizer against Keras: value and gradient.

The fused cases give minicnn the logits behind a softmax (as its model does
when the last layer is softmax) and give Keras ``softmax(z)`` computed by
``keras.activations.softmax``, to which Keras attaches ``_keras_logits``; on
TensorFlow Keras then computes the loss from the logits even in eager mode
(Keras 3.15), so the two agree even when the probabilities fall outside
Keras's clip range [1e-7, 1 - 1e-7] (the "logit scale 25" cases). Keras on
JAX cannot attach attributes to arrays and clips, and its clip passes half
the gradient at the bound: those cases skip there, with the reason.
"""
import pytest

from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.LOSS_CASES, ids=lambda c: c.label)
def test_loss_matches_keras(case, reference, assert_parity):
    if case.tf_only and reference.device.startswith("jax"):
        pytest.skip(case.tf_only)
    assert_parity(cases.run_loss_case(case, reference), case.loss, reference.device)


@pytest.mark.parametrize("case", cases.REGULARIZER_CASES, ids=str)
def test_regularizer_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_regularizer_case(case, reference), f"regularizer {case[0]}",
                  reference.device)


def test_every_loss_is_in_the_grid():
    from minicnn import losses
    assert {cls.__name__ for cls in losses.LOSSES.values()} == {c.loss for c in cases.LOSS_CASES}
    for loss in {c.loss for c in cases.LOSS_CASES if c.prediction != "raw"}:
        assert any(c.loss == loss and c.fused for c in cases.LOSS_CASES), loss
