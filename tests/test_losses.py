"""Loss values against the Keras formulas and gradients against finite differences."""
import numpy as np
import pytest

from minicnn import losses
from tests.gradcheck import directional_check

rng = np.random.default_rng(0)
logits = rng.standard_normal((5, 4))
probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
onehot = np.eye(4)[rng.integers(0, 4, 5)]
labels = onehot.argmax(1)
binary = (rng.random((5, 4)) > 0.5).astype(np.float64)
sig = 1 / (1 + np.exp(-logits))

CASES = [
    (losses.CategoricalCrossentropy(), onehot, probs),
    (losses.CategoricalCrossentropy(from_logits=True), onehot, logits),
    (losses.CategoricalCrossentropy(label_smoothing=0.1), onehot, probs),
    (losses.SparseCategoricalCrossentropy(), labels, probs),
    (losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits),
    (losses.BinaryCrossentropy(), binary, sig),
    (losses.BinaryCrossentropy(from_logits=True), binary, logits),
    (losses.MeanSquaredError(), probs, logits),
]


@pytest.mark.parametrize("loss,t,p", CASES, ids=lambda c: getattr(c, "name", ""))
def test_loss_gradient_matches_finite_differences(loss, t, p):
    p = p.copy()
    value, grad, _ = loss.value_and_gradient(t, p)
    assert value == pytest.approx(loss(t, p))
    directional_check(lambda: loss(t, p), [p], [grad], rng)


def test_categorical_crossentropy_value_is_keras_formula():
    # rows renormalized, clipped to [1e-7, 1 - 1e-7], -sum t log p, batch mean
    p = probs * 2.0
    expected = -(onehot * np.log(np.clip(probs, 1e-7, 1 - 1e-7))).sum(1).mean()
    assert losses.CategoricalCrossentropy()(onehot, p) == pytest.approx(expected, rel=1e-12)


def test_fused_softmax_path_gives_softmax_minus_targets():
    loss = losses.CategoricalCrossentropy()
    value, grad, wrt_logits = loss.value_and_gradient(onehot, probs, logits=logits)
    assert wrt_logits
    np.testing.assert_allclose(grad, (probs - onehot) / 5, atol=1e-12)
    assert value == pytest.approx(loss(onehot, probs), rel=1e-9)


def test_sparse_labels_out_of_range_are_rejected():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\]"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 4, 1, 2, 3]), probs)


def test_get_and_serialize_round_trip():
    for name in ["categorical_crossentropy", "sparse_categorical_crossentropy",
                 "binary_crossentropy", "mse"]:
        loss = losses.get(name)
        again = losses.get(losses.serialize(loss))
        assert type(again) is type(loss)
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("hinge")
