"""Pictures made with gradients: Grad-CAM heat maps and filter patterns.

Both run minicnn's own backward pass, only part of the way:

* Grad-CAM asks "which places of the last feature maps raised this class
  score?": forward the whole model, then backward from the class score down
  to the conv layer's output only.
* A filter pattern asks "what input makes this filter fire?": forward up to
  the conv layer, backward from its mean activation down to the input image,
  and step the image up that gradient (gradient ascent), 40 times.
"""
from collections import namedtuple

import numpy as np

from ..layers import Conv2D, ZeroPadding2D
from ..layers.pooling import Pooling2D
from ..sequential import Sequential
from ._display import (as_batch, finish, last_conv_index, new_figure, normalize,
                       resolve_layer, show_image)

GradCam = namedtuple("GradCam", "heatmap upsampled class_index probabilities layer")
GradCam.__doc__ = """Result of ``grad_cam_heatmap``.

heatmap:       (h, w) in [0, 1] at the conv layer's resolution
upsampled:     (H, W) the same, placed on the input image (see ``place_on_input``)
class_index:   the class explained
probabilities: (classes,) the model's output for the image
layer:         the conv layer whose feature maps were weighted
"""

FilterPatterns = namedtuple("FilterPatterns", "patterns activations filters layer")
FilterPatterns.__doc__ = """Result of ``maximize_filters``.

patterns:    (F, H, W, C) the input images found by gradient ascent
activations: (steps + 1, F) each filter's mean activation before every step and at the end
filters:     the F filter indices
layer:       the conv layer
"""


def grad_cam_heatmap(model, image, class_index=None, layer=None):
    """Grad-CAM (Selvaraju et al. 2017) for one image; returns a ``GradCam``.

    With A (h, w, K) the output of the conv ``layer`` (default: the last
    Conv2D) and S the score of ``class_index`` (default: the predicted
    class; for a softmax output S is the logit before the softmax):

        alpha_k = mean over (h, w) of dS/dA_k      # how much channel k helps
        cam     = ReLU(sum_k alpha_k * A_k)        # (h, w)
        cam     = cam / cam.max()                  # in [0, 1]

    The backward pass writes ``layer.grads`` of the layers above the conv
    layer as a side effect (no weight changes).
    """
    x = as_batch(model, image)
    i = last_conv_index(model) if layer is None else resolve_layer(model, layer)[0]
    outputs = model.layer_outputs(x)
    features = outputs[i][1]                                  # (1, h, w, K)
    if features.ndim != 4:
        raise ValueError(f"Grad-CAM needs feature maps (N, H, W, C); layer "
                         f"'{model.layers[i].name}' outputs shape {features.shape}")
    probabilities = outputs[-1][1][0]                         # (classes,)
    if probabilities.ndim != 1:
        raise ValueError(f"Grad-CAM needs a model whose output is (batch, classes), "
                         f"received output shape {outputs[-1][1].shape}")
    if class_index is None:
        class_index = int(np.argmax(probabilities))
    if not 0 <= class_index < probabilities.size:
        raise ValueError(f"class_index must be in [0, {probabilities.size - 1}], "
                         f"received {class_index}")
    dy = np.zeros_like(outputs[-1][1])                        # (1, classes)
    dy[0, class_index] = 1                                    # d(score)/d(output)
    # For a softmax output dy is taken with respect to the pre-softmax logits:
    # the raw class score, as in the Grad-CAM paper, whose gradient does not
    # vanish when the softmax saturates at p = 1.
    from_logits = model.output_activation == "softmax"
    grads = model.backward(dy, from_logits=from_logits, down_to=i)[0]   # (h, w, K) = dS/dA
    alpha = grads.mean(axis=(0, 1))                           # (K,)
    cam = np.maximum(features[0] @ alpha, 0)                  # (h, w, K) @ (K,) -> (h, w)
    peak = cam.max()
    cam = cam / peak if peak > 0 else np.zeros_like(cam)
    upsampled = np.clip(place_on_input(model, i, cam), 0, 1)  # (H, W)
    return GradCam(cam, upsampled, class_index, probabilities, model.layers[i])


