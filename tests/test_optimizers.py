"""Optimizers: against Keras 3, against hand-written formulas, and their API."""
import io
import json

import numpy as np
import pytest

from minicnn import optimizers

SHAPES = [(3, 3, 2, 4), (4,), (5, 3)]  # a conv kernel, a bias, a dense kernel
RTOL, ATOL = 1e-6, 1e-7                  # one optimizer step, float32
# (docs/keras_semantics.md "Tolerances"; the float64 numbers below are there too)

KERAS_CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"clipvalue": 0.3}),
    ("RMSprop", {}),
    ("RMSprop", {"rho": 0.8, "epsilon": 1e-4}),
    ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.9, "learning_rate": 0.01}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"clipnorm": 0.5}),
    ("Adam", {"global_clipnorm": 1.0}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.9}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99}),
]
ALL_NAMES = ["SGD", "RMSprop", "Adam", "Adagrad", "Adadelta", "Adamax", "Nadam"]
# Every slot of every optimizer gets used by one of these.
FULL_OPTIONS = {"SGD": {"momentum": 0.9, "nesterov": True},
                "RMSprop": {"momentum": 0.9, "centered": True},
                "Adam": {"amsgrad": True}}


def make_problem(dtype, steps=5, seed=0):
    """Initial weights and a list of `steps` gradient lists."""
    r = np.random.default_rng(seed)
    weights = [r.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[r.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return weights, grads


def run_minicnn(opt, weights, grads):
    weights = [w.copy() for w in weights]
    for step in grads:
        opt.apply(step, weights)
    return weights


@pytest.fixture(scope="module")
def tf():
    tf = pytest.importorskip("tensorflow", exc_type=ImportError)
    tf.config.experimental.enable_tensor_float_32_execution(False)
    return tf


def run_keras(tf, name, kwargs, weights, grads, new_lr_at=None, new_lr=None):
    import keras
    opt = getattr(keras.optimizers, name)(**kwargs)
    variables = [tf.Variable(w) for w in weights]
    for i, step in enumerate(grads):
        if i == new_lr_at:
            opt.learning_rate = new_lr
        opt.apply([tf.constant(g) for g in step], variables)
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("name,kwargs", KERAS_CASES)
def test_matches_keras_float32(tf, name, kwargs):
    weights, grads = make_problem("float32")
    ours = run_minicnn(getattr(optimizers, name)(**kwargs), weights, grads)
    theirs = run_keras(tf, name, kwargs, weights, grads)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


# Keras's ops.cast(python_float, "float64") goes through a float32 tensor, so a
# float64 Keras optimizer uses float32-rounded momentum/betas (and keeps the
# learning rate in a float32 variable). minicnn uses the exact values; with
# hyper-parameters that are exact in float32 the two agree to float64 round-off.
EXACT_IN_FLOAT32 = {
    "SGD": {"momentum": 0.875, "nesterov": True},
    "RMSprop": {"rho": 0.875, "momentum": 0.875, "centered": True, "epsilon": 2.0 ** -20},
    "Adam": {"beta_1": 0.875, "beta_2": 1 - 2.0 ** -9, "epsilon": 2.0 ** -20,
             "amsgrad": True},
    "Adagrad": {"initial_accumulator_value": 0.125, "epsilon": 2.0 ** -20},
    "Adadelta": {"rho": 0.875, "epsilon": 2.0 ** -20},
    "Adamax": {"beta_1": 0.875, "beta_2": 1 - 2.0 ** -9, "epsilon": 2.0 ** -20},
    "Nadam": {"beta_1": 0.875, "beta_2": 1 - 2.0 ** -9, "epsilon": 2.0 ** -20},
}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_matches_keras_float64(tf, name):
    kwargs = {"learning_rate": 2.0 ** -6, **EXACT_IN_FLOAT32[name]}
    weights, grads = make_problem("float64")
    ours = run_minicnn(getattr(optimizers, name)(**kwargs), weights, grads)
    theirs = run_keras(tf, name, kwargs, weights, grads)
    # Nadam's schedule constant 0.96 is itself rounded to float32 by Keras.
    rtol, atol = (1e-6, 1e-7) if name == "Nadam" else (1e-12, 1e-14)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_changing_learning_rate_matches_keras(tf, name):
    weights, grads = make_problem("float32")
    opt = getattr(optimizers, name)(learning_rate=0.01)
    ours = [w.copy() for w in weights]
    for i, step in enumerate(grads):
        if i == 2:
            opt.learning_rate = 0.05
        opt.apply(step, ours)
    theirs = run_keras(tf, name, {"learning_rate": 0.01}, weights, grads,
                       new_lr_at=2, new_lr=0.05)
    assert opt.learning_rate == 0.05
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_reads_a_keras_config(tf):
    import keras
    config = keras.optimizers.serialize(keras.optimizers.RMSprop(0.01, centered=True))
    opt = optimizers.get(config)
    assert isinstance(opt, optimizers.RMSprop)
    assert opt.learning_rate == pytest.approx(0.01) and opt.centered is True


# --- hand-written formulas (float64, no TensorFlow) ----------------------------

def test_sgd_momentum_formula():
    lr, mu = 0.1, 0.9
    w, (g1, g2) = np.array([1.0, -2.0]), (np.array([0.5, 1.0]), np.array([-1.0, 2.0]))
    opt, ws = optimizers.SGD(lr, momentum=mu), [w.copy()]
    opt.apply([g1], ws)
    opt.apply([g2], ws)
    v1 = -lr * g1
    v2 = mu * v1 - lr * g2
    np.testing.assert_allclose(ws[0], w + v1 + v2, rtol=1e-15)
    nesterov, wn = optimizers.SGD(lr, momentum=mu, nesterov=True), [w.copy()]
    nesterov.apply([g1], wn)
    np.testing.assert_allclose(wn[0], w + mu * v1 - lr * g1, rtol=1e-15)


def test_rmsprop_formula():
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, -1.0, 0.0])
    ws = [w.copy()]
    optimizers.RMSprop(lr).apply([g], ws)
    v = (1 - rho) * g ** 2
    np.testing.assert_allclose(ws[0], w - lr * g / np.sqrt(v + eps), rtol=1e-15)


