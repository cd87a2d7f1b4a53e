"""End-to-end demo runs with tiny settings, reproducibility, Ctrl-C, bad input.

Each run calls the demo's ``main(argv)`` in-process (the Ctrl-C test also runs
one as a real subprocess) on a few hundred images, so the whole file takes
seconds, not minutes.
"""
import contextlib
import io
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn import callbacks
from minicnn.demos import DEMOS, _common, emotion, mnist
from minicnn.demos.__main__ import main as list_demos

MNIST_TINY = ["--model", "lenet5", "--train-size", "640", "--test-size", "300", "--epochs", "1",
              "--batch-size", "64", "--quiet"]
FACES_TINY = ["--train-size", "140", "--test-size", "70", "--epochs", "1", "--batch-size", "35",
              "--quiet"]


def run(demo, argv, capsys):
    """``demo.main(argv)`` -> (exit status, stdout, stderr)."""
    status = demo.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_accuracy(out):
    match = re.search(r"test accuracy: ([\d.]+)% on ([\d,]+) images \(loss ([\d.]+)", out)
    assert match, out
    return float(match.group(1)) / 100, int(match.group(2).replace(",", "")), float(match.group(3))


test_accuracy.__test__ = False      # a helper, not a test


def one_line_error(status, err, *needles):
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---------------------------------------------------------------------------
# python -m minicnn.demos
# ---------------------------------------------------------------------------
def test_listing_names_every_demo_once(capsys):
    assert list_demos() == 0
    out = capsys.readouterr().out.splitlines()
    for name in ("mnist", "emotion", "convolution", "inspect"):
        assert sum(line.split()[0] == name for line in out[1:]) == 1
    assert len(out) == 1 + len(DEMOS)


# ---------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """One tiny MNIST training run shared by the tests below."""
    folder = tmp_path_factory.mktemp("mnist")
    save, plot = folder / "m.npz", folder / "c.png"
    argv = MNIST_TINY + ["--seed", "3", "--save", save, "--plot", plot]
    out = io.StringIO()                                  # capsys is per test, not per module
    with contextlib.redirect_stdout(out):
        status = mnist.main([str(a) for a in argv])
    return status, out.getvalue(), save, plot


def test_mnist_tiny_run_trains_saves_and_reloads(mnist_run):
    status, out, save, plot = mnist_run
    assert status == 0
    accuracy, n_test, _ = test_accuracy(out)
    assert n_test == 300
    assert accuracy > 0.3                                # chance is 0.1
    assert plot.stat().st_size > 1000 and save.stat().st_size > 1000
    model = minicnn.load_model(save)
    (_, _), (x, y) = minicnn.datasets.mnist.load_data()
    x = (x[:300] / 255.0).astype("float32")[..., None]
    reloaded = np.mean(model.predict(x).argmax(axis=1) == y[:300])
    assert reloaded == pytest.approx(accuracy, abs=0.001)


def test_mnist_same_seed_same_numbers(mnist_run, tmp_path, capsys):
    _, first_out, first_save, _ = mnist_run
    status, out, _ = run(mnist, MNIST_TINY + ["--seed", "3", "--save", tmp_path / "b.npz",
                                              "--plot", tmp_path / "b.png"], capsys)
    assert status == 0
    assert test_accuracy(out) == test_accuracy(first_out)
    a, b = minicnn.load_model(first_save), minicnn.load_model(tmp_path / "b.npz")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    status, out, _ = run(mnist, MNIST_TINY + ["--seed", "4", "--save", tmp_path / "c.npz",
                                              "--plot", ""], capsys)
    c = minicnn.load_model(tmp_path / "c.npz")
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])
    assert not (tmp_path / "").joinpath("c.png").exists()


def test_mnist_learning_rate_decays_per_epoch(tmp_path, capsys):
    status, _, _ = run(mnist, ["--model", "lenet5", "--train-size", "128", "--test-size", "10",
                               "--epochs", "3", "--learning-rate", "0.004", "--decay", "0.5",
                               "--validation-split", "0", "--quiet",
                               "--save", tmp_path / "m.npz", "--plot", tmp_path / "c.png"],
                        capsys)
    assert status == 0
    model = minicnn.load_model(tmp_path / "m.npz")
    assert model.optimizer.learning_rate == pytest.approx(0.004 * 0.5 ** 2)
    assert model.optimizer.iterations == 3 * 2                      # 128 / 64 per epoch