def receptive_field_centres(model, i):
    """Where the output cells of layer i sit on the input: ``((a_h, b_h), (a_w, b_w))``.

    Cell u of layer i is centred on input pixel ``a * u + b`` along each axis.
    Every conv or pooling layer with window k, dilation d, stride s and
    padding p before the data maps cell u to the window centre
    ``s * u - p + d * (k - 1) / 2`` of its own input; composing the layers
    from the input up gives a and b. A 3x3 'valid' conv, for example, shifts
    the centres by one pixel, and 2x2 pooling doubles the spacing.
    """
    shape = model.input_shape[1:3]
    axes = [(1.0, 0.0), (1.0, 0.0)]                           # input pixel u sits at u
    for layer in model.layers[:i + 1]:
        if isinstance(layer, (Conv2D, Pooling2D)):
            window = layer.window(shape)
            before = window.pads[0], window.pads[2]
            axes = [(a * s, b + a * (d * (k - 1) / 2 - p)) for (a, b), k, s, d, p
                    in zip(axes, window.size, window.strides, window.dilation, before)]
        elif isinstance(layer, ZeroPadding2D):
            axes = [(a, b - a * p) for (a, b), (p, _) in zip(axes, layer.padding)]
        elif len(layer.output_shape) != 4:
            raise ValueError(f"layer '{layer.name}' (before layer {i}) is not spatial; "
                             f"cannot place layer {i}'s map on the input")
        shape = layer.output_shape[1:3]
    return axes


def place_on_input(model, i, cam):
    """Layer i's map (h, w) drawn on the input grid (H, W), each cell at its window's centre.

    Linear interpolation between cell centres, held constant beyond the
    outermost ones. (A plain resize would stretch the map over the whole
    image and shift it by up to half a receptive field near the borders.)
    """
    (ah, bh), (aw, bw) = receptive_field_centres(model, i)
    height, width = model.input_shape[1:3]
    rows = (np.arange(height) - bh) / ah                     # input pixel -> cell coordinate
    cols = (np.arange(width) - bw) / aw
    h, w = cam.shape
    by_rows = np.stack([np.interp(rows, np.arange(h), cam[:, j]) for j in range(w)], 1)
    return np.stack([np.interp(cols, np.arange(w), r) for r in by_rows])   # (H, W)


def grad_cam(model, image, class_index=None, layer=None, class_names=None, save=None):
    """Draw the image, its Grad-CAM heat map and the two overlaid; returns the Figure.

    See ``grad_cam_heatmap`` for the computation (``fig.grad_cam`` keeps its
    result for whoever wants the numbers).
    """
    result = grad_cam_heatmap(model, image, class_index, layer)
    picture = as_batch(model, image)[0]                       # (H, W, C)
    name = (class_names[result.class_index] if class_names is not None
            else str(result.class_index))
    p = result.probabilities[result.class_index]
    fig = new_figure(9, 3.4)
    axes = fig.subplots(1, 3)
    show_image(axes[0], picture, "input")
    h, w = result.heatmap.shape
    axes[1].imshow(result.heatmap, cmap="jet", vmin=0, vmax=1, interpolation="nearest")
    axes[1].set_title(f"Grad-CAM on {result.layer.name} ({h}x{w})", fontsize=9)
    axes[1].set_axis_off()
    if result.heatmap.max() == 0:          # the weighted sum is negative everywhere
        axes[1].text(w / 2 - 0.5, h / 2 - 0.5, "all zero: no place\nraises this score\n"
                     "(the ReLU removed\nevery negative sum)", ha="center", va="center",
                     color="white", fontsize=10)
    gray = picture.mean(axis=-1)
    axes[2].imshow(normalize(gray), cmap="gray", interpolation="nearest")
    axes[2].imshow(result.upsampled, cmap="jet", alpha=0.45, vmin=0, vmax=1,
                   interpolation="bilinear")
    axes[2].set_title("overlay", fontsize=9)
    axes[2].set_axis_off()
    fig.suptitle(f"class {name}: p = {p:.3f}", fontsize=11)
    fig.grad_cam = result
    return finish(fig, save)


def _model_for_size(model, i, size):
    """A model whose layer i is ``model``'s layer i, for input size (H, W).

    The model itself when the size is its own. Otherwise: conv and pooling
    layers work on any size, but a built minicnn layer checks its input
    against the shape it was built for, so the layers 0..i are copied from
    their configs, built for the new size and given the same weights.
    """
    shape = (None, *size, model.input_shape[-1])
    if shape == model.input_shape:
        return model
    copies = []
    for layer in model.layers[:i + 1]:
        copy = type(layer).from_config(layer.get_config())
        copy.build(shape)
        copy.set_weights(layer.get_weights())
        shape = copy.compute_output_shape(shape)
        copies.append(copy)
    return Sequential(copies, name=f"{model.name}_upto_{i}")


