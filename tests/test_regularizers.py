"""Regularizers: values, gradients (finite differences), Keras, config."""
import json

import numpy as np
import pytest

from minicnn import regularizers

R = np.random.default_rng(0)
W64 = R.standard_normal((3, 3, 2, 4))  # float64 conv kernel, no entry near 0
W64[np.abs(W64) < 0.05] = 0.5
W32 = W64.astype(np.float32)

CASES = [regularizers.L1(0.03), regularizers.L2(0.02),
         regularizers.L1L2(l1=0.01, l2=0.05), regularizers.L1L2(l1=0.02)]


def numerical_gradient(f, w, eps=1e-6):
    """Central finite differences of the scalar f at w (float64)."""
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


def test_values_match_the_formulas():
    assert regularizers.L1(0.03)(W64) == pytest.approx(0.03 * np.abs(W64).sum(), rel=1e-14)
    assert regularizers.L2(0.02)(W64) == pytest.approx(0.02 * (W64 ** 2).sum(), rel=1e-14)
    both = regularizers.L1L2(l1=0.01, l2=0.05)(W64)
    assert both == pytest.approx(0.01 * np.abs(W64).sum() + 0.05 * (W64 ** 2).sum(),
                                 rel=1e-14)
    assert regularizers.L1L2()(W64) == 0.0


@pytest.mark.parametrize("reg", CASES, ids=repr)
def test_gradient_matches_finite_differences(reg):
    np.testing.assert_allclose(reg.gradient(W64), numerical_gradient(reg, W64),
                               rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("reg", CASES + [regularizers.L1L2()], ids=repr)
@pytest.mark.parametrize("w", [W64, W32], ids=["float64", "float32"])
def test_add_gradient_adds_the_gradient_in_place(reg, w):
    """What training calls: grad += gradient(w) in place, the same numbers."""
    start = R.standard_normal(w.shape).astype(w.dtype)
    grad = start.copy()
    reg.add_gradient(w, grad)
    np.testing.assert_array_equal(grad, start + reg.gradient(w))


def test_a_custom_regularizer_is_added_through_its_gradient():
    class Twice(regularizers.Regularizer):
        def gradient(self, w):
            return 2 * w

    grad = np.ones(3, np.float32)
    Twice().add_gradient(np.arange(3, dtype=np.float32), grad)
    np.testing.assert_array_equal(grad, [1, 3, 5])


def test_l1_gradient_is_zero_at_zero():
    w = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(regularizers.L1(0.5).gradient(w), [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(regularizers.L2(0.5).gradient(w), [-2.0, 0.0, 3.0])


@pytest.mark.parametrize("reg", CASES, ids=repr)
def test_float32_in_float32_out(reg):
    value, grad = reg(W32), reg.gradient(W32)
    assert np.asarray(value).dtype == np.float32 and grad.dtype == np.float32
    assert float(value) == pytest.approx(float(reg(W64)), rel=1e-6)


def test_l2_of_half_the_factor_is_tf_l2_loss():
    # 1e-2 * tf.nn.l2_loss(w) = 1e-2 * sum(w^2) / 2 = L2(0.005)(w)
    reg = regularizers.L2(0.005)
    assert reg(W64) == pytest.approx(1e-2 * (W64 ** 2).sum() / 2, rel=1e-14)
    np.testing.assert_allclose(reg.gradient(W64), 1e-2 * W64, rtol=1e-15)


@pytest.mark.parametrize("name,config", [("L1", {"l1": 0.03}), ("L2", {"l2": 0.02}),
                                         ("L1L2", {"l1": 0.01, "l2": 0.05})])
def test_matches_keras(name, config):
    tf = pytest.importorskip("tensorflow", exc_type=ImportError)
    import keras
    theirs = getattr(keras.regularizers, name)(**config)
    ours = getattr(regularizers, name)(**config)
    assert float(ours(W32)) == pytest.approx(float(theirs(tf.constant(W32))), rel=1e-6)
    # (Keras keeps L1's factor in a float32 tensor, so its config reads 0.0299999993)
    assert ours.get_config() == pytest.approx(theirs.get_config(), rel=1e-7)
    w = tf.Variable(W32)
    with tf.GradientTape() as tape:
        penalty = theirs(w)
    np.testing.assert_allclose(ours.gradient(W32), tape.gradient(penalty, w).numpy(),
                               rtol=1e-6, atol=1e-7)


def test_keras_defaults_and_aliases():
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get("L1").l1 == 0.01
    assert regularizers.l2 is regularizers.L2 and regularizers.l1 is regularizers.L1
    # As in Keras 3, l1_l2 / L1L2 default to no penalty at all.
    zero = regularizers.get("l1_l2")
    assert (zero.l1, zero.l2) == (0.0, 0.0) and zero(W64) == 0.0
    assert regularizers.l1_l2(l1=0.1, l2=0.2).get_config() == {"l1": 0.1, "l2": 0.2}


@pytest.mark.parametrize("reg", CASES, ids=repr)
def test_serialize_get_round_trip(reg):
    config = json.loads(json.dumps(regularizers.serialize(reg)))
    again = regularizers.get(config)
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    assert again(W64) == reg(W64)


def test_get_errors_and_passthrough():
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg and regularizers.get(None) is None
    assert regularizers.get(regularizers.L1).l1 == 0.01
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="gradient"):
        regularizers.get(lambda w: 0.0)
    with pytest.raises(ValueError, match="-0.1"):
        regularizers.L2(-0.1)
    with pytest.raises(ValueError, match="nan"):
        regularizers.L1(float("nan"))
