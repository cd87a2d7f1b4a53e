"""The convolution demo prints numbers that Conv2D agrees with, and the size formula."""
import re
import subprocess
import sys

import numpy as np
import pytest

from minicnn import layers
from minicnn.demos import convolution as demo
from minicnn.viz import convolution as drawing

from .conftest import assert_not_blank


def run_demo(argv):
    lines = []
    assert demo.run(argv, print_fn=lines.append) == 0
    return lines


def printed_maps(lines):
    """Every ``output (HxW):`` block of the printout as an array."""
    maps = []
    for k, line in enumerate(lines):
        found = re.fullmatch(r"output \((\d+)x(\d+)\):", line)
        if found:
            h, w = int(found[1]), int(found[2])
            rows = [list(map(float, lines[k + 1 + r].split())) for r in range(h)]
            maps.append(np.array(rows))
            assert maps[-1].shape == (h, w)
    return maps


def conv2d(x, kernel, stride, padding):
    """An independent Conv2D with this kernel, run on x (H, W)."""
    layer = layers.Conv2D(1, kernel.shape, strides=stride, padding=padding, use_bias=False)
    layer.build((None, *x.shape, 1))
    layer.set_weights([kernel[:, :, None, None]])
    return layer.forward(x[None, :, :, None].astype(np.float32))[0, :, :, 0]


SECTIONS = [(1, "valid"), (2, "valid"), (1, "same")]


def test_printed_output_maps_equal_conv2d():
    lines = run_demo([])
    maps = printed_maps(lines)
    assert len(maps) == 3
    for printed, (stride, padding) in zip(maps, SECTIONS):
        expected = conv2d(demo.EDGE_IMAGE, demo.VERTICAL_EDGE, stride, padding)
        np.testing.assert_array_equal(printed, expected)
    # the textbook result: the edge lights up the two middle columns with 30
    np.testing.assert_array_equal(maps[0], [[0, 30, 30, 0]] * 4)


def test_printed_sizes_follow_the_formula():
    text = "\n".join(run_demo([]))
    for n, p, f, s in ((6, 0, 3, 1), (6, 0, 3, 2), (6, 1, 3, 1)):
        out = (n + 2 * p - f) // s + 1
        assert f"({n} + 2*{p} - {f}) / {s} + 1 = {out}" in text
    assert "(2.5 rounded down" in text            # stride 2: (6 - 3) / 2 + 1 = 2.5 -> 2
    assert "parameters (fh * fw * C + 1) * nf = (3*3*3 + 1) * 2 = 56 (Conv2D counts 56)" in text


def test_every_window_sum_is_an_output_cell():
    lines = run_demo([])
    first = lines[:lines.index("== 2. stride 2: the window jumps two cells ==")]
    sums = [float(m[1]) for line in first for m in [re.search(r"sum = (-?\d+)$", line)] if m]
    assert len(sums) == 16                         # 4x4 windows, all printed
    np.testing.assert_array_equal(np.reshape(sums, (4, 4)), printed_maps(first)[0])


def test_im2col_rows_are_the_windows():
    steps = drawing.unfold(demo.EDGE_IMAGE, demo.VERTICAL_EDGE, stride=2)
    assert steps.cols.shape == (4, 9)
    np.testing.assert_array_equal(steps.cols[1], demo.EDGE_IMAGE[0:3, 2:5].ravel())
    np.testing.assert_array_equal(steps.output, [[0, 30], [0, 30]])


def test_depth_example_sums_channels():
    x, kernel, bias, y = demo.explain_depth(print_fn=lambda line: None)
    assert y.shape == (4, 4, 2)
    naive = np.zeros((4, 4, 2))
    for i in range(4):
        for j in range(4):
            for f in range(2):
                naive[i, j, f] = (x[i:i + 3, j:j + 3, :] * kernel[:, :, :, f]).sum() + bias[f]
    np.testing.assert_array_equal(y, naive)


def test_digit_printout_matches_conv2d(mnist):
    lines = run_demo(["--digit", "0"])
    assert "a 7" in lines[0]
    maps = printed_maps(lines)
    x = demo.load_digit(0)[0]
    for printed, (stride, padding) in zip(maps, SECTIONS):
        expected = conv2d(x, demo.VERTICAL_EDGE, stride, padding)
        assert printed.shape == expected.shape
        np.testing.assert_allclose(printed, expected, atol=0.051)   # printed with 1 decimal
    assert maps[0].shape == (26, 26) and maps[1].shape == (13, 13) and maps[2].shape == (28, 28)


def test_pictures(tmp_path):
    lines = run_demo(["--out", str(tmp_path)])
    assert "pictures written" in lines[-1]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["im2col.png", "steps_same.png", "steps_stride2.png", "steps_valid.png"]
    fig = drawing.plot_convolution_steps(demo.EDGE_IMAGE, demo.VERTICAL_EDGE)
    assert len(fig.axes) == 12                     # 3 window positions x 4 panels
    assert fig.axes[2].get_title() == "window * kernel, sum = 0"
    assert_not_blank(fig)


def test_bad_digit_index_is_one_line():
    result = subprocess.run([sys.executable, "-m", "minicnn.demos.convolution", "--digit",
                             "99999"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --digit must be in [0, 9999], received 99999"


@pytest.mark.parametrize("argv", [["--windows", "2"]])
def test_windows_option_limits_the_printout(argv):
    text = "\n".join(run_demo(argv))
    assert "... 14 more windows, the same rule" in text
