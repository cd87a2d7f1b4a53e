"""Issue 11: hyper-parameters and training inputs that must be refused clearly.

* defect 3: every optimizer refuses NaN and infinite hyper-parameters;
* defect 7: ``checks.check_validation_split`` refuses a split that leaves no
  training (or no validation) sample, as Keras does;
* defect 12: ``checks.check_integer_labels`` says what is wrong with a label.
"""
import inspect
import math

import numpy as np
import pytest

from minicnn import checks, optimizers

OPTIMIZER_CLASSES = [optimizers.SGD, optimizers.RMSprop, optimizers.Adam, optimizers.Adagrad,
                     optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam]
CLIPS = ["clipnorm", "clipvalue", "global_clipnorm"]


def numeric_arguments(cls):
    """The constructor arguments of ``cls`` that take a number (not a flag)."""
    return [name for name, p in inspect.signature(cls).parameters.items()
            if isinstance(p.default, (int, float)) and not isinstance(p.default, bool)]


CASES = [(cls, name) for cls in OPTIMIZER_CLASSES for name in numeric_arguments(cls) + CLIPS]


def test_the_cases_cover_every_optimizer_argument():
    names = {name for _, name in CASES}
    assert {"learning_rate", "momentum", "rho", "epsilon", "beta_1", "beta_2",
            "initial_accumulator_value", "clipnorm"} <= names
    assert len(CASES) >= 30


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, np.float32("inf"),
                                 np.float64("nan"), 10**400],
                         ids=["inf", "-inf", "nan", "float32 inf", "float64 nan", "10**400"])
@pytest.mark.parametrize("cls, name", CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES])
def test_non_finite_hyper_parameters_are_refused(cls, name, bad):
    with pytest.raises(ValueError) as info:
        cls(**{name: bad})
    message = str(info.value)
    assert cls.__name__ in message and f"{name}={bad!r}" in message, message
    assert "finite" in message


@pytest.mark.parametrize("cls", OPTIMIZER_CLASSES)
def test_setting_a_non_finite_learning_rate_later_is_refused(cls):
    opt = cls()
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match="learning_rate"):
            opt.learning_rate = bad
    assert math.isfinite(opt.learning_rate)


def test_a_config_with_infinity_is_refused():
    with pytest.raises(ValueError, match=r"SGD: `learning_rate` .* received learning_rate=inf"):
        optimizers.get({"class_name": "SGD", "config": {"learning_rate": float("inf")}})


def test_finite_values_still_work():
    assert optimizers.SGD(learning_rate=1e30, momentum=1.0).momentum == 1.0
    assert optimizers.Adam(epsilon=0.0, clipnorm=1e-12).epsilon == 0.0
    with pytest.raises(ValueError, match=r"beta_1` must be a finite number in \[0.0, 1.0\)"):
        optimizers.Adam(beta_1=1.0)


# ---------------------------------------------------------------------------
# defect 7: check_validation_split
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n, split, train", [
    (16, 0.0, 16), (16, 0.5, 8), (10, 0.05, 9), (3, 0.5, 1), (1000, 0.999, 1)])
def test_validation_split_keeps_the_first_floor_n_times_one_minus_split(n, split, train):
    assert checks.check_validation_split(n, split) == train     # Keras's rule


@pytest.mark.parametrize("n, split", [(16, 0.99), (1, 0.5), (1, 0.1), (2, 0.9)])
def test_a_split_that_leaves_a_part_empty_raises(n, split):
    with pytest.raises(ValueError) as info:
        checks.check_validation_split(n, split)
    message = str(info.value)
    assert f"validation_split={split!r}" in message and f"of {n} samples" in message
    assert "at least one" in message


@pytest.mark.parametrize("split", [1.0, -0.1, math.nan, math.inf, "0.1", True, None])
def test_a_split_outside_zero_to_one_raises(split):
    with pytest.raises(ValueError, match=r"validation_split must be a number in \[0, 1\)"):
        checks.check_validation_split(10, split)


# ---------------------------------------------------------------------------
# defect 12: check_integer_labels
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("labels, fragments", [
    ([0, 1.5, 2], ["whole numbers", "1.5 at index 1", "1 label(s) have a fractional part"]),
    ([np.nan, 0, np.nan], ["whole numbers", "nan at index 0", "2 label(s) are NaN or inf"]),
    ([0, np.inf], ["inf at index 1"]),
    ([0, 10, 3], ["[0, 9]", "10 outputs", "from 0 to 10", "10 at index 1"]),
    ([-1, 2], ["[0, 9]", "from -1 to 2", "-1 at index 0"]),
    ([[0, 1], [1, 0]], ["one integer label per sample", "(2, 2)"]),
    (np.array(["a", "b"]), ["integer labels", "<U1"]),
])
def test_bad_labels_get_a_message_that_says_what_is_wrong(labels, fragments):
    with pytest.raises(ValueError) as info:
        checks.check_integer_labels(np.asarray(labels), 10)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("labels", [
    np.array([0, 9, 3]), np.array([[0.0], [9.0]]), np.array([], dtype=np.int64),
    np.array([1, 2], dtype=np.uint8), np.float32([4.0, -0.0])])
def test_good_labels_pass(labels):
    assert checks.check_integer_labels(labels, 10) is None
