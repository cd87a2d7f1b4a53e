"""Convolution explained step by step, with minicnn's own kernels.

    python -m minicnn.demos.convolution               # a 6x6 image, a 3x3 edge kernel
    python -m minicnn.demos.convolution --digit 0     # MNIST test digit 0 instead
    python -m minicnn.demos.convolution --out pics    # also draw the steps as PNGs

It prints, for one image and one kernel: the (padded) input, the kernel,
every window with its element-wise product and sum, the im2col matrix and
the one matrix product that replaces the loops, and the output map. Then the
same with stride 2 and with padding "same", and a 3-channel input with two
filters, where each filter sums its channels. Every output size is checked
against ``(n + 2p - f) / s + 1`` and every output map against ``Conv2D``.
"""
import argparse
import os

import numpy as np

from minicnn import kernels, layers
from minicnn.viz import convolution as drawing
from minicnn.viz.formulas import size_formula

from . import _common

# The textbook example: a bright left half, a dark right half ...
EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)
# ... and a kernel that answers "bright on the left, dark on the right".
VERTICAL_EDGE = np.array([[1, 0, -1]] * 3, dtype=np.float32)


def format_matrix(a, decimals=0, indent="  "):
    """Rows of right-aligned numbers, e.g. for an output map."""
    a = np.asarray(a, dtype=np.float64)
    texts = [[f"{v + 0.0:.{decimals}f}" for v in row] for row in np.atleast_2d(a)]  # no "-0"
    width = max(len(t) for row in texts for t in row)
    return [indent + " ".join(t.rjust(width) for t in row) for row in texts]


def side_by_side(blocks, titles, gap="    "):
    """Print-ready lines of several matrices next to each other."""
    blocks = [format_matrix(b, d, indent="") for b, d in blocks]
    widths = [max(len(titles[k]), max(len(line) for line in b)) for k, b in enumerate(blocks)]
    lines = ["  " + gap.join(t.ljust(w) for t, w in zip(titles, widths)).rstrip()]
    for r in range(max(len(b) for b in blocks)):
        cells = [(b[r] if r < len(b) else "").ljust(w) for b, w in zip(blocks, widths)]
        lines.append("  " + gap.join(cells).rstrip())
    return lines


def conv2d_layer(kernel, bias, stride, padding, input_shape):
    """A minicnn Conv2D holding the given kernel (fh, fw, C, F) and bias (F,)."""
    fh, fw, _, f = kernel.shape
    layer = layers.Conv2D(f, (fh, fw), strides=stride, padding=padding)
    layer.build((None, *input_shape))
    layer.set_weights([kernel, bias])
    return layer