def maximize_filters(model, layer, filters=16, size=None, steps=40, step_size=0.05, seed=0):
    """Gradient ascent on the input to find what maximally activates each filter.

    Every filter f of the conv ``layer`` gets its own image x, started as gray
    plus a little noise; each step raises the filter's mean activation
    ``a_f(x) = mean over (h, w) of layer(x)[..., f]``:

        g = d a_f / d x                  # backward from the layer to the input
        g = g / (sqrt(mean(g^2)) + 1e-5) # L2-normalized: steps of equal size
        x = x + step_size * g

    All filters run at once as one batch (the samples do not interact). A
    ReLU filter that is zero everywhere on the start image has no gradient;
    it climbs its pre-activation until it fires (``backward(from_logits=True)``
    takes dy with respect to the pre-activation).
    ``filters``: a count (the first n) or a list of indices. ``size``: an int
    or (H, W), default the model's input size. Returns a ``FilterPatterns``.
    """
    i, target = resolve_layer(model, layer)
    channels = target.output_shape[-1] if target.output_shape else None
    filters = list(range(min(filters, channels))) if isinstance(filters, int) else list(filters)
    if not filters or min(filters) < 0 or max(filters) >= channels:
        raise ValueError(f"layer '{target.name}' has {channels} channels, received "
                         f"filters={filters}")
    size = model.input_shape[1:3] if size is None else (
        (size, size) if isinstance(size, int) else tuple(size))
    stack = _model_for_size(model, i, size)
    rng = np.random.default_rng(seed)
    n = len(filters)
    x = (0.5 + 0.05 * rng.standard_normal((n, *size, model.input_shape[-1]))).astype(model.dtype)
    k = np.arange(n)                                             # sample k maximizes filters[k]
    history = []
    relu = getattr(stack.layers[i], "activation", None) == "relu"
    for step in range(steps + 1):
        a = stack.forward(x, upto=i)                             # (n, h, w, K)
        history.append(a[k, :, :, filters].mean(axis=(1, 2)))   # (n, h, w) -> (n,)
        if step == steps:
            break
        dy = np.zeros_like(a)
        dy[k, :, :, filters] = 1.0 / (a.shape[1] * a.shape[2])   # d(mean)/d(a)
        if relu:
            # A filter silent everywhere has an all-zero ReLU gradient and could
            # never start: for it, climb the pre-activation z instead (dL/dz = dy);
            # the others go through the ReLU here, so dy is dL/dz for all.
            silent = history[-1] <= 0                            # (n,)
            dy[~silent] *= a[~silent] > 0
        dy = stack.backward(dy, from_logits=relu, upto=i)        # (n, H, W, C)
        rms = np.sqrt((dy ** 2).mean(axis=(1, 2, 3), keepdims=True))   # (n, 1, 1, 1)
        x = x + step_size * dy / (rms + 1e-5)
    return FilterPatterns(x, np.array(history), filters, target)


def filter_patterns(model, layer, filters=16, size=None, steps=40, step_size=0.05,
                    per_row=8, save=None):
    """Draw the patterns of ``maximize_filters`` as a grid; returns the Figure.

    For display each pattern is centred, scaled to a standard deviation of
    0.1 around gray and clipped to [0, 1] (as in Chollet's book), so contrast
    compares across filters. ``fig.patterns`` keeps the ``FilterPatterns``.
    """
    result = maximize_filters(model, layer, filters, size, steps, step_size)
    shown = []
    for pattern in result.patterns:                               # (H, W, C)
        p = (pattern - pattern.mean()) / (pattern.std() + 1e-5)
        shown.append(np.clip(0.5 + 0.1 * p, 0, 1))
    h, w, c = shown[0].shape
    cols = min(per_row, len(shown))
    rows = -(-len(shown) // cols)
    fig = new_figure(1.3 * cols + 0.4, 1.45 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.set_axis_off()
    for ax, f, pattern, first, last in zip(axes, result.filters, shown,
                                           result.activations[0], result.activations[-1]):
        ax.imshow(pattern if c == 3 else pattern[..., 0], cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(f"filter {f}\n{first:.2f} -> {last:.2f}", fontsize=7)
    fig.suptitle(f"{result.layer.name}: inputs that maximize each filter "
                 f"({steps} steps of gradient ascent; mean activation before -> after)",
                 fontsize=9)
    fig.patterns = result
    return finish(fig, save)
