"""plot_activations and plot_kernels draw the model's own numbers."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, viz
from minicnn.viz._display import tile

from .conftest import assert_not_blank


def test_tile_places_images_row_by_row():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    grid = tile(images, per_row=2, gap=1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)            # 3 rows, 2 columns of 2x3 images
    np.testing.assert_array_equal(grid[0:2, 4:7], images[1])
    np.testing.assert_array_equal(grid[6:8, 0:3], images[4])
    assert np.isnan(grid[2]).all() and np.isnan(grid[6:8, 4:7]).all()   # gap, empty cell


def test_plot_activations_shows_every_conv_and_pool_layer(digit_model, mnist):
    _, (x_test, _) = mnist
    fig = viz.plot_activations(digit_model, x_test[0])
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == [
        "conv_a (Conv2D): output 26x26x8 = 5,408 activations",
        "pool_a (MaxPooling2D): output 13x13x8 = 1,352 activations",
        "conv_b (Conv2D): output 11x11x16 = 1,936 activations",
        "pool_b (MaxPooling2D): output 5x5x16 = 400 activations",
    ]
    grids = [ax.images[0].get_array().filled(np.nan) for ax in fig.axes]
    assert grids[0].shape == (26, 8 * 27 - 1)               # 8 channels in one row
    assert grids[2].shape == (11, 16 * 12 - 1)              # 16 channels, 16 a row
    outputs = digit_model.layer_outputs(x_test[:1])
    for grid, (layer, maps) in zip(grids, [outputs[i] for i in (0, 1, 2, 3)]):
        assert np.nanmin(grid) >= 0 and np.nanmax(grid) <= 1
        h, w = maps.shape[1:3]
        first = maps[0, :, :, 0]
        expected = (first - first.min()) / (first.max() - first.min())
        np.testing.assert_allclose(grid[:h, :w], expected, atol=1e-6)
    assert_not_blank(fig)


def test_plot_activations_chosen_layers_and_save(digit_model, mnist, tmp_path):
    _, (x_test, _) = mnist
    path = tmp_path / "sub" / "act.png"
    fig = viz.plot_activations(digit_model, x_test[1, :, :, 0], layers=["conv_b"], per_row=4,
                               save=path)
    assert len(fig.axes) == 1
    assert fig.axes[0].images[0].get_array().shape == (4 * 12 - 1, 4 * 12 - 1)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="not feature maps"):
        viz.plot_activations(digit_model, x_test[0], layers=[-1])


def test_plot_kernels_draws_the_weights(digit_model):
    fig = viz.plot_kernels(digit_model)                      # first conv: 8 kernels 3x3x1
    ax = fig.axes[0]
    grid = ax.images[0].get_array().filled(np.nan)
    kernel = digit_model.layers[0].params["kernel"]          # (3, 3, 1, 8)
    np.testing.assert_allclose(grid[:, 4:7], kernel[:, :, 0, 1])
    low, high = ax.images[0].get_clim()
    assert low == -high == -np.abs(kernel).max()            # symmetric: white means 0
    assert len(ax.texts) == 8 * 9                            # every weight written in
    assert ax.texts[0].get_text() == f"{kernel[0, 0, 0, 0]:.2f}"
    assert_not_blank(fig)
    deeper = viz.plot_kernels(digit_model, 2, channel=3)     # 16 kernels, input channel 3
    assert "input channel 3 of 8" in deeper.axes[0].get_title()
    np.testing.assert_allclose(deeper.axes[0].images[0].get_array()[:3, :3],
                               digit_model.layers[2].params["kernel"][:, :, 3, 0])
    assert len(deeper.axes[0].texts) == 0


def test_plot_kernels_rgb_and_errors(digit_model):
    minicnn.set_random_seed(1)
    rgb = minicnn.Sequential([layers.Input((8, 8, 3)), layers.Conv2D(4, 3)])
    image = viz.plot_kernels(rgb).axes[0].images[0].get_array()
    assert image.shape == (3, 4 * 4 - 1, 3)
    kernel = rgb.layers[0].params["kernel"][..., 2]          # (3, 3, 3) filter 2
    np.testing.assert_allclose(image[:, 8:11], (kernel - kernel.min()) / np.ptp(kernel),
                               atol=1e-6)
    with pytest.raises(ValueError, match="expects a Conv2D layer, received MaxPooling2D"):
        viz.plot_kernels(digit_model, 1)
    with pytest.raises(ValueError, match="has 8 input channels, received channel=8"):
        viz.plot_kernels(digit_model, 2, channel=8)
