"""Initializers: fans, statistics of large draws, determinism, dtypes, config."""
import json
import math

import numpy as np
import pytest

from minicnn import backend, initializers

CONV = (3, 3, 64, 128)            # fan_in 576, fan_out 1152: 73,728 draws
TRUNC = initializers.TRUNCATED_STDDEV


@pytest.mark.parametrize("shape,fans", [((3, 3, 16, 32), (144, 288)),
                                        ((5, 5, 1, 6), (25, 150)),
                                        ((10, 20), (10, 20)),
                                        ((7,), (7, 7)),
                                        ((), (1, 1))])
def test_compute_fans_keras_rules(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_truncated_stddev_constant_is_the_spread_of_a_cut_normal():
    # Var of N(0,1) restricted to [-2, 2]: 1 - 2*2*phi(2) / (Phi(2) - Phi(-2))
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert math.sqrt(1 - 4 * phi2 / mass) == pytest.approx(TRUNC, rel=1e-15)


def check_stats(x, mean, std, bound=None):
    """Mean within 5 standard errors, std within 2 %, all values within bound."""
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(x.size)
    assert x.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.all(np.abs(x - mean) <= bound)


@pytest.fixture(autouse=True)
def seeded():
    backend.set_random_seed(1234)


def test_glorot_uniform():
    limit = math.sqrt(6 / (576 + 1152))
    x = initializers.GlorotUniform()(CONV)
    check_stats(x, 0.0, limit / math.sqrt(3), bound=limit)
    assert x.max() > 0.99 * limit and x.min() < -0.99 * limit


def test_he_uniform():
    limit = math.sqrt(6 / 576)
    x = initializers.HeUniform()(CONV)
    check_stats(x, 0.0, limit / math.sqrt(3), bound=limit)


def test_lecun_uniform():
    limit = math.sqrt(3 / 576)
    check_stats(initializers.LecunUniform()(CONV), 0.0, limit / math.sqrt(3), bound=limit)


@pytest.mark.parametrize("cls,target", [
    (initializers.GlorotNormal, math.sqrt(2 / (576 + 1152))),
    (initializers.HeNormal, math.sqrt(2 / 576)),
    (initializers.LecunNormal, math.sqrt(1 / 576)),
])
def test_truncated_variance_scaling_has_the_target_spread(cls, target):
    x = cls()(CONV)
    # drawn with stddev target/0.8796 and cut at 2 of those stddevs
    check_stats(x, 0.0, target, bound=2 * target / TRUNC)
    assert np.abs(x).max() > 0.99 * 2 * target / TRUNC


def test_variance_scaling_untruncated_fan_out():
    init = initializers.VarianceScaling(scale=3.0, mode="fan_out",
                                        distribution="untruncated_normal")
    x = init(CONV)
    check_stats(x, 0.0, math.sqrt(3.0 / 1152))
    assert np.abs(x).max() > 3.5 * math.sqrt(3.0 / 1152)  # really not truncated


def test_random_normal_and_truncated_normal():
    check_stats(initializers.RandomNormal(mean=1.0, stddev=0.5)((300, 300)), 1.0, 0.5)
    x = initializers.TruncatedNormal(mean=1.0, stddev=0.5)((300, 300))
    check_stats(x, 1.0, 0.5 * TRUNC, bound=1.0)
    d = initializers.TruncatedNormal()((300, 300))
    check_stats(d, 0.0, 0.05 * TRUNC, bound=0.1)


def test_random_uniform():
    x = initializers.RandomUniform(minval=2.0, maxval=5.0)((300, 300))
    check_stats(x, 3.5, 3 / math.sqrt(12))
    assert x.min() >= 2.0 and x.max() < 5.0
    d = initializers.RandomUniform()((300, 300))
    assert d.min() >= -0.05 and d.max() < 0.05 and d.max() > 0.0499


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(0.25)((2, 2)), np.full((2, 2), 0.25))


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform",
                                  "he_normal", "random_normal", "random_uniform",
                                  "truncated_normal", "zeros", "ones", "constant"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype(name, dtype):
    x = initializers.get(name)((3, 3, 2, 4), dtype=dtype)
    assert x.dtype == np.dtype(dtype) and x.shape == (3, 3, 2, 4)
    assert np.all(np.isfinite(x)) and np.abs(x).max() < 2.0


def test_default_dtype_is_floatx():
    assert initializers.GlorotUniform()((2, 2)).dtype == np.float32
    backend.set_floatx("float64")
    try:
        assert initializers.HeNormal()((2, 2)).dtype == np.float64
    finally:
        backend.set_floatx("float32")


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "truncated_normal",
                                  "random_normal", "random_uniform"])
def test_set_random_seed_makes_draws_reproducible(name):
    init = initializers.get(name)
    backend.set_random_seed(7)
    a = init((5, 5, 3, 8))
    backend.set_random_seed(7)
    b = init((5, 5, 3, 8))
    c = init((5, 5, 3, 8))  # the stream moves on
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 0


def test_seeded_initializer_repeats_itself():
    init = initializers.GlorotNormal(seed=3)
    np.testing.assert_array_equal(init((4, 4)), init((4, 4)))
    assert np.max(np.abs(init((4, 4)) - initializers.GlorotNormal(seed=4)((4, 4)))) > 0


@pytest.mark.parametrize("init", [initializers.GlorotUniform(seed=1),
                                  initializers.HeNormal(),
                                  initializers.RandomNormal(mean=1.0, stddev=2.0),
                                  initializers.RandomUniform(minval=-1.0, maxval=3.0),
                                  initializers.TruncatedNormal(stddev=0.1),
                                  initializers.VarianceScaling(2.0, "fan_avg", "uniform"),
                                  initializers.Constant(3.5), initializers.Zeros()])
def test_serialize_get_round_trip(init):
    config = json.loads(json.dumps(initializers.serialize(init)))
    again = initializers.get(config)
    assert type(again) is type(init) and again.get_config() == init.get_config()
    backend.set_random_seed(0)
    a = init((3, 4))
    backend.set_random_seed(0)
    np.testing.assert_array_equal(again((3, 4)), a)


def test_get_accepts_names_classes_and_callables():
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    assert initializers.get(None) is None

    def fives(shape, dtype=None):
        return np.full(shape, 5.0, dtype=dtype)
    assert initializers.get(fives)((2,), "float32").sum() == 10.0
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("xavier")


def test_bad_arguments_raise_quoting_the_value():
    with pytest.raises(ValueError, match="-1.0"):
        initializers.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="fan_sum"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="-3"):
        initializers.RandomNormal(seed=-3)


def test_spread_agrees_with_keras():
    pytest.importorskip("tensorflow", exc_type=ImportError)
    import keras
    for name in ["glorot_normal", "he_normal", "glorot_uniform", "truncated_normal"]:
        theirs = np.asarray(keras.initializers.get(name)(CONV))
        ours = initializers.get(name)(CONV)
        assert ours.std() == pytest.approx(theirs.std(), rel=0.03), name
        assert np.abs(ours).max() <= np.abs(theirs).max() * 1.01 + 1e-7, name
