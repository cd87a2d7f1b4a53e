"""Conv1D and 1-D pooling, DepthwiseConv2D / SeparableConv2D, Conv2DTranspose,
Embedding and local response normalization against Keras (output, dx and
every weight gradient).

The grids (``minicnn.parity.cases``: CONV1D_CASES, ...) cover strides, "valid" / "same" /
"causal" padding, dilation (with strides too, for the depthwise layers, as
Keras 3 allows), depth multipliers 1-3, output_padding, with and without
bias, and the activations. Keras has no LRN layer: that reference is
``tf.nn.local_response_normalization`` (TensorFlow only). Drawn geometries
(hypothesis) follow the grids.
"""
import pytest
from hypothesis import assume, given, settings, strategies as st

from minicnn.parity import cases, cases_conv


@pytest.mark.parametrize("case", cases.CONV1D_CASES, ids=lambda c: c.label)
def test_conv1d_and_pooling1d_match_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "conv1d", reference.device)


@pytest.mark.parametrize("case", cases.DEPTHWISE_SEPARABLE_CASES, ids=lambda c: c.label)
def test_depthwise_and_separable_match_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "depthwise_separable",
                  reference.device)


@pytest.mark.parametrize("case", cases.CONV_TRANSPOSE_CASES, ids=lambda c: c.label)
def test_conv2d_transpose_matches_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "conv_transpose", reference.device)


@pytest.mark.parametrize("case", cases.EMBEDDING_CASES, ids=lambda c: c.label)
def test_embedding_matches_keras(case, reference, assert_parity):
    assert_parity(cases_conv.run_embedding_case(case, reference), "embedding",
                  reference.device)


@pytest.mark.parametrize("case", cases.LRN_CASES, ids=lambda c: c.label)
def test_lrn_matches_tf_nn_local_response_normalization(case, reference, assert_parity):
    if not reference.device.startswith("tf"):
        pytest.skip(cases_conv.LRN_TF_ONLY)
    assert_parity(cases_conv.run_lrn_case(case, reference), "lrn", reference.device)


def test_grids_cover_the_issue_list():
    conv1d = [c.kwargs for c in cases.CONV1D_CASES if c.layer == "Conv1D"]
    assert {"valid", "same", "causal"} <= {k.get("padding", "valid") for k in conv1d}
    assert {2, 3} <= {k.get("strides", 1) for k in conv1d}
    assert any(k.get("dilation_rate", 1) > 1 and k.get("padding") == "causal" for k in conv1d)
    assert any(k.get("use_bias") is False for k in conv1d)
    assert {"MaxPooling1D", "AveragePooling1D"} <= {c.layer for c in cases.CONV1D_CASES}
    dw = [c for c in cases.DEPTHWISE_SEPARABLE_CASES]
    assert {"DepthwiseConv2D", "SeparableConv2D"} == {c.layer for c in dw}
    for layer in ("DepthwiseConv2D", "SeparableConv2D"):
        kw = [c.kwargs for c in dw if c.layer == layer]
        assert {1, 2} <= {k.get("depth_multiplier", 1) for k in kw}
        assert any(k.get("dilation_rate", 1) != 1 for k in kw)
        assert any(k.get("strides", 1) != 1 and k.get("dilation_rate", 1) != 1 for k in kw)
        assert any(k.get("use_bias") is False for k in kw)
        assert {"valid", "same"} <= {k.get("padding", "valid") for k in kw}
    tr = [c.kwargs for c in cases.CONV_TRANSPOSE_CASES]
    assert any(k.get("output_padding") is not None and k.get("padding") == "same" for k in tr)
    assert any(k.get("output_padding") is not None and "padding" not in k for k in tr)
    assert {1, 2, 3, (2, 1)} <= {k.get("strides", 1) for k in tr}
    assert any(k.get("use_bias") is False for k in tr)
    assert {"int32", "int64"} == {c.dtype for c in cases.EMBEDDING_CASES}
    assert {0, 5} <= {c.kwargs.get("depth_radius", 5) for c in cases.LRN_CASES}


# -- drawn geometries against Keras --------------------------------------------------------
@settings(max_examples=8)
@given(data=st.data())
def test_drawn_conv1d_matches_keras(data, reference, assert_parity):
    k, s = data.draw(st.integers(1, 5), "k"), data.draw(st.integers(1, 3), "s")
    d = data.draw(st.integers(1, 3), "d") if s == 1 else 1
    padding = data.draw(st.sampled_from(["valid", "same", "causal"]), "padding")
    n = data.draw(st.integers(d * (k - 1) + 1 if padding == "valid" else 1, 14), "n")
    kwargs = {"filters": data.draw(st.integers(1, 4)), "kernel_size": k, "strides": s,
              "dilation_rate": d, "padding": padding}
    case = cases.LayerCase("Conv1D", kwargs, (data.draw(st.integers(1, 3)), n,
                                              data.draw(st.integers(1, 4))))
    assert_parity(cases.run_layer_case(case, reference), "conv1d (hypothesis)",
                  reference.device)


@settings(max_examples=8)
@given(data=st.data())
def test_drawn_depthwise_matches_keras(data, reference, assert_parity):
    k = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    s = data.draw(st.integers(1, 3), "s")            # TensorFlow: equal strides on both axes
    d = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = data.draw(st.sampled_from(["valid", "same"]), "padding")
    hw = tuple(data.draw(st.integers(dd * (kk - 1) + 1 if padding == "valid" else 1, 9))
               for kk, dd in zip(k, d))
    layer = data.draw(st.sampled_from(["DepthwiseConv2D", "SeparableConv2D"]), "layer")
    kwargs = {"kernel_size": k, "strides": s, "dilation_rate": d, "padding": padding,
              "depth_multiplier": data.draw(st.integers(1, 3))}
    if layer == "SeparableConv2D":
        kwargs["filters"] = data.draw(st.integers(1, 4))
    case = cases.LayerCase(layer, kwargs, (data.draw(st.integers(1, 3)), *hw,
                                           data.draw(st.integers(1, 4))))
    assert_parity(cases.run_layer_case(case, reference), "depthwise_separable (hypothesis)",
                  reference.device)


@settings(max_examples=8)
@given(data=st.data())
def test_drawn_conv2d_transpose_matches_keras(data, reference, assert_parity):
    k = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    padding = data.draw(st.sampled_from(["valid", "same"]), "padding")
    p = data.draw(st.one_of(st.none(), st.tuples(st.integers(0, s[0] - 1),
                                                  st.integers(0, s[1] - 1))), "output_padding")
    if padding == "same" and p is not None:   # TensorFlow (and minicnn) refuse k % 2 + p == 0
        assume(all(kk % 2 + pp > 0 for kk, pp in zip(k, p)))
    kwargs = {"filters": data.draw(st.integers(1, 4)), "kernel_size": k, "strides": s,
              "padding": padding, "output_padding": p}
    case = cases.LayerCase("Conv2DTranspose", kwargs,
                           (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5)),
                            data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))))
    assert_parity(cases.run_layer_case(case, reference), "conv_transpose (hypothesis)",
                  reference.device)