def test_adam_formula_three_steps():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w = np.array([1.0, -2.0, 3.0])
    gs = [np.array([0.5, -1.0, 0.1]), np.array([0.2, 0.3, -0.4]), np.array([1.0, 0.0, 2.0])]
    ws, opt = [w.copy()], optimizers.Adam(lr)
    m = v = np.zeros(3)
    for t, g in enumerate(gs, start=1):
        opt.apply([g], ws)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(ws[0], w, rtol=1e-13)
    assert opt.iterations == 3


def test_clipnorm_and_clipvalue_formulas():
    g = np.array([3.0, 4.0])                      # norm 5
    w1, w2, w3 = [np.zeros(2)], [np.zeros(2)], [np.zeros(2)]
    optimizers.SGD(1.0, clipnorm=1.0).apply([g], w1)
    optimizers.SGD(1.0, clipvalue=3.5).apply([g], w2)
    optimizers.SGD(1.0, global_clipnorm=2.5).apply([g], w3)
    np.testing.assert_allclose(w1[0], [-0.6, -0.8], rtol=1e-15)
    np.testing.assert_allclose(w2[0], [-3.0, -3.5], rtol=1e-15)
    np.testing.assert_allclose(w3[0], [-1.5, -2.0], rtol=1e-15)


# --- dtypes ----------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_preserved(name, dtype):
    weights, grads = make_problem(dtype, steps=2)
    opt = getattr(optimizers, name)(**FULL_OPTIONS.get(name, {}))
    # float64 gradients for float32 weights must not promote anything
    ours = run_minicnn(opt, weights, [[g.astype(np.float64) for g in s] for s in grads])
    assert [w.dtype for w in ours] == [np.dtype(dtype)] * len(SHAPES)
    for key, array in opt.get_state().items():
        if key.startswith("slot/"):
            assert array.dtype == np.dtype(dtype), key
    assert max(np.max(np.abs(a - b)) for a, b in zip(ours, weights)) > 0


def test_updates_in_place_and_leaves_gradients_alone():
    w = np.ones(3, dtype=np.float32)
    g = np.full(3, 2.0, dtype=np.float32)
    same_object = w
    optimizers.Adam(0.1, clipnorm=1.0).apply([g], [w])
    assert same_object is w and w[0] < 1.0
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


