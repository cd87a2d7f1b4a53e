"""Grad-CAM and filter patterns: minicnn's backward pass, part of the way."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, viz

from .conftest import assert_not_blank


def stroke_and_background_heat(model, images, layer):
    """Mean Grad-CAM heat on stroke pixels (> 0.3) and on background pixels, per image."""
    heat = []
    for image in images:
        cam = viz.grad_cam_heatmap(model, image, layer=layer).upsampled      # (28, 28)
        stroke = image[..., 0] > 0.3
        heat.append((cam[stroke].mean(), cam[~stroke].mean()))
    return np.array(heat)                                                    # (N, 2)


def test_grad_cam_heat_lies_on_the_strokes(digit_model, mnist):
    """On 20 real test digits the first conv layer's heat sits on the ink.

    (On this small model the last conv layer's map, 11x11 before a Flatten
    head, does not: see the report of issue 6. The test pins the layer where
    the claim holds, with a margin: measured 0.32 vs 0.04.)
    """
    _, (x_test, _) = mnist
    heat = stroke_and_background_heat(digit_model, x_test[:20], "conv_a")
    stroke, background = heat.mean(axis=0)
    assert stroke > 3 * background
    assert (heat[:, 0] > heat[:, 1]).mean() >= 0.8


def test_grad_cam_default_layer_class_and_range(digit_model, mnist):
    _, (x_test, y_test) = mnist
    result = viz.grad_cam_heatmap(digit_model, x_test[0])
    assert result.layer.name == "conv_b"                     # the last Conv2D
    assert result.heatmap.shape == (11, 11) and result.upsampled.shape == (28, 28)
    assert result.class_index == int(np.argmax(result.probabilities)) == y_test[0]
    assert result.heatmap.min() >= 0 and result.heatmap.max() == 1
    assert 0 <= result.upsampled.min() and result.upsampled.max() <= 1
    other = viz.grad_cam_heatmap(digit_model, x_test[0], class_index=3, layer=0)
    assert other.class_index == 3 and other.heatmap.shape == (26, 26)
    with pytest.raises(ValueError, match=r"class_index must be in \[0, 9\], received 10"):
        viz.grad_cam_heatmap(digit_model, x_test[0], class_index=10)


def test_grad_cam_weights_are_the_averaged_gradients():
    """conv -> flatten -> dense: dScore/dA is the dense column, so the map is known."""
    minicnn.set_random_seed(3)
    model = minicnn.Sequential([layers.Input((6, 6, 1)), layers.Conv2D(4, 3, activation="relu"),
                                layers.Flatten(), layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((6, 6, 1)).astype(np.float32)
    result = viz.grad_cam_heatmap(model, x, class_index=2)
    a = model.layer_outputs(x[None])[0][1][0]                # (4, 4, 4)
    grads = model.layers[2].params["kernel"][:, 2].reshape(4, 4, 4)   # d logit_2 / dA
    cam = np.maximum(a @ grads.mean(axis=(0, 1)), 0)
    np.testing.assert_allclose(result.heatmap, cam / cam.max(), rtol=1e-5, atol=1e-6)


def test_grad_cam_matches_tensorflow(digit_model, mnist):
    tf = pytest.importorskip("tensorflow")
    keras = tf.keras
    _, (x_test, _) = mnist
    inputs = keras.Input((28, 28, 1))
    conv_b = keras.layers.Conv2D(16, 3, activation="relu")(
        keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(8, 3, activation="relu")(inputs)))
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(conv_b)))
    twin = keras.Model(inputs, [conv_b, logits])        # the same net, logits out
    twin.set_weights(digit_model.get_weights())
    for image in x_test[:3]:
        with tf.GradientTape() as tape:
            a, logits = twin(image[None])
            score = logits[0, int(np.argmax(logits[0]))]
        g = tape.gradient(score, a)[0].numpy()
        cam = np.maximum(a[0].numpy() @ g.mean(axis=(0, 1)), 0)
        expected = cam / cam.max() if cam.max() > 0 else cam
        np.testing.assert_allclose(viz.grad_cam_heatmap(digit_model, image).heatmap, expected,
                                   atol=2e-5)


def test_grad_cam_figure(digit_model, mnist, tmp_path):
    _, (x_test, _) = mnist
    fig = viz.grad_cam(digit_model, x_test[1], layer="conv_a", save=tmp_path / "cam.png",
                       class_names=[f"digit {d}" for d in range(10)])
    assert len(fig.axes) == 3
    assert fig.axes[1].get_title() == "Grad-CAM on conv_a (26x26)"
    assert fig.get_suptitle().startswith(f"class digit {fig.grad_cam.class_index}: p = ")
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), fig.grad_cam.heatmap)
    assert (tmp_path / "cam.png").stat().st_size > 1000
    assert_not_blank(fig)


def test_filter_patterns_raise_the_activation_step_after_step(digit_model):
    result = viz.maximize_filters(digit_model, "conv_b", filters=8, steps=40)
    assert result.patterns.shape == (8, 28, 28, 1)
    assert result.activations.shape == (41, 8)
    alive = result.activations[0] > 0
    assert alive.sum() >= 6
    rising = np.diff(result.activations[:, alive], axis=0) > 0          # (40, alive)
    assert rising.mean() >= 0.95                                         # step after step
    assert (result.activations[-1, alive] > 3 * result.activations[0, alive]).all()
    silent = ~alive                                  # no gradient through their ReLU at first:
    assert (result.activations[-1, silent] > 0).all()   # they climb z until they fire
    # the numbers recorded are the layer's real mean activations for the patterns
    outputs = digit_model.layer_outputs(result.patterns)
    final = outputs[2][1][np.arange(8), :, :, result.filters].mean(axis=(1, 2))
    np.testing.assert_allclose(result.activations[-1], final, rtol=1e-5)


def test_filter_patterns_other_size_and_figure(digit_model, tmp_path):
    result = viz.maximize_filters(digit_model, 0, filters=[1, 5], size=40, steps=10)
    assert result.patterns.shape == (2, 40, 40, 1) and result.filters == [1, 5]
    assert (result.activations[-1] > result.activations[0]).all()
    fig = viz.filter_patterns(digit_model, "conv_a", filters=4, steps=5,
                              save=tmp_path / "p.png")
    assert [ax.get_title().split("\n")[0] for ax in fig.axes[:4]] == [
        "filter 0", "filter 1", "filter 2", "filter 3"]
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (28, 28) and 0 <= shown.min() and shown.max() <= 1
    assert_not_blank(fig)
    with pytest.raises(ValueError, match="has 8 channels, received filters=\\[8\\]"):
        viz.maximize_filters(digit_model, 0, filters=[8])


def test_heat_map_cells_sit_on_their_receptive_field_centres(digit_model):
    # conv 3x3 valid: +1; pool 2: x2 (+0.5); conv 3x3: +1 cell -> 2u + 1 + 0.5 + 2 = 2u + 3.5
    assert viz.gradients.receptive_field_centres(digit_model, 0) == [(1.0, 1.0)] * 2
    assert viz.gradients.receptive_field_centres(digit_model, 2) == [(2.0, 3.5)] * 2
    cam = np.zeros((11, 11))
    cam[4, 6] = 1.0                                    # one hot cell -> input pixel (11.5, 15.5)
    placed = viz.gradients.place_on_input(digit_model, 2, cam)
    assert placed.shape == (28, 28)
    np.testing.assert_allclose(placed[11:13, 15:17], 0.75 * 0.75)   # a quarter cell off centre
    assert placed[:9].max() == 0 and placed[:, :13].max() == 0
    minicnn.set_random_seed(0)
    padded = minicnn.Sequential([layers.Input((8, 8, 1)), layers.ZeroPadding2D(2),
                                 layers.Conv2D(1, 3, strides=2, padding="same")])
    # 12x12 padded, 'same' stride 2 pads (0, 1): centre = 2u - 0 + 1 - 2 = 2u - 1
    assert viz.gradients.receptive_field_centres(padded, 1) == [(2.0, -1.0)] * 2


def test_a_silent_filter_climbs_until_it_fires():
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([layers.Input((12, 12, 1)), layers.Conv2D(2, 3, activation="relu")])
    kernel, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([kernel, np.array([-3.0, 0.0], np.float32)])   # filter 0: off
    result = viz.maximize_filters(model, 0, filters=2, steps=40)
    assert result.activations[0, 0] == 0                      # silent on the start image
    assert result.activations[-1, 0] > result.activations[-5, 0] > 0   # fires, and rises
    assert (np.diff(result.activations[:, 1]) > 0).all()      # the other rose every step
