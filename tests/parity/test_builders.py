"""The zoo's graph builders against Keras (issue: the seeds' other networks): the
whole model's output, loss and gradients at a small input size, and the parameter
counts of the full-size networks, which must equal Keras's own."""
import pytest

from minicnn import zoo
from minicnn.parity import builders


@pytest.mark.parametrize("case", builders.BUILDER_CASES, ids=lambda c: c.label)
def test_builder_matches_keras(case, reference, assert_parity):
    assert_parity(builders.run_builder_case(case, reference), "builders", reference.device)


def test_every_graph_builder_has_a_case():
    graph_builders = {"keras_mnist_functional", "alexnet", "alexnet_small", "small_inception",
                      "vgg16", "vgg19", "small_vgg", "separable_classifier",
                      "conv1d_text_classifier"}
    assert graph_builders <= set(zoo.MODELS)
    assert graph_builders == {c.name for c in builders.BUILDER_CASES}


# The parameter counts of the full-size networks, as keras.applications (VGG) or the
# same code written with keras.layers reports them.
FULL_SIZE = {"vgg16": 138_357_544, "vgg19": 143_667_240, "alexnet": 62_378_344,
             "keras_mnist_functional": 104_202, "small_vgg": 3_453_121,
             "conv1d_text_classifier": 1_315_937}


@pytest.mark.parametrize("name", sorted(FULL_SIZE))
def test_full_size_parameter_counts(name):
    assert zoo.MODELS[name]().count_params() == FULL_SIZE[name]


def test_vgg_counts_equal_keras_applications():
    keras = pytest.importorskip("keras")
    import minicnn
    from minicnn.applications import VGG16, VGG19
    for ours, theirs in ((VGG16, keras.applications.VGG16), (VGG19, keras.applications.VGG19)):
        for kwargs in ({"include_top": False, "input_shape": (32, 32, 3)},
                       {"include_top": False, "pooling": "max", "input_shape": (48, 48, 3)}):
            minicnn.clear_session()
            keras.backend.clear_session()
            m, k = ours(**kwargs), theirs(weights=None, **kwargs)
            assert m.count_params() == k.count_params()
            assert [l.name for l in m.layers[1:]] == [l.name for l in k.layers[1:]]
            assert m.output_shape == k.output_shape
