"""MaxPooling2D and AveragePooling2D against Keras: output and dx.

2x2/2, overlapping 3x3/2, 3x3/3, non-square windows and strides, 'valid'
and 'same', odd input sizes. Max-pool inputs have no ties, so its output
must match exactly; its dx and the average pool use the gradient tolerance.
"""
import pytest

from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.POOL_CASES, ids=lambda c: c.label)
def test_pooling_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), case.layer, reference.device)