def explain(x, kernel, stride=1, padding="valid", decimals=0, max_windows=None,
            show_input=True, print_fn=print):
    """Print one single-channel convolution step by step; return the output map.

    x: (H, W); kernel: (f, f). The windows are read from the padded input
    with plain NumPy (the loop a person would write); the same numbers then
    come from ``kernels.im2col`` and a matrix product, and from ``Conv2D``.
    """
    x = np.asarray(x, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    f = kernel.shape[0]
    steps = drawing.unfold(x, kernel, stride, padding)        # im2col and the matmul
    pt, pb, pl, pr = steps.pads
    oh, ow = steps.output.shape
    say = print_fn
    if show_input:
        say(f"input x ({x.shape[0]}x{x.shape[1]}):")
        for line in format_matrix(x, decimals):
            say(line)
        say(f"kernel ({f}x{f}):")
        for line in format_matrix(kernel):
            say(line)
    else:
        say(f"input x ({x.shape[0]}x{x.shape[1]}) and kernel ({f}x{f}) as above")
    if any(steps.pads):
        say(f'padding "{padding}": {pt} row(s) of zeros on top, {pb} below, {pl} column(s) '
            f"left, {pr} right; padded input ({steps.padded.shape[0]}x{steps.padded.shape[1]}):")
        for line in format_matrix(steps.padded, decimals):
            say(line)
    else:
        say(f'padding "{padding}": p = 0, no border')
    out_h, rows_line = size_formula(x.shape[0], f, stride, pt, pb)
    out_w, cols_line = size_formula(x.shape[1], f, stride, pl, pr)
    assert (out_h, out_w) == (oh, ow), "the formula and the kernel disagree"
    if rows_line == cols_line:
        say(f"output size (n + 2p - f) / s + 1 = {rows_line}, for rows and columns")
    else:
        say(f"output size (n + 2p - f) / s + 1:  rows {rows_line};  columns {cols_line}")
    say(f"output[i, j] = sum(window * kernel), the window starting at row {stride}*i, "
        f"column {stride}*j of the padded input:")
    total = oh * ow
    shown = total if max_windows is None else min(max_windows, total)
    for k in range(shown):
        i, j = divmod(k, ow)
        window = steps.padded[i * stride:i * stride + f, j * stride:j * stride + f]
        product = window * kernel
        say(f"  window ({i}, {j}): rows {i * stride}..{i * stride + f - 1}, "
            f"columns {j * stride}..{j * stride + f - 1}")
        for line in side_by_side([(window, decimals), (kernel, 0), (product, decimals)],
                                 ["window", "* kernel", f"= product, sum = "
                                  f"{product.sum():.{decimals}f}"]):
            say("  " + line)
    if shown < total:
        say(f"  ... {total - shown} more windows, the same rule")
    say(f"im2col: each window becomes one row, cols ({total}, {f * f}) = "
        f"(OH*OW, f*f), built by minicnn.kernels.im2col:")
    if total <= 64:
        for line in format_matrix(steps.cols, decimals):
            say(line)
    else:
        say(f"  ({total} rows, not printed)")
    say(f"cols @ kernel.ravel(): ({total}, {f * f}) @ ({f * f},) -> ({total},), reshaped "
        f"to {oh}x{ow}: the loops become one matrix product")
    layer = conv2d_layer(kernel[:, :, None, None], np.zeros(1, np.float32), stride, padding,
                         (*x.shape, 1))
    y = layer.forward(x[None, :, :, None])[0, :, :, 0]       # (1, OH, OW, 1) -> (OH, OW)
    say(f"output ({oh}x{ow}):")
    for line in format_matrix(y, decimals):
        say(line)
    diff = float(np.abs(y - steps.output).max())
    say(f"Conv2D(1, {f}, strides={stride}, padding=\"{padding}\").forward gives that map; "
        f"the im2col product differs from it by at most {diff:g}")
    return y


def explain_depth(print_fn=print, seed=0):
    """A 6x6x3 input and two 3x3x3 filters: each filter sums over the depth."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(6, 6, 3)).astype(np.float32)       # (H, W, C)
    kernel = rng.integers(-1, 2, size=(3, 3, 3, 2)).astype(np.float32)  # (f, f, C, F)
    bias = np.array([1, -2], dtype=np.float32)
    layer = conv2d_layer(kernel, bias, 1, "valid", x.shape)
    y = layer.forward(x[None])[0]                                     # (4, 4, 2)
    say = print_fn
    say("input x: 6x6 with 3 channels (think R, G, B); two filters, each 3x3x3, "
        "and a bias per filter")
    params = (3 * 3 * 3 + 1) * 2
    say(f"output: (6 + 2*0 - 3) / 1 + 1 = 4 -> 4x4x2; parameters "
        f"(fh * fw * C + 1) * nf = (3*3*3 + 1) * 2 = {params} (Conv2D counts "
        f"{layer.count_params()})")
    for f in range(2):
        maps = [drawing.unfold(x[:, :, c], kernel[:, :, c, f]).output for c in range(3)]
        say(f"filter {f}: one 3x3 slice per input channel, each slides over its channel; "
            f"the three maps are added, plus bias {bias[f]:g}:")
        for c in range(3):
            say(f"  channel {c}:")
            for line in side_by_side([(x[:, :, c], 0), (kernel[:, :, c, f], 0), (maps[c], 0)],
                                     ["input", "kernel slice", "map"]):
                say("  " + line)
        summed = sum(maps) + bias[f]
        say(f"  channel 0 + channel 1 + channel 2 + bias = output[:, :, {f}] "
            f"(Conv2D's map beside it):")
        for line in side_by_side([(summed, 0), (y[:, :, f], 0)], ["by channel", "Conv2D"]):
            say("  " + line)
        say(f"  they differ by at most {float(np.abs(summed - y[:, :, f]).max()):g}")
    say("in one product: cols (16, 27) @ kernel (27, 2) -> (16, 2), reshaped to 4x4x2; "
        "a row of cols holds a window through all three channels")
    cols = kernels.im2col(x[None], kernels.window(x.shape[:2], (3, 3)))   # (16, 27)
    y_cols = (cols @ kernel.reshape(27, 2) + bias).reshape(4, 4, 2)  # (16, 27) @ (27, 2)
    say(f"  im2col product vs Conv2D: max difference {float(np.abs(y_cols - y).max()):g}")
    return x, kernel, bias, y


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m minicnn.demos.convolution",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--digit", type=int, metavar="INDEX",
                   help="use MNIST test image INDEX (28x28, scaled to [0, 1]) as the input")
    p.add_argument("--out", metavar="DIR", help="also draw the steps as PNG files in DIR")
    p.add_argument("--windows", type=_common.non_negative_int, default=None, metavar="N",
                   help="print at most N windows per convolution "
                        "(default: all for 6x6, 3 for a digit)")
    return p.parse_args(argv)


def load_digit(index):
    """MNIST test image ``index`` as float32 (28, 28) in [0, 1]."""
    from minicnn.datasets import mnist
    _, (x_test, y_test) = _common.load_or_fail("MNIST data", mnist.load_data)
    if not 0 <= index < len(x_test):
        raise _common.DemoError(f"--digit must be in [0, {len(x_test) - 1}], received {index}")
    return x_test[index].astype(np.float32) / 255, int(y_test[index])


def run(argv=None, print_fn=print):
    args = parse_args(argv)
    if args.out:
        _common.check_folder_writable(args.out)          # fail before the long printout
    say = print_fn
    if args.digit is None:
        x, decimals, windows = EDGE_IMAGE, 0, args.windows
        say("A 6x6 image, bright (10) on the left and dark (0) on the right, and a "
            "vertical-edge kernel.")
    else:
        x, label = load_digit(args.digit)
        decimals, windows = 1, 3 if args.windows is None else args.windows
        say(f"MNIST test digit {args.digit} (a {label}), pixels scaled to [0, 1], and a "
            f"vertical-edge kernel.")
    sections = [("1. stride 1, padding \"valid\"", 1, "valid"),
                ("2. stride 2: the window jumps two cells", 2, "valid"),
                ("3. padding \"same\": a zero border keeps the size", 1, "same")]
    for k, (title, stride, padding) in enumerate(sections):
        say("")
        say(f"== {title} ==")
        explain(x, VERTICAL_EDGE, stride, padding, decimals,
                windows if windows is not None or k == 0 else 4, show_input=k == 0,
                print_fn=print_fn)
    say("")
    say("== 4. depth: 3 input channels, 2 filters ==")
    explain_depth(print_fn)
    if args.out:
        _common.make_output_folder(args.out)
        with _common.writing(args.out):
            for name, stride, padding in (("valid", 1, "valid"), ("stride2", 2, "valid"),
                                          ("same", 1, "same")):
                drawing.plot_convolution_steps(
                    x, VERTICAL_EDGE, stride, padding,
                    save=os.path.join(args.out, f"steps_{name}.png"))
            drawing.plot_im2col(x, VERTICAL_EDGE, save=os.path.join(args.out, "im2col.png"))
        say("")
        say(f"pictures written to {args.out}/: steps_valid.png, steps_stride2.png, "
            f"steps_same.png, im2col.png")
    return 0


def main(argv=None):
    return _common.run_main(run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
