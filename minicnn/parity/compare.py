"""How two arrays are compared, and how close they must be.

Every tolerance of the parity suite is in ``TOLERANCES`` below, with the row
of docs/keras_semantics.md "Tolerances" it comes from (that page also gives
the upstream reason for each number). A case passes when, for every element,

    |ours - theirs| <= atol + rtol * |theirs|          (numpy.allclose)

Loosening a number here to make a case pass is not allowed: a mismatch is a
bug to find in minicnn (or a TensorFlow behaviour to document and match).
"""
from dataclasses import dataclass

import numpy as np

# kind -> {"cpu": (rtol, atol), "gpu": (rtol, atol)}
TOLERANCES = {
    # docs/keras_semantics.md "Tolerances": "float32 forward vs TF CPU: 1e-4 / 1e-5" and
    # "float32 forward vs TF GPU, TF32 off: 1e-4 / 1e-4" (also used for loss
    # values and batch-norm moving statistics, which are forward results).
    "forward": {"cpu": (1e-4, 1e-5), "gpu": (1e-4, 1e-4)},
    # docs/keras_semantics.md "Tolerances": "max-pool / ReLU / masked dropout forward: exact".
    # Also used for the pure data movers (Flatten, ZeroPadding2D) and for the
    # ReLU / masked-dropout input gradients, which only select or scale by the
    # same float32 constant.
    "exact": {"cpu": (0.0, 0.0), "gpu": (0.0, 0.0)},
    # docs/keras_semantics.md "Tolerances": "float32 gradients vs TF autodiff (CPU / GPU):
    # 1e-4 / 1e-3 (rtol), 1e-5 / 1e-4 (atol)". Also used for the weights after
    # a few train_on_batch steps, whose differences enter through the gradients.
    "grad": {"cpu": (1e-4, 1e-5), "gpu": (1e-3, 1e-4)},
    # docs/keras_semantics.md "Tolerances": "BatchNorm gradients, float32: 1e-3 / 1e-4".
    "batchnorm": {"cpu": (1e-3, 1e-4), "gpu": (1e-3, 1e-4)},
    # docs/keras_semantics.md "Tolerances": "float64 central finite differences (eps 1e-6):
    # 1e-3 / 1e-5".
    "finite_difference": {"cpu": (1e-3, 1e-5), "gpu": (1e-3, 1e-5)},
    # docs/keras_semantics.md "Tolerances": "one optimizer step, float32: 1e-6 / 1e-7".
    "optimizer": {"cpu": (1e-6, 1e-7), "gpu": (1e-6, 1e-7)},
}


def tolerance(kind, device="tf-cpu"):
    """``(rtol, atol)`` for a kind of comparison on a reference device."""
    if kind not in TOLERANCES:
        raise ValueError(f"unknown tolerance kind {kind!r}; expected one of {sorted(TOLERANCES)}")
    return TOLERANCES[kind]["gpu" if device.endswith("gpu") else "cpu"]


@dataclass
class Comparison:
    """One compared array: what it is, the errors measured, and the verdict.

    ``abs_err`` is max |ours - theirs|; ``rel_err`` is the norm-wise relative
    error max |ours - theirs| / max |theirs| (well defined when some entries are
    zero); ``ratio`` is the worst element's error over its allowance
    ``atol + rtol * |theirs|`` (<= 1 passes; inf for a nonzero error where
    nothing is allowed).
    """
    name: str
    kind: str
    abs_err: float
    rel_err: float
    ratio: float
    passed: bool
    note: str = ""

    def __str__(self):
        verdict = "ok" if self.passed else "FAIL"
        return (f"{self.name} [{self.kind}]: abs {self.abs_err:.3g}, rel {self.rel_err:.3g}, "
                f"ratio {self.ratio:.3g} {verdict}{' ' + self.note if self.note else ''}")


def compare(name, ours, theirs, kind, device="tf-cpu"):
    """Compare ``ours`` with the reference ``theirs``; returns a ``Comparison``."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape != theirs.shape:
        return Comparison(name, kind, np.inf, np.inf, np.inf, False,
                          f"shape {ours.shape} != reference shape {theirs.shape}")
    rtol, atol = tolerance(kind, device)
    if ours.size == 0:
        return Comparison(name, kind, 0.0, 0.0, 0.0, True)
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        same = np.array_equal(a, b, equal_nan=True)
        return Comparison(name, kind, 0.0 if same else np.inf, 0.0 if same else np.inf,
                          0.0 if same else np.inf, same, "non-finite values")
    diff = np.abs(a - b)                                     # elementwise
    allowed = atol + rtol * np.abs(b)
    abs_err = float(diff.max())
    scale = float(np.abs(b).max())
    rel_err = abs_err / scale if scale > 0 else (0.0 if abs_err == 0 else np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(diff == 0, 0.0, diff / allowed)    # diff > 0 with allowed 0 -> inf
    ratio = float(ratios.max())
    return Comparison(name, kind, abs_err, rel_err, ratio, bool((diff <= allowed).all()))
