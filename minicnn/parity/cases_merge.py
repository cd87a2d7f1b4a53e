"""Parity cases of the merge layers (several inputs): Concatenate, Add, Subtract,
Multiply, Average, Maximum.

A merge case is called on a list of random inputs in minicnn and in Keras;
the output and the gradient of *every* input (a vector-Jacobian product with
the same random dy) are compared. The single-input layers added with them
(reshaping, global pooling, advanced activations) are ordinary
``cases.LayerCase`` entries, in ``cases.py``.
"""
from dataclasses import dataclass

import numpy as np

from minicnn import layers as L

from .compare import compare


@dataclass
class MergeCase:
    """One merge layer on inputs of ``input_shapes`` (batch axis included)."""
    layer: str
    kwargs: dict
    input_shapes: tuple
    data: str = "normal"           # "normal", or "ties": small integers, so many ties
    exact: tuple = ()              # which of "output", "dx" must match bit for bit

    @property
    def label(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        shapes = " + ".join("x".join(map(str, s)) for s in self.input_shapes)
        return f"{self.layer}({args}) on {shapes}{', ties' if self.data == 'ties' else ''}"


EXACT = ("output", "dx")
MERGE_CASES = [
    MergeCase("Concatenate", {}, ((2, 4, 4, 3), (2, 4, 4, 5)), exact=EXACT),
    MergeCase("Concatenate", {"axis": 1}, ((2, 3, 4, 2), (2, 5, 4, 2)), exact=EXACT),
    MergeCase("Concatenate", {"axis": 2}, ((2, 3, 1, 2), (2, 3, 4, 2), (2, 3, 2, 2)),
              exact=EXACT),
    MergeCase("Concatenate", {"axis": -2}, ((3, 2, 6), (3, 4, 6)), exact=EXACT),
    MergeCase("Add", {}, ((2, 4, 4, 3), (2, 4, 4, 3)), exact=EXACT),
    MergeCase("Add", {}, ((2, 3, 5), (2, 3, 5), (2, 3, 5)), exact=EXACT),
    MergeCase("Add", {}, ((2, 1, 5), (2, 3, 5)), exact=("output",)),      # broadcast axis 1
    MergeCase("Add", {}, ((2, 5), (2, 3, 5)), exact=("output",)),         # lower rank
    MergeCase("Subtract", {}, ((2, 4, 4, 3), (2, 4, 4, 3)), exact=EXACT),
    MergeCase("Subtract", {}, ((2, 4, 1, 3), (2, 4, 4, 3)), exact=("output",)),
    MergeCase("Multiply", {}, ((2, 4, 4, 3), (2, 4, 4, 3))),
    MergeCase("Multiply", {}, ((2, 3, 5), (2, 3, 5), (2, 3, 5))),
    MergeCase("Multiply", {}, ((2, 3, 1), (2, 3, 5), (2, 1, 5))),
    MergeCase("Average", {}, ((2, 4, 4, 3), (2, 4, 4, 3))),
    MergeCase("Average", {}, ((2, 3, 5), (2, 3, 5), (2, 1, 5))),
    MergeCase("Maximum", {}, ((2, 4, 4, 3), (2, 4, 4, 3)), exact=EXACT),
    MergeCase("Maximum", {}, ((2, 3, 5), (2, 3, 5), (2, 3, 5)), exact=EXACT),
    # ties: the gradient goes to the first input holding the maximum, as tf.maximum's
    MergeCase("Maximum", {}, ((2, 3, 5), (2, 3, 5), (2, 3, 5)), data="ties", exact=EXACT),
    MergeCase("Maximum", {}, ((2, 3, 5), (2, 1, 5)), data="ties", exact=("output",)),
]


def draw_inputs(case, rng):
    if case.data == "ties":      # values in {-1, 0, 1}: most positions tie somewhere
        return [rng.integers(-1, 2, s).astype(np.float32) for s in case.input_shapes]
    return [rng.standard_normal(s).astype(np.float32) for s in case.input_shapes]


def keras_inputs_vjp(reference, layer, xs, dy):
    """Keras's output and the gradient of every input of a weightless layer."""
    if reference.device.startswith("tf"):
        tf = reference.backend_module
        with reference.placement():
            xts, dyt = [tf.constant(x) for x in xs], tf.constant(dy)
            with tf.GradientTape() as tape:
                for xt in xts:
                    tape.watch(xt)
                y = layer(xts)
            grads = tape.gradient(y, xts, output_gradients=dyt)
        return np.asarray(y), [np.asarray(g) for g in grads]
    jax = reference.backend_module
    with reference.placement():
        y, vjp = jax.vjp(lambda *args: layer(list(args)), *[jax.numpy.asarray(x) for x in xs])
        grads = vjp(jax.numpy.asarray(dy))
    return np.asarray(y), [np.asarray(g) for g in grads]


def run_merge_case(case, reference, seed=0):
    """Output and every input's gradient against Keras."""
    rng = np.random.default_rng(seed)
    ours = getattr(L, case.layer)(**case.kwargs, dtype="float32")
    theirs = getattr(reference.keras.layers, case.layer)(**case.kwargs)
    xs = draw_inputs(case, rng)
    ours.build([(None, *s[1:]) for s in case.input_shapes])
    dy = rng.standard_normal(ours.compute_output_shape([x.shape for x in xs]))
    dy = dy.astype(np.float32)
    ref_y, ref_dxs = keras_inputs_vjp(reference, theirs, xs, dy)
    y = ours.forward([x.copy() for x in xs])
    dxs = ours.backward(dy.copy())
    device = reference.device
    results = [compare("output", y, ref_y, "exact" if "output" in case.exact else "forward",
                       device)]
    for i, (dx, ref_dx) in enumerate(zip(dxs, ref_dxs, strict=True)):
        result = compare("dx", dx, ref_dx, "exact" if "dx" in case.exact else "grad", device)
        result.note = f"(input {i}) {result.note}".strip()
        results.append(result)
    return results
