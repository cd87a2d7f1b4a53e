"""Drawings of one convolution, window by window and as im2col's matrix product.

Used by ``python -m minicnn.demos.convolution``; the numbers come from
minicnn's own ``kernels.im2col`` (the same call ``Conv2D.forward`` makes).
"""
from collections import namedtuple

import numpy as np
from matplotlib.patches import Rectangle

from .. import kernels
from ._display import finish, new_figure

Unfolded = namedtuple("Unfolded", "padded cols output pads")
Unfolded.__doc__ = """One single-channel convolution, step by step.

padded: (H + pt + pb, W + pl + pr) the input with its zero border
cols:   (OH*OW, f*f) im2col's matrix, one window a row
output: (OH, OW) cols @ kernel.ravel(), reshaped
pads:   (top, bottom, left, right)
"""


def unfold(x, kernel, stride=1, padding="valid"):
    """Convolve a 2-D image with a 2-D kernel through ``kernels.im2col``; an ``Unfolded``."""
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    fh, fw = kernel.shape
    window = kernels.window(x.shape, (fh, fw), (stride, stride), padding=padding)
    padded = np.pad(x, window.padding)
    cols = kernels.im2col(x[None, :, :, None], window)       # (OH*OW, f*f)
    output = (cols @ kernel.reshape(-1)).reshape(window.output_hw)  # (OH*OW, f*f) @ (f*f,) -> (OH, OW)
    return Unfolded(padded, cols, output, window.pads)


def _draw_grid(ax, a, title, cmap="gray", numbers=True, vmin=None, vmax=None):
    """``a`` as coloured cells, optionally with each value written in its cell.

    The text is white on dark cells and black on light ones (by the luminance
    of the cell's colour), so every number stays readable.
    """
    image = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if numbers:
        colours = image.cmap(image.norm(a))                       # (h, w, 4) RGBA
        luminance = colours[..., :3] @ np.array([0.299, 0.587, 0.114])
        for (i, j), v in np.ndenumerate(a):
            v = round(float(v), 1) + 0.0                          # + 0.0: no "-0"
            ax.text(j, i, f"{v:g}" if v.is_integer() else f"{v:.1f}", ha="center",
                    va="center", fontsize=9, color="white" if luminance[i, j] < 0.5 else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def _short(v):
    """An integer as is, anything else with two decimals."""
    v = float(v) + 0.0
    return f"{v:g}" if v.is_integer() else f"{v:.2f}"


def _padding_title(steps):
    h, w = steps.padded.shape
    if not any(steps.pads):
        return f"input {h}x{w} (no padding)"
    pt, pb, pl, pr = steps.pads
    border = f"p = {pt}" if len(set(steps.pads)) == 1 else f"pads {steps.pads}"
    return f"padded input {h}x{w} ({border})"


def plot_convolution_steps(x, kernel, stride=1, padding="valid", positions=None, save=None):
    """One row per window position: input + window, kernel, product, output cell.

    ``positions``: output cells (row, col) to draw; default the first,
    the largest and the smallest output. Numbers are written in the cells when the input is at
    most 12x12. Returns the Figure.
    """
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    steps = unfold(x, kernel, stride, padding)
    oh, ow = steps.output.shape
    fh, fw = kernel.shape
    if positions is None:            # the first window, the strongest and the most negative
        positions = [(0, 0)]
        for flat in (np.argmax(steps.output), np.argmin(steps.output), oh * ow - 1):
            cell = tuple(int(v) for v in np.unravel_index(flat, (oh, ow)))
            if cell not in positions and len(positions) < 3:
                positions.append(cell)
    numbers = max(steps.padded.shape) <= 12
    fig = new_figure(12, 3.0 * len(positions))
    axes = fig.subplots(len(positions), 4, squeeze=False)
    limit = float(np.abs(steps.output).max()) or 1.0
    for row, (i, j) in zip(axes, positions):
        r, c = i * stride, j * stride                          # top-left of the window
        window = steps.padded[r:r + fh, c:c + fw]
        product = window * kernel
        _draw_grid(row[0], steps.padded, f"{_padding_title(steps)}, window at ({r}, {c})",
                   numbers=numbers)
        row[0].add_patch(Rectangle((c - 0.5, r - 0.5), fw, fh, fill=False, edgecolor="red",
                                   linewidth=2.5))
        if any(steps.pads):                                    # where the real image lies
            pt, _, pl, _ = steps.pads
            row[0].add_patch(Rectangle((pl - 0.5, pt - 0.5), x.shape[1], x.shape[0],
                                       fill=False, edgecolor="orange", linestyle="--",
                                       linewidth=1.5))
        _draw_grid(row[1], kernel, "kernel", cmap="RdBu_r", vmin=-np.abs(kernel).max(),
                   vmax=np.abs(kernel).max())
        _draw_grid(row[2], product, f"window * kernel, sum = {_short(product.sum())}",
                   cmap="RdBu_r",
                   vmin=-np.abs(product).max() - 1e-9, vmax=np.abs(product).max() + 1e-9,
                   numbers=fh * fw <= 49)
        _draw_grid(row[3], steps.output, f"output {oh}x{ow}, cell ({i}, {j})", cmap="RdBu_r",
                   vmin=-limit, vmax=limit, numbers=numbers)
        row[3].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red",
                                   linewidth=2.5))
    return finish(fig, save)


def plot_im2col(x, kernel, stride=1, padding="valid", save=None):
    """im2col as a picture: cols (OH*OW, f*f) @ kernel (f*f, 1) = output (OH*OW, 1)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    steps = unfold(x, kernel, stride, padding)
    oh, ow = steps.output.shape
    rows, width = steps.cols.shape
    numbers = rows <= 36
    fig = new_figure(2.0 + 0.32 * (width + 3) + 2.5, 1.5 + 0.22 * rows)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [width, 1.4, 1.4, max(ow, 3)]})
    _draw_grid(axes[0], steps.cols, f"im2col: {rows} windows x {width} values",
               numbers=numbers)
    axes[0].set_aspect("auto")
    _draw_grid(axes[1], kernel.reshape(-1, 1), "@ kernel", cmap="RdBu_r",
               vmin=-np.abs(kernel).max(), vmax=np.abs(kernel).max(), numbers=numbers)
    axes[1].set_aspect("auto")
    limit = float(np.abs(steps.output).max()) or 1.0
    _draw_grid(axes[2], steps.output.reshape(-1, 1), "= output", cmap="RdBu_r",
               vmin=-limit, vmax=limit, numbers=numbers)
    axes[2].set_aspect("auto")
    _draw_grid(axes[3], steps.output, f"reshaped {oh}x{ow}", cmap="RdBu_r", vmin=-limit,
               vmax=limit, numbers=oh * ow <= 64)
    return finish(fig, save)
