"""Issue 11, defects 7 and 12: the command lines end in one clear error, never a traceback.

The demos promise (README): every problem with the user's input or files is
one ``error:`` line on stderr and exit status 1; argparse's own usage errors
exit 2 and must name the option, not a function of ours. The parity report
must not claim "0 failed" when it compared nothing.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import minicnn
from minicnn import layers as L
from minicnn.datasets import mnist as mnist_data
from minicnn.demos import _common, convolution, emotion, inspect as inspect_demo, mnist
from minicnn.demos.__main__ import main as demos_main
from minicnn.parity import references, report

TINY = ["--model", "lenet5", "--train-size", "64", "--test-size", "32", "--epochs", "1",
        "--batch-size", "32", "--quiet"]


def run(demo, argv, capsys):
    status = demo.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(status, err, *needles):
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("error: "), (status, err)
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def usage_error(capsys, call, *needles):
    """argparse's exit 2; its message names the option and says what was expected."""
    with pytest.raises(SystemExit) as info:
        call()
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    last = err.strip().splitlines()[-1]
    for needle in needles:
        assert needle in last, last
    assert "_positive" not in err and "_fraction" not in err and "invalid int" not in err
    return last


@pytest.fixture
def a_file(tmp_path):
    """A plain file, so that "<it>/x" is a path no one (root included) can create."""
    path = tmp_path / "plain.txt"
    path.write_text("not a folder")
    return path


@pytest.fixture(scope="module")
def digit_model_path(tmp_path_factory):
    """An untrained 28x28 model with a layer name no file name can hold."""
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        L.Input((28, 28, 1)),
        L.Conv2D(2, 3, activation="relu", name="block/conv 1"),
        L.Conv2D(2, 3, activation="relu", name="block_conv_1"),   # the same once made safe
        L.MaxPooling2D(4),
        L.Flatten(),
        L.Dense(10, activation="softmax")])
    path = tmp_path_factory.mktemp("inspect") / "digits.npz"
    model.save(path)
    return path


# ---------------------------------------------------------------------------
# defect 7: no training sample left
# ---------------------------------------------------------------------------
def test_mnist_with_one_training_image_is_one_error_line(tmp_path, capsys):
    argv = TINY + ["--train-size", "1", "--save", tmp_path / "m.npz", "--plot", ""]
    status, _, err = run(mnist, argv, capsys)
    one_line_error(status, err, "1 training image(s)", "--validation-split 0.05")
    assert not (tmp_path / "m.npz").exists()


def test_an_idx_folder_with_no_images_is_one_error_line(tmp_path, capsys):
    folder = tmp_path / "idx"
    folder.mkdir()
    for key, name in mnist_data.IDX_FILES.items():
        shape = (0, 28, 28) if key.startswith("x") else (0,)
        mnist_data.save_idx(folder / name, np.zeros(shape, np.uint8))
    argv = TINY + ["--data", folder, "--save", tmp_path / "m.npz", "--plot", ""]
    status, _, err = run(mnist, argv, capsys)
    one_line_error(status, err, str(folder), "0 training, 0 test")


def test_split_validation_refuses_to_leave_nothing_to_train():
    x, y = np.zeros((3, 2)), np.arange(3)
    (x_fit, _), (x_val, _) = _common.split_validation(x, y, 0.3, seed=0)
    assert len(x_fit) == 2 and len(x_val) == 1
    with pytest.raises(_common.DemoError, match="too few to hold out"):
        _common.split_validation(x[:1], y[:1], 0.3, seed=0)
    with pytest.raises(_common.DemoError, match="no training images"):
        _common.split_validation(x[:0], y[:0], 0.0, seed=0)


# ---------------------------------------------------------------------------
# defect 12: unwritable outputs
# ---------------------------------------------------------------------------
def test_mnist_save_under_a_file_fails_before_training(a_file, capsys):
    status, out, err = run(mnist, TINY + ["--save", a_file / "m.npz", "--plot", ""], capsys)
    one_line_error(status, err, str(a_file), "is a file, not a folder")
    assert "test accuracy" not in out                     # failed before training


def test_emotion_plot_under_a_file_fails_before_training(a_file, tmp_path, capsys):
    argv = ["--train-size", "20", "--test-size", "10", "--epochs", "1", "--quiet",
            "--save", tmp_path / "e.npz", "--plot", "", "--samples", "",
            "--confusion", a_file / "sub" / "cm.png"]
    status, _, err = run(emotion, argv, capsys)
    one_line_error(status, err, "cm.png", "is a file, not a folder")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into any folder")
def test_a_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        status, _, err = run(mnist, TINY + ["--save", folder / "m.npz", "--plot", ""], capsys)
    finally:
        folder.chmod(0o700)
    one_line_error(status, err, "is not writable")