def test_mnist_predict_reads_a_light_background_digit(mnist_run, tmp_path, capsys):
    from PIL import Image
    (_, _), (x, y) = minicnn.datasets.mnist.load_data()
    digit = 255 - np.kron(x[0], np.ones((3, 3), dtype=np.uint8))     # 84x84, dark on light
    Image.fromarray(np.stack([digit] * 3, axis=-1)).save(tmp_path / "digit.png")
    status, out, _ = run(mnist, ["--predict", tmp_path / "digit.png", "--model", mnist_run[2]],
                         capsys)
    assert status == 0
    probs = [float(v) for v in re.findall(r"^\s+\d: +([\d.]+)%$", out, re.M)]
    assert len(probs) == 10 and sum(probs) == pytest.approx(100, abs=0.1)
    model = minicnn.load_model(mnist_run[2])
    expected = model.predict((x[:1] / 255.0).astype("float32")[..., None]).argmax()
    assert f"digit {expected} (" in out                  # the inversion was undone


def test_mnist_bad_data_files(tmp_path, capsys):
    status, _, err = run(mnist, ["--data", tmp_path / "missing.npz"], capsys)
    one_line_error(status, err, "missing.npz")
    corrupt = tmp_path / "mnist.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    status, _, err = run(mnist, ["--data", corrupt], capsys)
    one_line_error(status, err, "mnist.npz")
    status, _, err = run(mnist, ["--model", "vgg99"], capsys)
    one_line_error(status, err, "vgg99", "lenet5")


def test_mnist_rejects_a_model_for_other_input(tmp_path, capsys):
    minicnn.zoo.emotion_net().save(tmp_path / "faces.npz")
    status, _, err = run(mnist, ["--model", tmp_path / "faces.npz", "--predict", "x.png"], capsys)
    one_line_error(status, err, "faces.npz", "(48, 48, 1)", "(28, 28, 1)")
    status, _, err = run(mnist, MNIST_TINY + ["--model", tmp_path / "faces.npz"], capsys)
    one_line_error(status, err, "faces.npz", "(48, 48, 1)")
    (tmp_path / "junk.npz").write_bytes(b"\x00" * 100)
    status, _, err = run(mnist, ["--predict", "x.png", "--model", tmp_path / "junk.npz"], capsys)
    one_line_error(status, err, "junk.npz")


# ---------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------
def test_sigint_stops_after_the_current_batch():
    """A SIGINT raised during batch 2 ends training after that batch, cleanly."""
    minicnn.set_random_seed(0)
    model = minicnn.zoo.lenet5()
    x = np.random.default_rng(0).random((640, 28, 28, 1), dtype=np.float32)
    y = np.arange(640) % 10
    args = mnist.parse_args(["--epochs", "3", "--batch-size", "64", "--quiet"])
    raise_at_batch_2 = callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: batch == 1 and signal.raise_signal(signal.SIGINT))
    before = signal.getsignal(signal.SIGINT)
    result = _common.train(model, x, y, args, extra_callbacks=[raise_at_batch_2])
    assert result.interrupted
    assert model.optimizer.iterations == 2               # batches 1 and 2, then stop
    assert result.images == 128
    assert len(result.history.history["loss"]) == 1      # the partial epoch is logged
    assert signal.getsignal(signal.SIGINT) is before     # the handler is removed again


def test_ctrl_c_in_a_real_run_saves_and_exits_cleanly(tmp_path):
    save = tmp_path / "partial.npz"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "minicnn.demos.mnist", "--model", "lenet5",
         "--train-size", "20000", "--test-size", "100", "--epochs", "5", "--batch-size", "16",
         "--save", str(save), "--plot", str(tmp_path / "c.png")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:                         # after the summary table
            if line.startswith("training lenet5"):      # printed once the handler is in place
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Ctrl-C" in err and "Traceback" not in err
    assert "interrupted" in out and "test accuracy" in out
    model = minicnn.load_model(save)
    assert 0 < model.optimizer.iterations < 5 * 20000 // 16


