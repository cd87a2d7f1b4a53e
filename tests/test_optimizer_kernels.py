"""The fused optimizer updates (optim_jit.py) against their NumPy twins (optim_reference.py).

The NumPy twin is the rule each optimizer had before the fused kernels, and
the one that matches Keras (tests/test_optimizers.py). The fused kernel must
give the same bits: every value, +0 and -0 included, after several steps,
for float32 and float64, on one thread and split across the cores, with NaN,
inf, denormal and huge values in the gradients, the weights and the slots.
Only the sign and payload of a NaN may differ (neither NumPy nor LLVM keeps
them); where NumPy has a NaN, the kernel has one.
"""
import inspect
import re
import threading

import numba
import numpy as np
import pytest

import minicnn
import minicnn.kernels as k
from minicnn import optimizers
from minicnn.kernels import jit, optim_jit, optim_reference

pytestmark = pytest.mark.filterwarnings(
    "ignore:(invalid value|overflow|divide by zero):RuntimeWarning")

DTYPES = [np.float32, np.float64]
STEPS = 4


@pytest.fixture(params=["serial", "parallel"])
def path(request, monkeypatch):
    """Run the kernels on one thread, or split every variable across the cores."""
    monkeypatch.setattr(optim_jit, "SERIAL_BELOW", 1 << 62 if request.param == "serial" else 0)
    return request.param


def special(r, shape, dtype, share=0.15):
    """Standard normal values with `share` of them NaN, +-inf, +-0, denormal or huge."""
    tiny, big = np.finfo(dtype).tiny / 8, np.finfo(dtype).max / 4
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, big, -big], dtype)
    a = np.asarray(r.standard_normal(shape)).astype(dtype)
    mask = r.random(shape) < share
    a[mask] = r.choice(values, int(mask.sum()))
    return a


def assert_same_bits(got, want):
    got, want = np.asarray(got), np.asarray(want)
    np.testing.assert_array_equal(got, want)           # NaN where NumPy has NaN
    assert got.dtype == want.dtype
    numbers = ~np.isnan(want) if want.dtype.kind == "f" else np.ones(want.shape, bool)
    unsigned = np.dtype(f"u{want.itemsize}")
    np.testing.assert_array_equal(got.reshape(-1).view(unsigned)[numbers.reshape(-1)],
                                  want.reshape(-1).view(unsigned)[numbers.reshape(-1)])


# kernel -> (slot arguments as (name, used) pairs, numbers of one step)
KERNEL_CASES = {
    "sgd_update": [((("v", False),), dict(lr=0.01, momentum=0.0, nesterov=False)),
                   ((("v", True),), dict(lr=0.1, momentum=0.9, nesterov=False)),
                   ((("v", True),), dict(lr=0.1, momentum=0.9, nesterov=True))],
    "rmsprop_update": [
        ((("v", True), ("a", centered), ("m", momentum)),
         dict(lr=0.001, rho=0.9, one_minus_rho=0.1, epsilon=1e-7, momentum=0.5 * momentum))
        for centered in (False, True) for momentum in (False, True)],
    "adam_update": [((("m", True), ("v", True), ("v_hat", amsgrad)),
                     dict(alpha=3e-4, one_minus_beta_1=0.1, one_minus_beta_2=0.001, epsilon=eps))
                    for amsgrad in (False, True) for eps in (1e-7, 0.0)],
    "adagrad_update": [((("s", True),), dict(lr=0.01, epsilon=1e-7)),
                       ((("s", True),), dict(lr=0.01, epsilon=0.0))],
    "adadelta_update": [((("grad_sq", True), ("delta_sq", True)),
                         dict(lr=1.0, rho=0.95, one_minus_rho=0.05, epsilon=1e-7))],
    "adamax_update": [((("m", True), ("u", True)),
                       dict(lr=0.002, one_minus_beta_1=0.1, beta_2=0.999,
                            one_minus_beta_1_power=0.19, epsilon=1e-7))],
    "nadam_update": [((("m", True), ("v", True)),
                      dict(lr=0.001, one_minus_beta_1=0.1, one_minus_beta_2=0.001, mu_next=0.9,
                           one_minus_u_product_next=0.2, one_minus_mu_t=0.1,
                           one_minus_u_product=0.15, one_minus_beta_2_power=0.002, epsilon=1e-7))],
}
CASES = [(name, slots, numbers) for name, cases in KERNEL_CASES.items()
         for slots, numbers in cases]


