"""Every optimizer against the Keras optimizer's ``apply``, on every reference device.

``tests/test_optimizers.py`` checks each optimizer's options against Keras on
the CPU; this grid runs five steps from the same weights and gradients on
every reference device (GPU included), with conv- and dense-shaped weights.
"""
import pytest

from minicnn import optimizers
from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.OPTIMIZER_CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_optimizer_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_optimizer_case(case, reference), f"optimizer {case[0]}",
                  reference.device)


def test_every_optimizer_is_in_the_grid():
    names = {n for n in optimizers.__all__ if n[0].isupper() and n != "Optimizer"}
    assert names == {n for n, _ in cases.OPTIMIZER_CASES}
