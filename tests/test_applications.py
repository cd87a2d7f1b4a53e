"""minicnn.applications against keras.applications: the same layers (names, order,
parameter counts), the same outputs and gradients for the same weights, and the
same preprocessing; decode_predictions with the shipped ImageNet class index."""
import hashlib
import os

import numpy as np
import pytest

import minicnn
from minicnn.applications import imagenet_utils, inception_v3, vgg16, vgg19

keras = pytest.importorskip("keras", reason="the reference is keras.applications")


def _pair(ours, theirs, **kwargs):
    minicnn.clear_session()
    keras.backend.clear_session()
    return ours(**kwargs), theirs(weights=None, **kwargs)


def test_inception_v3_layers_counts_outputs_and_gradients_match_keras():
    tf = pytest.importorskip("tensorflow")
    ours, theirs = _pair(minicnn.applications.InceptionV3, keras.applications.InceptionV3,
                         include_top=True, input_shape=(75, 75, 3), classes=7)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    rng = np.random.default_rng(0)
    weights = []
    for w, v in zip(theirs.get_weights(), theirs.weights):
        if "variance" in v.path:
            weights.append(rng.uniform(0.5, 1.5, w.shape).astype(np.float32))
        else:
            weights.append((rng.standard_normal(w.shape) * (0.1 if w.ndim < 2 else
                            np.sqrt(2 / np.prod(w.shape[:-1])))).astype(np.float32))
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = rng.random((2, 75, 75, 3), dtype=np.float32)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-4,
                               atol=1e-5)
    y = np.array([1, 5])
    ours.compile("sgd", "sparse_categorical_crossentropy")
    loss, grads = ours.compute_gradients(x, y, training=False)
    with tf.GradientTape() as tape:
        tloss = keras.losses.SparseCategoricalCrossentropy()(y, theirs(x, training=False))
    tgrads = tape.gradient(tloss, theirs.trainable_weights)
    np.testing.assert_allclose(loss, float(tloss), rtol=1e-4)
    for g, t in zip(grads, tgrads):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"include_top": False},
                                    {"include_top": False, "pooling": "avg"}])
def test_inception_v3_full_size_counts(kwargs):
    assert minicnn.applications.InceptionV3(**kwargs).count_params() == \
        {(): 23_851_784}.get(tuple(kwargs), 21_802_784)


@pytest.mark.parametrize("module,theirs", [
    (vgg16, "vgg16"), (vgg19, "vgg19"), (inception_v3, "inception_v3")])
def test_preprocess_input_matches_keras(module, theirs):
    x = np.random.default_rng(1).uniform(0, 255, (2, 5, 5, 3)).astype(np.float32)
    reference = getattr(keras.applications, theirs).preprocess_input(x.copy())
    np.testing.assert_allclose(module.preprocess_input(x), np.asarray(reference), rtol=1e-6,
                               atol=1e-4)


def test_imagenet_class_index_is_kerass_file_and_decodes():
    path = os.path.join(os.path.dirname(imagenet_utils.__file__), "data",
                        "imagenet_class_index.json")
    with open(path, "rb") as f:            # the md5 keras.applications checks its copy with
        assert hashlib.md5(f.read()).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"
    preds = np.zeros((2, 1000), np.float32)
    preds[0, [281, 285, 207]] = [0.2, 0.7, 0.1]
    preds[1, 999] = 1.0
    decoded = vgg16.decode_predictions(preds, top=2)
    assert [(w, n) for w, n, _ in decoded[0]] == [("n02124075", "Egyptian_cat"),
                                                  ("n02123045", "tabby")]
    assert decoded[1][0][:2] == ("n15075141", "toilet_tissue")
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        vgg16.decode_predictions(np.zeros((2, 10)))


def test_weights_imagenet_is_refused_with_a_way_out():
    with pytest.raises(ValueError, match="ships no pretrained weights"):
        minicnn.applications.VGG16(weights="imagenet", include_top=False,
                                   input_shape=(32, 32, 3))
