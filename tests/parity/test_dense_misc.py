"""Dense, Flatten, ZeroPadding2D, Activation, ReLU and Softmax against Keras."""
import pytest

from minicnn.parity import cases


@pytest.mark.parametrize("case", cases.DENSE_MISC_CASES, ids=lambda c: c.label)
def test_dense_flatten_padding_match_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), case.layer, reference.device)


@pytest.mark.parametrize("case", cases.ACTIVATION_CASES, ids=lambda c: c.label)
def test_activation_layers_match_keras(case, reference, assert_parity):
    group = "Activation" if case.layer == "Activation" else case.layer
    assert_parity(cases.run_layer_case(case, reference), group, reference.device)


def test_every_layer_class_is_in_the_grid():
    """A layer added to minicnn without a parity case fails here."""
    from minicnn.layers import LAYER_CLASSES
    covered = {c.layer for group in cases.LAYER_CASES.values() for c in group}
    covered |= {c.layer for c in cases.DROPOUT_CASES} | {"InputLayer"}
    # the preprocessing layers have their own parity module (Keras draws the random
    # transformation, both apply it): every layer it builds as keras.layers.X counts
    import os
    import re
    with open(os.path.join(os.path.dirname(__file__), "test_preprocessing.py")) as f:
        covered |= set(re.findall(r"keras\.layers\.(\w+)\(", f.read()))
    assert set(LAYER_CLASSES) <= covered, set(LAYER_CLASSES) - covered


@pytest.mark.parametrize("kwargs", [{"threshold": -0.5}, {"max_value": -1.0},
                                    {"negative_slope": -0.1}], ids=str)
def test_relu_rejects_what_keras_rejects(kwargs, reference):
    with pytest.raises(ValueError):
        reference.keras.layers.ReLU(**kwargs)
    from minicnn import layers as L
    with pytest.raises(ValueError, match=str(list(kwargs.values())[0])):
        L.ReLU(**kwargs)