def _twin_arguments(slots, numbers, shape, dtype, seed):
    """Two identical argument dicts (w, g, slots, numbers cast to dtype)."""
    r = np.random.default_rng(seed)
    arrays = {"w": special(r, shape, dtype)}
    for name, used in slots:
        arrays[name] = special(r, shape, dtype) if used else None
    cast = {key: (value if isinstance(value, bool) else dtype(value))
            for key, value in numbers.items()}
    copies = [{key: None if a is None else a.copy() for key, a in arrays.items()}
              for _ in range(2)]
    return [{**c, **cast} for c in copies], r


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, slots, numbers", CASES)
def test_fused_kernel_gives_the_bits_of_the_numpy_rule(name, slots, numbers, dtype, path):
    for shape, seed in (((1000,), 0), ((7, 5), 1), ((3, 3, 2, 4), 2), ((), 3), ((0, 4), 4)):
        (fused, numpy_rule), r = _twin_arguments(slots, numbers, shape, dtype, seed)
        for _ in range(STEPS):
            g = special(r, shape, dtype)
            getattr(optim_jit, name)(g=g, **fused)
            getattr(optim_reference, name)(g=g, **numpy_rule)
            for key, want in numpy_rule.items():
                if isinstance(want, np.ndarray):
                    assert_same_bits(fused[key], want)


