"""python -m minicnn.demos.inspect: formulas, pictures and one page."""
import re
import subprocess
import sys

import matplotlib.image
import pytest

import minicnn
from minicnn import layers
from minicnn.demos import inspect as demo
from minicnn.viz.formulas import formula_lines


@pytest.fixture(scope="module")
def face_model_path(tmp_path_factory, one_numba_thread):
    """An untrained net on 48x48 faces whose first layer is the 5x5, 64-filter conv."""
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        layers.Input((48, 48, 1)),
        layers.Conv2D(64, 5, activation="relu", name="conv_5x5"),    # (44, 44, 64)
        layers.MaxPooling2D(4, name="pool"),                         # (11, 11, 64)
        layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_same"),
        layers.Flatten(name="flatten"),
        layers.Dense(7, activation="softmax", name="emotion"),
    ])
    path = tmp_path_factory.mktemp("models") / "face.npz"
    model.save(path)
    return path


def test_formulas_of_the_5x5_64_filter_layer(face_model_path):
    lines = formula_lines(minicnn.load_model(face_model_path))
    k = lines.index("conv_5x5 (Conv2D)  in 48x48x1")
    assert lines[k + 1] == ("  output: (n + 2p - f) / s + 1: (48 + 2*0 - 5) / 1 + 1 = 44 "
                            "-> 44x44x64 = 123,904 activations")
    assert lines[k + 2] == "  params: (fh * fw * C + 1) * nf = (5*5*1 + 1) * 64 = 1,664"
    assert "  output: (n + 2p - f) / s + 1: (44 + 2*0 - 4) / 4 + 1 = 11 -> 11x11x64 = " \
           "7,744 activations" in lines
    assert "  params: (fh * fw * C + 1) * nf = (3*3*64 + 1) * 8 = 4,616" in lines
    assert "  output: (n + 2p - f) / s + 1: (11 + 2*1 - 3) / 1 + 1 = 11 -> 11x11x8 = " \
           "968 activations" in lines
    assert "  params: (inputs + 1) * units = (968 + 1) * 7 = 6,783" in lines
    assert lines[-1].startswith(f"Total params: {1664 + 4616 + 6783:,};")


def test_formulas_agree_with_every_layer_count():
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        layers.Input((28, 28, 3)), layers.Conv2D(6, 5, strides=2, use_bias=False),
        layers.BatchNormalization(), layers.AveragePooling2D(3, strides=2, padding="same"),
        layers.Dropout(0.2), layers.Flatten(), layers.Dense(4, use_bias=False)])
    text = "\n".join(formula_lines(model))
    assert "(28 + 2*0 - 5) / 2 + 1 = 12 (12.5 rounded down: no window hangs over the edge) " \
           "-> 12x12x6 = 864 activations" in text
    assert "fh * fw * C * nf = 5*5*3*6 = 450 (no bias)" in text
    assert "= 4 * 6 = 24 (12 trained)" in text
    assert "(12 + 0+1 - 3) / 2 + 1 = 6 -> 6x6x6" in text
    assert "H * W * C = 6 * 6 * 6 -> 216" in text
    assert "inputs * units = 216 * 4 = 864 (no bias)" in text
    assert f"Total params: {model.count_params():,};" in text and model.count_params() == 1338


def page_order(folder):
    html = (folder / "index.html").read_text()
    return re.findall(r"<img src='([^']+)'", html), html


def test_inspect_writes_every_picture_and_the_page(face_model_path, tmp_path):
    out = tmp_path / "inspect"
    printed = []
    assert demo.run([str(face_model_path), "--out", str(out), "--filters", "4",
                     "--steps", "5"], print_fn=printed.append) == 0
    images, html = page_order(out)
    assert images == ["activations.png", "kernels_conv_5x5.png", "kernels_conv_same.png",
                      "patterns_conv_5x5.png", "patterns_conv_same.png", "gradcam.png",
                      "gradcam_conv_5x5.png"]
    for name in images:
        picture = matplotlib.image.imread(out / name)
        assert picture[..., :3].std() > 0.05, name            # not a blank page
    assert "44x44x64 = 123,904 activations" in html and "= 1,664" in html
    assert "synthetic face 0" in html                         # the default test image
    summary = (out / "summary.txt").read_text()
    assert "(5*5*1 + 1) * 64 = 1,664" in summary and summary.strip() in "\n".join(printed)
    assert printed[-1] == f"wrote 8 sections to {out / 'index.html'}"


def test_inspect_with_an_image_file(digit_model, mnist, tmp_path):
    _, (x_test, _) = mnist
    model_path, image_path = tmp_path / "digits.npz", tmp_path / "seven.png"
    digit_model.save(model_path)
    matplotlib.image.imsave(image_path, x_test[0, :, :, 0], cmap="gray", vmin=0, vmax=1)
    out = tmp_path / "out"
    assert demo.run([str(model_path), "--image", str(image_path), "--out", str(out),
                     "--filters", "2", "--steps", "3"], print_fn=lambda line: None) == 0
    images, html = page_order(out)
    assert images[-2:] == ["gradcam.png", "gradcam_conv_a.png"]
    assert "seven.png, resized to 28x28; the model says 7" in html


def test_inspect_errors_are_one_line(tmp_path):
    missing = tmp_path / "nope.npz"
    result = subprocess.run([sys.executable, "-m", "minicnn.demos.inspect", str(missing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: model file: ") and result.stderr.count("\n") == 1
