"""The model summary with the arithmetic written out, layer by layer.

For each layer: how its output size follows from its input, and how many
parameters it has, with the numbers filled in, e.g. for a 5x5, 64-filter
conv on a 48x48 grayscale image:

    conv2d (Conv2D)  in 48x48x1
      output: (48 + 2*0 - 5) / 1 + 1 = 44 -> 44x44x64 = 123,904 activations
      params: (fh * fw * C + 1) * nf = (5*5*1 + 1) * 64 = 1,664
"""
import numpy as np

from ..kernels.geometry import effective_size
from ..layers import BatchNormalization, Conv2D, Dense, Flatten
from ..layers.pooling import Pooling2D
from ._display import dims


def size_formula(n, f, s, before, after):
    """``(out, text)``: the formula ``(n + 2p - f) / s + 1 = out`` with one axis's numbers.

    ``before`` / ``after``: the padding on each side (written ``2*p`` when equal).
    """
    out = (n + before + after - f) // s + 1
    pad = f"2*{before}" if before == after else f"{before}+{after}"
    exact = (n + before + after - f) / s + 1
    note = "" if exact == out else f" ({exact:g} rounded down: no window hangs over the edge)"
    return out, f"({n} + {pad} - {f}) / {s} + 1 = {out}{note}"


def _window_output(layer, in_shape):
    """The output-size line of a conv or pooling layer."""
    window = layer.window(in_shape[1:3])
    (h, w), pads = window.input_hw, window.pads
    eff = [effective_size(k, d) for k, d in zip(window.size, window.dilation)]
    _, rows = size_formula(h, eff[0], window.strides[0], pads[0], pads[1])
    _, cols = size_formula(w, eff[1], window.strides[1], pads[2], pads[3])
    text = rows if rows == cols else f"rows {rows}; columns {cols}"
    return f"(n + 2p - f) / s + 1: {text}"


def _params_line(layer, in_shape):
    """``formula = count`` for the parameters of one layer."""
    count = layer.count_params()
    if isinstance(layer, Conv2D):
        (fh, fw), c, nf = layer.kernel_size, in_shape[-1], layer.filters
        if layer.use_bias:
            return f"(fh * fw * C + 1) * nf = ({fh}*{fw}*{c} + 1) * {nf} = {count:,}"
        return f"fh * fw * C * nf = {fh}*{fw}*{c}*{nf} = {count:,} (no bias)"
    if isinstance(layer, Dense):
        n_in = in_shape[-1]
        if layer.use_bias:
            return f"(inputs + 1) * units = ({n_in:,} + 1) * {layer.units} = {count:,}"
        return f"inputs * units = {n_in:,} * {layer.units} = {count:,} (no bias)"
    if isinstance(layer, BatchNormalization):
        c = in_shape[-1]
        trained = sum(w.size for w in layer.params.values())
        return (f"gamma, beta, moving mean, moving variance per channel = {count // c} * {c}"
                f" = {count:,} ({trained:,} trained)")
    return "none" if count == 0 else f"{count:,}"


def formula_lines(model):
    """Lines of text: every layer with its output-size and parameter formulas."""
    if not model.built:
        return [f'Model "{model.name}" is not built: give it an Input first']
    lines = [f'Model "{model.name}": input {dims(model.input_shape)}']
    shape = model.input_shape
    for layer in model.layers:
        out = layer.output_shape
        size = int(np.prod(out[1:]))
        lines.append(f"{layer.name} ({type(layer).__name__})  in {dims(shape)}")
        if isinstance(layer, Conv2D):
            how = _window_output(layer, shape)
            if max(layer.dilation_rate) > 1:
                how += " (f = d*(k-1)+1, the dilated kernel's span)"
        elif isinstance(layer, Pooling2D):
            how = _window_output(layer, shape)
        elif isinstance(layer, Flatten):
            how = "H * W * C = " + " * ".join(str(d) for d in shape[1:])
        elif isinstance(layer, Dense):
            how = f"units = {layer.units}"
        else:
            how = "same shape as the input"
        lines.append(f"  output: {how} -> {dims(out)} = {size:,} activations")
        lines.append(f"  params: {_params_line(layer, shape)}")
        shape = out
    total = model.count_params()
    lines.append(f"Total params: {total:,}; activations per image: "
                 f"{sum(int(np.prod(l.output_shape[1:])) for l in model.layers):,}")
    return lines