# Every option of every optimizer, as the optimizers call the kernels.
OPTIMIZER_CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5}), ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.9, "learning_rate": 0.01}),
    ("Adam", {}), ("Adam", {"amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}),
    ("Adagrad", {}), ("Adadelta", {"learning_rate": 1.0}), ("Adamax", {}), ("Nadam", {}),
]


def _train(backend, name, options, dtype, special_values):
    """Weights and optimizer state after a few steps of `name` on `backend`."""
    r = np.random.default_rng(7)
    draw = ((lambda shape: special(r, shape, dtype)) if special_values else
            (lambda shape: r.standard_normal(shape).astype(dtype)))
    shapes = [(3, 3, 2, 4), (4,), (300, 7)]
    weights = [draw(s) for s in shapes]
    steps = [[draw(s) for s in shapes] for _ in range(5)]
    optimizer = getattr(optimizers, name)(**options)
    previous = minicnn.backend.backend()
    minicnn.set_backend(backend)
    try:
        for grads in steps:
            optimizer.apply(grads, weights)
    finally:
        minicnn.set_backend(previous)
    return weights, optimizer.get_state()


@pytest.mark.parametrize("special_values", [False, True], ids=["normal", "special"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, options", OPTIMIZER_CASES)
def test_every_optimizer_trains_the_same_on_both_backends(name, options, dtype,
                                                          special_values, path):
    fused_weights, fused_state = _train("numba", name, options, dtype, special_values)
    numpy_weights, numpy_state = _train("numpy", name, options, dtype, special_values)
    for got, want in zip(fused_weights, numpy_weights):
        assert_same_bits(got, want)
    assert fused_state.keys() == numpy_state.keys()
    for key, want in numpy_state.items():
        assert_same_bits(fused_state[key], want)


@pytest.mark.parametrize("layout", ["fortran", "strided view", "float16"])
def test_other_layouts_and_dtypes_take_the_numpy_rule(layout):
    def variable():
        values = np.random.default_rng(3).standard_normal((12, 10))
        if layout == "fortran":
            return np.asfortranarray(values.astype(np.float32))
        if layout == "strided view":
            return values.astype(np.float32)[::2, ::2]
        return values.astype(np.float16)
    fused, numpy_rule = variable(), variable()
    dtype = fused.dtype.type
    g = np.random.default_rng(4).standard_normal(fused.shape).astype(dtype)
    numbers = [dtype(x) for x in (1e-3, 0.1, 0.001, 1e-7)]
    fused_slots = [np.zeros_like(fused), np.zeros_like(fused)]
    numpy_slots = [np.zeros_like(fused), np.zeros_like(fused)]
    for _ in range(3):
        optim_jit.adam_update(fused, g, *fused_slots, None, *numbers)
        optim_reference.adam_update(numpy_rule, g, *numpy_slots, None, *numbers)
    for got, want in zip([fused] + fused_slots, [numpy_rule] + numpy_slots):
        assert_same_bits(np.ascontiguousarray(got), np.ascontiguousarray(want))
    assert not np.array_equal(fused, variable())                 # the view itself was updated


def test_a_split_batch_worker_runs_the_update_on_its_one_thread(monkeypatch):
    monkeypatch.setattr(optim_jit, "SERIAL_BELOW", 0)   # would split across the cores
    r = np.random.default_rng(4)
    w, g = r.standard_normal(5000).astype(np.float32), r.standard_normal(5000).astype(np.float32)
    numpy_rule = [w.copy(), np.zeros_like(w)]
    optim_reference.adagrad_update(*numpy_rule[:1], g, numpy_rule[1], np.float32(0.01),
                                   np.float32(1e-7))
    seen = {}

    def worker():
        jit.one_thread(True)
        try:
            fused = [w.copy(), np.zeros_like(w)]
            optim_jit.adagrad_update(fused[0], g, fused[1], np.float32(0.01), np.float32(1e-7))
            seen["threads"], seen["result"] = numba.get_num_threads(), fused
        finally:
            jit.one_thread(False)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["threads"] == 1
    for got, want in zip(seen["result"], numpy_rule):
        assert_same_bits(got, want)


def test_small_variables_take_the_serial_twin_large_ones_every_core(monkeypatch):
    monkeypatch.setattr(optim_jit, "SERIAL_BELOW", 1000)
    jit.restore_threads()                               # this thread's count, as it was
    every_core = numba.get_num_threads()
    calls = []
    for twin in ("serial", "parallel"):
        compiled = getattr(optim_jit._sgd, twin)
        monkeypatch.setattr(optim_jit._sgd, twin,
                            lambda *a, _c=compiled, _t=twin: calls.append(_t) or _c(*a))
    lr, zero = np.float32(0.5), np.float32(0)
    small, large = np.ones(999, np.float32), np.ones(1000, np.float32)
    try:
        optim_jit.sgd_update(small, small.copy(), None, lr, zero, False)
        optim_jit.sgd_update(large, large.copy(), None, lr, zero, False)
        assert numba.get_num_threads() == every_core    # the parallel twin had every core
        optim_jit.sgd_update(small, small.copy(), None, lr, zero, False)
    finally:
        jit.restore_threads()
    assert numba.get_num_threads() == every_core
    assert calls == ["serial", "parallel", "serial"]
    np.testing.assert_array_equal(small, np.full(999, 0.25, np.float32))  # 1 -> 0.5 -> 0.25
    np.testing.assert_array_equal(large, np.full(1000, 0.5, np.float32))


@pytest.mark.slow
def test_the_compiled_kernels_fuse_no_multiply_add(monkeypatch):
    """fastmath stays off, so LLVM keeps every rounding of a * b + c (an FMA would
    round once and change the last bit of some results). Compiled afresh here:
    Numba shows no machine code for a kernel loaded from its disk cache."""
    fused_ops = re.compile(r"\b(v?fn?m(add|sub)\w*|fml[as])\b", re.IGNORECASE)
    for twin, serial_below in (("serial", 2**62), ("parallel", 0)):
        monkeypatch.setattr(optim_jit, "SERIAL_BELOW", serial_below)     # force this twin
        for name in k.OPTIMIZER_KERNELS:
            kernel = getattr(optim_jit, "_" + name[:-len("_update")])
            options = {key: value for key, value in getattr(kernel, twin).targetoptions.items()
                       if key != "nopython"}             # njit's own, refused twice
            fresh = numba.njit(**options)(getattr(kernel, twin).py_func)
            monkeypatch.setattr(kernel, twin, fresh)
            for dtype in DTYPES:
                (fused, _), _ = _twin_arguments(*KERNEL_CASES[name][-1], (8,), dtype, 0)
                getattr(optim_jit, name)(g=np.ones(8, dtype), **fused)
            assert len(fresh.signatures) == 2, (twin, name)
            for asm in fresh.inspect_asm().values():
                assert "div" in asm or name == "sgd_update", name     # the kernel's own code
                assert not fused_ops.search(asm), (twin, name, fused_ops.search(asm).group(0))
    jit.restore_threads()


def test_optimizer_kernels_are_dispatch_functions_with_twins_of_one_signature():
    for name in k.OPTIMIZER_KERNELS:
        fn = getattr(k, name)
        assert inspect.getsource(fn).startswith(f"def {name}("), name
        assert fn.__module__ == "minicnn.kernels", name
        assert re.search(r"\(any shape\)", fn.__doc__), name
        ours = list(inspect.signature(fn).parameters)
        for twin in (optim_reference, optim_jit):
            assert list(inspect.signature(getattr(twin, name)).parameters) == ours, (twin, name)
    assert not set(k.OPTIMIZER_KERNELS) & set(k.KERNELS)


def test_the_numpy_backend_runs_the_numpy_rule():
    previous = minicnn.backend.backend()
    try:
        minicnn.set_backend("numpy")
        assert k.optim_implementation() is optim_reference
        minicnn.set_backend("numba")
        assert k.optim_implementation() is optim_jit
    finally:
        minicnn.set_backend(previous)
