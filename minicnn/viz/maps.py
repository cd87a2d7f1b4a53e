"""What each layer sees (feature maps) and what it looks for (kernels)."""
import numpy as np

from ..layers import Conv2D
from ..layers.pooling import Pooling2D
from ._display import as_batch, dims, finish, new_figure, normalize, resolve_layer, tile


def plot_activations(model, image, layers=None, per_row=16, save=None):
    """The feature maps of conv and pooling layers for one input image.

    ``layers``: indices, names or Layer objects; by default every Conv2D and
    pooling layer. Each layer becomes one grid of its channels, ``per_row``
    to a row, each channel stretched to [0, 1] on its own so that faint maps
    stay visible (a channel that is constant, e.g. a dead ReLU, is drawn
    black). Returns the Figure; ``save=PATH`` also writes a PNG.
    """
    outputs = model.layer_outputs(as_batch(model, image))
    if layers is None:
        chosen = [i for i, layer in enumerate(model.layers)
                  if isinstance(layer, (Conv2D, Pooling2D))]
    else:
        chosen = [resolve_layer(model, layer)[0] for layer in layers]
    if not chosen:
        raise ValueError(f"model '{model.name}' has no conv or pooling layer to show")
    grids, titles = [], []
    for i in chosen:
        layer, maps = outputs[i]
        if maps.ndim != 4:
            raise ValueError(f"layer '{layer.name}' outputs shape {maps.shape}, not feature "
                             f"maps (N, H, W, C)")
        channels = maps[0].transpose(2, 0, 1)               # (H, W, C) -> (C, H, W)
        grids.append(tile([normalize(c) for c in channels], per_row))
        titles.append(f"{layer.name} ({type(layer).__name__}): output {dims(maps.shape)}"
                      f" = {maps[0].size:,} activations")
    # Every grid spans the full width; its height follows its aspect ratio.
    ratios = [g.shape[0] / g.shape[1] for g in grids]
    width = 12
    fig = new_figure(width, width * sum(ratios) + 0.45 * len(grids))
    axes = fig.subplots(len(grids), 1, squeeze=False,
                        gridspec_kw={"height_ratios": ratios})[:, 0]
    for ax, grid, title in zip(axes, grids, titles):
        ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_axis_off()
    return finish(fig, save)


def plot_kernels(model, layer=None, channel=None, per_row=16, annotate=None, save=None):
    """The learned kernels of a Conv2D layer as small images.

    A kernel has shape (kh, kw, C, F): F filters, each kh x kw over C input
    channels. With one input channel (or ``channel=c``) each filter is drawn
    as a kh x kw map in a red (positive) / blue (negative) scale shared by all
    filters, so weights compare across filters. With three input channels
    and no ``channel`` each filter is drawn in colour (RGB, stretched).
    ``annotate`` writes the weights into the cells (default: when there are at
    most 8 filters of at most 5x5). ``layer`` defaults to the first Conv2D.
    """
    if layer is None:
        layer = next((l for l in model.layers if isinstance(l, Conv2D)), None)
        if layer is None:
            raise ValueError(f"model '{model.name}' has no Conv2D layer")
    _, layer = resolve_layer(model, layer)
    if not isinstance(layer, Conv2D):
        raise ValueError(f"plot_kernels expects a Conv2D layer, received "
                         f"{type(layer).__name__} '{layer.name}'")
    kernel = layer.params["kernel"]                          # (kh, kw, C, F)
    kh, kw, c, f = kernel.shape
    cols = min(per_row, f)
    rows = -(-f // cols)
    if annotate is None:
        annotate = f <= 8 and kh * kw <= 25
    cell = 0.5 if annotate else 0.2                          # inches per kernel cell
    fig = new_figure(max(4.0, cell * (cols * (kw + 1) - 1) + 1.6),
                     max(1.6, cell * (rows * (kh + 1) - 1) + 0.8))
    ax = fig.subplots()
    ax.set_axis_off()
    if c == 3 and channel is None:
        filters = [normalize(kernel[..., n]) for n in range(f)]   # each (kh, kw, 3), in [0, 1]
        grid = np.stack([tile([fl[..., k] for fl in filters], per_row) for k in range(3)], -1)
        ax.imshow(np.nan_to_num(grid, nan=1.0), interpolation="nearest")
        ax.set_title(f"{layer.name}: {f} filters {kh}x{kw}x3 (RGB)", fontsize=10)
        return finish(fig, save)
    if channel is None:
        channel = 0
    if not 0 <= channel < c:
        raise ValueError(f"layer '{layer.name}' has {c} input channels, received channel={channel}")
    slices = kernel[:, :, channel, :].transpose(2, 0, 1)     # (kh, kw, F) -> (F, kh, kw)
    limit = float(np.abs(slices).max()) or 1.0
    image = ax.imshow(tile(slices, per_row), cmap="RdBu_r", vmin=-limit, vmax=limit,
                      interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8)
    of = f", input channel {channel} of {c}" if c > 1 else ""
    ax.set_title(f"{layer.name}: {f} kernels {kh}x{kw}{of}", fontsize=10)
    if annotate:
        for n in range(f):
            r0, c0 = divmod(n, cols)
            for i in range(kh):
                for j in range(kw):
                    ax.text(c0 * (kw + 1) + j, r0 * (kh + 1) + i, f"{slices[n, i, j]:.2f}",
                            ha="center", va="center", fontsize=7)
    return finish(fig, save)