def test_a_save_that_fails_at_the_end_is_one_demo_error(a_file, tmp_path):
    model = minicnn.Sequential([L.Input((4,)), L.Dense(2)])

    class Args:
        save, plot, quiet = str(a_file / "m.npz"), None, True

    run_result = _common.Run(minicnn.callbacks.History(), 1.0, 1, False)
    with pytest.raises(_common.DemoError, match=r"cannot write .*plain\.txt/m\.npz"):
        _common.save_results(model, run_result, Args)


def test_inspect_out_under_a_file_is_one_error_line(digit_model_path, a_file, capsys):
    status, _, err = run(inspect_demo, [digit_model_path, "--out", a_file / "pics"], capsys)
    one_line_error(status, err, "is a file, not a folder")


def test_convolution_out_under_a_file_is_one_error_line(a_file, capsys):
    status, out, err = run(convolution, ["--out", a_file / "pics"], capsys)
    one_line_error(status, err, "is a file, not a folder")
    assert out == ""                                   # refused before the printout


# ---------------------------------------------------------------------------
# defect 12: inspect
# ---------------------------------------------------------------------------
def test_inspect_handles_layer_names_that_are_not_file_names(digit_model_path, tmp_path,
                                                             capsys):
    out = tmp_path / "out"
    status = inspect_demo.main([str(digit_model_path), "--out", str(out), "--filters", "1",
                                "--steps", "1"])
    assert status == 0, capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert "kernels_block_conv_1.png" in names and "kernels_block_conv_1_2.png" in names
    assert "patterns_block_conv_1.png" in names and "gradcam_block_conv_1.png" in names
    assert not any("/" in n for n in names)
    assert "block/conv 1" in (out / "index.html").read_text()     # the page keeps the name


@pytest.mark.parametrize("option, value", [("--filters", "-1"), ("--filters", "0"),
                                           ("--filters", "x"), ("--steps", "0"),
                                           ("--index", "-3")])
def test_inspect_refuses_bad_numbers_by_name(digit_model_path, capsys, option, value):
    last = usage_error(capsys, lambda: inspect_demo.main([str(digit_model_path), option, value]),
                       f"argument {option}: expected", repr(value) if value == "x" else value)
    assert "Traceback" not in last


def test_inspect_index_out_of_range_is_an_error_not_a_wrap(digit_model_path, tmp_path, capsys):
    status, _, err = run(inspect_demo, [digit_model_path, "--index", "10000",
                                        "--out", tmp_path / "o"], capsys)
    one_line_error(status, err, "--index must be in [0, 9999]", "received 10000")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------
# defect 12: option types and python -m minicnn.demos
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("option, value, expected", [
    ("--epochs", "x", "expected a positive integer, received 'x'"),
    ("--epochs", "0", "expected a positive integer, received 0"),
    ("--learning-rate", "fast", "expected a positive number, received 'fast'"),
    ("--learning-rate", "nan", "expected a positive number, received nan"),
    ("--decay", "two", "expected a number in (0, 1], received 'two'"),
    ("--validation-split", "1", "expected a number in [0, 1), received 1"),
    ("--seed", "-1", "expected an integer >= 0, received -1"),
    ("--train-size", "1.5", "expected a positive integer, received '1.5'"),
])
def test_option_errors_name_the_option_not_our_functions(capsys, option, value, expected):
    usage_error(capsys, lambda: mnist.main([option, value]), f"argument {option}: {expected}")


def test_an_unknown_demo_is_an_error(capsys):
    assert demos_main(["bogus"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("error: unknown demo 'bogus'; the demos are mnist, emotion, "
                           "convolution, inspect, transfer (python -m minicnn.demos lists them)")


def test_python_m_minicnn_demos_bogus_exits_non_zero():
    result = subprocess.run([sys.executable, "-m", "minicnn.demos", "bogus"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown demo 'bogus'" in result.stderr
    listing = subprocess.run([sys.executable, "-m", "minicnn.demos"],
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "inspect" in listing.stdout


def test_a_demo_name_runs_that_demo(capsys):
    assert demos_main(["convolution", "--windows", "1"]) == 0
    assert "vertical-edge kernel" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# defect 12: the parity report
# ---------------------------------------------------------------------------
def test_parity_rejects_an_unknown_group(capsys):
    usage_error(capsys, lambda: report.main(["--group", "nosuch"]),
                "argument --group: invalid choice: 'nosuch'", "conv")


def test_parity_without_a_reference_framework_fails(monkeypatch, capsys):
    monkeypatch.setattr(references, "availability",
                        lambda device: (False, "neither tensorflow nor jax is installed"))
    assert report.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "skipped: neither tensorflow nor jax is installed" in out
    assert "no case ran" in out and "0 failed" not in out


def test_parity_with_groups_that_have_no_case_in_the_grid_fails(monkeypatch, capsys):
    monkeypatch.setattr(references, "availability", lambda device: (True, ""))
    monkeypatch.setattr(references, "get", lambda device: None)     # never used: no case
    assert report.main(["--quick", "--group", "training", "--device", "tf-cpu"]) == 1
    assert "no case ran" in capsys.readouterr().out
