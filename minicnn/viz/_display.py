"""Helpers every plot shares: figures without pyplot, inputs, layers, tiling.

Figures are built from ``matplotlib.figure.Figure`` directly, so no GUI
backend is ever touched: the plots work headless (tests, servers) and never
change the user's pyplot state. ``Figure.savefig`` writes PNGs through Agg.
"""
import os

import numpy as np
from matplotlib.figure import Figure

from ..layers import Conv2D, Layer


def new_figure(width, height):
    """A pyplot-free Figure of ``width`` x ``height`` inches."""
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig, save=None, dpi=100):
    """Save ``fig`` as a PNG when ``save`` is a path (folders are created); return it."""
    if save is not None:
        save = os.fspath(save)
        folder = os.path.dirname(os.path.abspath(save))
        os.makedirs(folder, exist_ok=True)
        fig.savefig(save, dpi=dpi)
    return fig


def as_batch(model, image):
    """One image as a batch of one, shaped like the model's input.

    Accepts (H, W) for a single-channel model, (H, W, C) or (1, H, W, C).
    Integer images are refused by the model itself (scale them first).
    """
    x = np.asarray(image)
    expected = model.input_shape
    if expected is None:
        raise ValueError(f"Model '{model.name}' is not built: give it an Input first")
    if x.ndim == len(expected) - 2 and expected[-1] == 1:
        x = x[..., None]                                # (H, W) -> (H, W, 1)
    if x.ndim == len(expected) - 1:
        x = x[None]                                     # (H, W, C) -> (1, H, W, C)
    if x.ndim != len(expected) or x.shape[0] != 1:
        raise ValueError(f"expected one image of shape {expected[1:]}, received shape "
                         f"{np.shape(image)}")
    return x


def resolve_layer(model, layer):
    """``(index, layer)`` for a layer given as index, name or the Layer itself."""
    if isinstance(layer, Layer):
        for i, candidate in enumerate(model.layers):
            if candidate is layer:
                return i, layer
        raise ValueError(f"layer '{layer.name}' is not part of model '{model.name}'")
    if isinstance(layer, (int, np.integer)):
        if not -len(model.layers) <= layer < len(model.layers):
            raise ValueError(f"model '{model.name}' has {len(model.layers)} layers, "
                             f"received layer index {layer}")
        index = int(layer) % len(model.layers)
        return index, model.layers[index]
    if isinstance(layer, str):
        layer = model.get_layer(layer)
        return model.layers.index(layer), layer
    raise TypeError(f"layer must be an index, a name or a Layer, received {type(layer).__name__}")


def last_conv_index(model):
    """Index of the last Conv2D layer (Grad-CAM's default)."""
    for i in range(len(model.layers) - 1, -1, -1):
        if isinstance(model.layers[i], Conv2D):
            return i
    raise ValueError(f"model '{model.name}' has no Conv2D layer; layers are "
                     f"{[layer.name for layer in model.layers]}")


def dims(shape):
    """"26x26x32" for a shape (batch axis first, left out)."""
    return "x".join(str(d) for d in shape[1:])


def normalize(a):
    """Stretch ``a`` linearly to [0, 1]; a constant array becomes all zeros."""
    a = np.asarray(a, dtype=np.float64)
    low, high = a.min(), a.max()
    return np.zeros_like(a) if high - low < 1e-12 else (a - low) / (high - low)


def tile(images, per_row=16, gap=1, fill=np.nan):
    """Lay out (K, h, w) images in a grid of ``per_row`` columns, one array.

    The gaps (and the empty cells of the last row) are ``fill`` (NaN draws as
    the axes background), so a 64-channel layer becomes one picture of
    4 x 16 small maps instead of 64 separate axes.
    """
    images = np.asarray(images, dtype=np.float64)
    k, h, w = images.shape
    cols = min(per_row, k)
    rows = -(-k // cols)                                # ceil(k / cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill)
    for n in range(k):
        r, c = divmod(n, cols)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = images[n]
    return grid


def show_image(ax, image, title=None, cmap="gray"):
    """Draw an (H, W) or (H, W, 1|3) image without ticks."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    ax.imshow(normalize(image) if image.ndim == 3 else image, cmap=cmap,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
