"""Conv2D against Keras: output, dx, dkernel and dbias over the parameter grid.

The grid (``minicnn.parity.cases.CONV_CASES``) covers kernels 1x1 to 11x11
(stride 4), strides 1, 2, 3 and (2, 1), 'valid', 'same' (odd and even
kernels) and explicit padding, dilation 2 and (2, 1), with and without bias,
1, 3 and 32 input channels, batch sizes 1 to 4 and every activation.
"""
import pytest

from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.CONV_CASES, ids=lambda c: c.label)
def test_conv2d_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "Conv2D", reference.device)


def test_grid_covers_the_issue_list():
    """The grid keeps every configuration the parity issue asks for."""
    kw = [c.kwargs for c in cases.CONV_CASES]
    kernels = {k["kernel_size"] for k in kw}
    assert {1, 3, 5, (2, 3), 11} <= kernels
    assert {2, 3, (2, 1)} <= {k.get("strides", 1) for k in kw}
    paddings = [k.get("padding", "valid") for k in kw]
    assert "same" in paddings and any(not isinstance(p, str) for p in paddings)
    assert {(k["kernel_size"] % 2) for k in kw if k.get("padding") == "same"
            and isinstance(k["kernel_size"], int)} == {0, 1}
    assert {2, (2, 1)} <= {k.get("dilation_rate", 1) for k in kw}
    assert any(k.get("use_bias") is False for k in kw)
    assert {1, 3, 32} <= {c.input_shape[-1] for c in cases.CONV_CASES}
    assert {1, 4} <= {c.input_shape[0] for c in cases.CONV_CASES}
    assert set(cases.ACTIVATIONS) <= {k.get("activation", "linear") for k in kw}