# ---------------------------------------------------------------------------
# emotion
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def faces_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    paths = {k: folder / f"{k}.png" for k in ("plot", "confusion", "samples")}
    argv = FACES_TINY + ["--seed", "1", "--save", folder / "e.npz"]
    argv += [a for k, p in paths.items() for a in (f"--{k}", p)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = emotion.main([str(a) for a in argv])
    return status, out.getvalue(), folder / "e.npz", paths


def test_emotion_tiny_run_on_synthetic_faces(faces_run):
    status, out, save, paths = faces_run
    assert status == 0
    accuracy, n_test, loss = test_accuracy(out)
    assert n_test == 70 and 0 <= accuracy <= 1 and loss > 0
    for path in paths.values():
        assert path.stat().st_size > 1000
    model = minicnn.load_model(save)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)


def test_emotion_predict_prints_seven_probabilities(faces_run, tmp_path, capsys):
    from PIL import Image
    rgb = np.random.default_rng(0).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "face.jpg")
    status, out, _ = run(emotion, ["--predict", tmp_path / "face.jpg", "--model", faces_run[2]],
                         capsys)
    assert status == 0
    rows = re.findall(r"^\s+(\w+)\s+([\d.]+)%$", out, re.M)
    assert [name for name, _ in rows] == list(emotion.CLASS_NAMES)
    assert sum(float(p) for _, p in rows) == pytest.approx(100, abs=0.1)
    best = max(float(p) for _, p in rows)
    headline = out.splitlines()[0].split(": ")[1].split()[0]
    assert headline in [name for name, p in rows if float(p) == best]


def write_fer_csv(path, rows=70, tests=14, short_row=None):
    rng = np.random.default_rng(0)
    lines = ["emotion,pixels,Usage"]
    for i in range(rows + tests):
        pixels = rng.integers(0, 256, 2304)
        if i == short_row:
            pixels = pixels[:2000]
        lines.append(f"{i % 7},{' '.join(map(str, pixels))},"
                     f"{'Training' if i < rows else 'PublicTest'}")
    path.write_text("\n".join(lines) + "\n")


def test_emotion_trains_on_a_fer_csv(tmp_path, capsys):
    write_fer_csv(tmp_path / "fer.csv")
    status, out, _ = run(emotion, ["--data", tmp_path / "fer.csv", "--epochs", "1",
                                   "--batch-size", "32", "--quiet",
                                   "--save", tmp_path / "e.npz", "--plot", "",
                                   "--confusion", tmp_path / "cm.png", "--samples", ""], capsys)
    assert status == 0
    assert test_accuracy(out)[1] == 14                   # the PublicTest rows
    assert (tmp_path / "cm.png").exists() and not (tmp_path / "c.png").exists()


def test_emotion_bad_inputs(faces_run, tmp_path, capsys):
    write_fer_csv(tmp_path / "short.csv", rows=5, tests=2, short_row=1)
    status, _, err = run(emotion, ["--data", tmp_path / "short.csv"], capsys)
    one_line_error(status, err, "short.csv", "line 3")
    status, _, err = run(emotion, ["--data", tmp_path / "nope.csv"], capsys)
    one_line_error(status, err, "nope.csv")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    status, _, err = run(emotion, ["--predict", tmp_path / "broken.png",
                                   "--model", faces_run[2]], capsys)
    one_line_error(status, err, "broken.png")
    status, _, err = run(emotion, ["--predict", tmp_path / "absent.jpg",
                                   "--model", faces_run[2]], capsys)
    one_line_error(status, err, "absent.jpg")
    minicnn.zoo.lenet5().save(tmp_path / "digits.npz")
    status, _, err = run(emotion, ["--predict", tmp_path / "broken.png",
                                   "--model", tmp_path / "digits.npz"], capsys)
    one_line_error(status, err, "digits.npz", "(28, 28, 1)", "(48, 48, 1)")
    status, _, err = run(emotion, ["--predict", tmp_path / "broken.png",
                                   "--model", tmp_path / "gone.npz"], capsys)
    one_line_error(status, err, "gone.npz")