# --- state -----------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_state_round_trip_through_npz_continues_identically(name):
    weights, grads = make_problem("float32", steps=6)
    kwargs = FULL_OPTIONS.get(name, {})
    opt = getattr(optimizers, name)(**kwargs)
    weights = run_minicnn(opt, weights, grads[:3])

    buffer = io.BytesIO()
    np.savez(buffer, **opt.get_state())
    buffer.seek(0)
    restored = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    restored.set_state(dict(np.load(buffer)))
    assert restored.iterations == 3

    expected = run_minicnn(opt, weights, grads[3:])
    got = run_minicnn(restored, weights, grads[3:])
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_state_keys_name_slots_by_position():
    opt = optimizers.Adam()
    opt.apply([np.ones(2), np.ones(3)], [np.zeros(2), np.zeros(3)])
    state = opt.get_state()
    assert sorted(state) == ["iterations", "slot/momentum/0", "slot/momentum/1",
                             "slot/velocity/0", "slot/velocity/1"]
    assert int(state["iterations"]) == 1
    np.testing.assert_allclose(state["slot/momentum/1"], [0.1, 0.1, 0.1])


def test_adagrad_accumulator_starts_at_initial_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    opt.apply([np.array([2.0])], [np.array([0.0])])
    assert opt.get_state()["slot/accumulator/0"][0] == pytest.approx(4.25)


# --- config and errors -------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_serialize_round_trip(name):
    opt = getattr(optimizers, name)(learning_rate=0.125, clipnorm=2.0)
    config = json.loads(json.dumps(optimizers.serialize(opt)))
    assert config["class_name"] == name
    again = optimizers.get(config)
    assert type(again) is type(opt) and again.get_config() == opt.get_config()
    assert again.learning_rate == 0.125 and again.clipnorm == 2.0


@pytest.mark.parametrize("text,cls,lr", [("sgd", optimizers.SGD, 0.01),
                                         ("RMSprop", optimizers.RMSprop, 0.001),
                                         ("ADAM", optimizers.Adam, 0.001),
                                         ("adagrad", optimizers.Adagrad, 0.001),
                                         ("adadelta", optimizers.Adadelta, 0.001),
                                         ("adamax", optimizers.Adamax, 0.001),
                                         ("nadam", optimizers.Nadam, 0.001)])
def test_get_by_name_has_keras_defaults(text, cls, lr):
    opt = optimizers.get(text)
    assert type(opt) is cls and opt.learning_rate == lr


def test_get_instance_and_unknown_name():
    opt = optimizers.Adam(0.5)
    assert optimizers.get(opt) is opt and opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="adam.*sgd"):
        optimizers.get("adamw")


@pytest.mark.parametrize("make,quoted", [
    (lambda: optimizers.SGD(learning_rate=-0.1), "-0.1"),
    (lambda: optimizers.SGD(momentum=1.5), "1.5"),
    (lambda: optimizers.RMSprop(rho=2.0), "2.0"),
    (lambda: optimizers.Adam(beta_1=1.0), "1.0"),
    (lambda: optimizers.Adam(epsilon=-1e-7), "-1e-07"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-3), "-3"),
    (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=0.5), "0.5"),
])
def test_bad_hyperparameters_raise_quoting_the_value(make, quoted):
    with pytest.raises(ValueError) as info:
        make()
    assert quoted in str(info.value)


def test_learning_rate_setter_validates():
    opt = optimizers.SGD()
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="-2"):
        opt.learning_rate = -2


def test_variables_must_keep_their_shapes():
    opt = optimizers.SGD(momentum=0.5)
    opt.apply([np.ones(2)], [np.zeros(2)])
    assert opt.iterations == 1
    with pytest.raises(ValueError, match=r"\(3,\)"):
        opt.apply([np.ones(3)], [np.zeros(3)])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([np.ones(2), np.ones(2)], [np.zeros(2)])


def test_set_state_rejects_another_optimizers_state():
    adam = optimizers.Adam()
    adam.apply([np.ones(2)], [np.zeros(2)])
    rms = optimizers.RMSprop()
    with pytest.raises(ValueError, match="slot/momentum/0"):
        rms.set_state(adam.get_state())
    assert rms.iterations == 1  # iterations is read before the slots are checked
    with_momentum = optimizers.RMSprop(momentum=0.5)  # slots: velocity and momentum
    with pytest.raises(ValueError, match=r"received \['velocity'\]"):
        with_momentum.set_state({"iterations": np.array(1), "slot/velocity/0": np.ones(2)})
