"""Constraints: norms after projection, agreement with Keras, config."""
import json

import numpy as np
import pytest

from minicnn import constraints

R = np.random.default_rng(0)
KERNEL = (R.standard_normal((3, 3, 2, 4)) * 0.6).astype(np.float32)  # conv kernel
DENSE = R.standard_normal((6, 5)).astype(np.float32)

CASES = [  # (constraint kwargs, weight)
    ("MaxNorm", {}, DENSE),
    ("MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}, KERNEL),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}, DENSE),
    ("UnitNorm", {}, DENSE),
    ("UnitNorm", {"axis": [0, 1, 2]}, KERNEL),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5}, DENSE),
    ("MinMaxNorm", {"min_value": 2.0, "max_value": 3.0, "axis": [0, 1, 2]}, KERNEL),
    ("NonNeg", {}, KERNEL),
]


def norms(w, axis):
    return np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axis))


def test_max_norm_caps_each_filter_and_leaves_small_ones():
    w = KERNEL.astype(np.float64)
    before = norms(w, (0, 1, 2))
    out = constraints.MaxNorm(max_value=2.5, axis=[0, 1, 2])(w)
    after = norms(out, (0, 1, 2))
    assert before.max() > 2.5 and before.min() < 2.5          # both cases present
    np.testing.assert_allclose(after, np.minimum(before, 2.5), rtol=1e-6)
    small = before < 2.5
    np.testing.assert_allclose(out[..., small], w[..., small], rtol=1e-6)


def test_unit_norm_and_non_neg():
    out = constraints.UnitNorm(axis=0)(DENSE.astype(np.float64))
    np.testing.assert_allclose(norms(out, 0), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(constraints.NonNeg()(np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 2.0])


def test_min_max_norm_rate_moves_part_way():
    w = np.array([[3.0], [4.0]])                          # one column of norm 5
    out = constraints.MinMaxNorm(0.0, 1.0, rate=0.5)(w)   # target 0.5*1 + 0.5*5 = 3
    np.testing.assert_allclose(norms(out, 0), [3.0], rtol=1e-6)


@pytest.mark.parametrize("name,kwargs,w", CASES)
def test_float32_stays_float32(name, kwargs, w):
    out = getattr(constraints, name)(**kwargs)(w)
    assert out.dtype == np.float32 and out.shape == w.shape
    assert np.all(np.isfinite(out)) and np.abs(out).max() > 0


@pytest.mark.parametrize("name,kwargs,w", CASES)
def test_matches_keras(name, kwargs, w):
    pytest.importorskip("tensorflow", exc_type=ImportError)
    import keras
    theirs = np.asarray(getattr(keras.constraints, name)(**kwargs)(w))
    ours = getattr(constraints, name)(**kwargs)(w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,kwargs,w", CASES)
def test_serialize_get_round_trip(name, kwargs, w):
    c = getattr(constraints, name)(**kwargs)
    config = json.loads(json.dumps(constraints.serialize(c)))
    again = constraints.get(config)
    assert type(again) is type(c) and again.get_config() == c.get_config()
    np.testing.assert_array_equal(again(w), c(w))


def test_get_names_aliases_and_errors():
    assert constraints.get("max_norm").max_value == 2
    assert constraints.get("MaxNorm").axis == 0
    assert constraints.get("unit_norm").axis == 0
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.get(None) is None
    assert constraints.get(np.abs)(np.array([-3.0]))[0] == 3.0
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("min_norm")
    with pytest.raises(ValueError, match="-1"):
        constraints.MaxNorm(max_value=-1)
