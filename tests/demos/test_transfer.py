"""The transfer-learning demo: freezing and unfreezing, a --quick run, a base from
Keras, bad input. The runs call ``main(argv)`` in-process on a few hundred digits."""
import re

import numpy as np
import pytest

import minicnn
from minicnn.demos import DEMOS, transfer

PHASES = ("feature extraction (base frozen)", "fine-tuning (top block unfrozen)",
          "from scratch (same architecture)")


def phase_accuracies(out):
    """{phase: test accuracy} from the printed table."""
    found = {}
    for phase in PHASES:
        match = re.search(re.escape(phase) + r"\s+([\d.]+)%\s+([\d.]+) s", out)
        assert match, out
        found[phase] = float(match.group(1)) / 100
    return found


def one_line_error(status, err, *needles):
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_listed_among_the_demos():
    assert "transfer" in DEMOS


# ---------------------------------------------------------------------------
# freezing, the functional head, unfreezing the top block
# ---------------------------------------------------------------------------
def test_frozen_base_does_not_train_then_only_the_top_block_does():
    minicnn.set_random_seed(0)
    base = transfer.build_base()
    base.trainable = False
    model = transfer.classifier(base, 5)
    assert model.output_shape == (None, 5)
    assert len(model.trainable_weights) == 4                    # the head's two Dense layers
    x = np.random.default_rng(0).random((32, 28, 28, 1), dtype=np.float32)
    y = np.arange(32) % 5
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in base.layers}
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for layer in base.layers:
        for a, b in zip(before[layer.name], layer.get_weights()):
            np.testing.assert_array_equal(a, b)

    assert transfer.unfreeze_top_block(base) == ["block3_conv1"]
    assert len(model.trainable_weights) == 4 + 2
    model.compile(minicnn.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    changed = {layer.name for layer in base.layers if layer.params and not all(
        np.array_equal(a, b) for a, b in zip(before[layer.name], layer.get_weights()))}
    assert changed == {"block3_conv1"}


@pytest.mark.skipif(not transfer.augmentation(), reason="minicnn has no RandomRotation layers")
def test_augmentation_layers_change_images_only_in_training():
    minicnn.set_random_seed(0)
    model = transfer.classifier(transfer.build_base(), 5, augment=True)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[1:4] == list(transfer.AUGMENTATION)              # right after the Input
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    rotate = model.layers[1]
    assert not np.allclose(rotate.forward(x, training=True), x)
    np.testing.assert_array_equal(rotate.forward(x, training=False), x)


def test_top_block_of_a_vgg16_base():
    base = minicnn.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    assert [layer.name for layer in transfer.top_block(base)] == [
        "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    assert transfer.unfreeze_top_block(base) == ["block5_conv1", "block5_conv2", "block5_conv3"]
    assert not base.get_layer("block4_conv3").trainable


def test_digits_for_another_base():
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 10:18, 10:18] = 255
    x = transfer.Images((32, 32, 3))(digits)
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x.min() == 0.0
    np.testing.assert_array_equal(x[..., 0], x[..., 2])           # gray repeated
    caffe = transfer.Images((28, 28, 3), "caffe")(digits)        # BGR, ImageNet means removed
    assert caffe[0, 0, 0].tolist() == pytest.approx([-103.939, -116.779, -123.68])


def test_small_sets_are_balanced_and_disjoint():
    y = np.repeat(np.arange(5), 50)
    x = np.arange(250)                                          # stands for the images
    (xs, ys), (xv, yv) = transfer.small_sets(x, y, 20, seed=0)
    assert np.bincount(ys).tolist() == [20] * 5 and np.bincount(yv).tolist() == [20] * 5
    assert not set(xs) & set(xv)


# ---------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------
def test_quick_run(tmp_path, capsys):
    plot, save = tmp_path / "curves.png", tmp_path / "tuned.npz"
    status = transfer.main(["--quick", "--quiet", "--plot", str(plot), "--save", str(save)])
    out = capsys.readouterr().out
    assert status == 0
    assert "accuracy on 1,000 test digits 5-9 (30 labelled training images per class)" in out
    pretrained = re.search(r"\(([\d.]+)% on test digits 0-4\)", out)
    assert pretrained and float(pretrained.group(1)) > 90, out
    for phase, accuracy in phase_accuracies(out).items():
        assert accuracy > 0.5, (phase, out)                     # chance is 0.2
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = minicnn.load_model(save)
    assert model.output_shape == (None, 5)


def test_a_base_saved_from_keras(tmp_path, capsys):
    keras = pytest.importorskip("keras", reason="--keras-weights reads .keras files with Keras 3")
    base = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(8, 3, activation="relu", name="block1_conv1"),
        keras.layers.MaxPooling2D(name="block1_pool"),
        keras.layers.Conv2D(8, 3, activation="relu", name="block2_conv1"),
        keras.layers.MaxPooling2D(name="block2_pool"),
    ], name="tiny_base")
    path = tmp_path / "base.keras"
    base.save(path)
    status = transfer.main(["--keras-weights", str(path), "--quick", "--plot", "",
                            "--per-class", "10", "--head-epochs", "2", "--fine-tune-epochs", "1",
                            "--test-size", "200"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "tiny_base" in out and "(32, 32, 3)" in out
    assert "pretraining on digits 0-4" not in out               # the base came trained
    assert "block2_conv1 unfrozen" in out
    assert len(phase_accuracies(out)) == 3


def test_bad_input(tmp_path, capsys):
    status = transfer.main(["--keras-weights", str(tmp_path / "missing.keras"), "--plot", ""])
    one_line_error(status, capsys.readouterr().err, "missing.keras")
    status = transfer.main(["--per-class", "4000", "--plot", ""])
    one_line_error(status, capsys.readouterr().err, "--per-class 4000")
    status = transfer.main(["--quick", "--plot", str(tmp_path)])
    one_line_error(status, capsys.readouterr().err, "is a folder")
    with pytest.raises(SystemExit) as exit:
        transfer.main(["--per-class", "0"])
    assert exit.value.code == 2


def test_help(capsys):
    with pytest.raises(SystemExit) as exit:
        transfer.main(["--help"])
    out = capsys.readouterr().out
    assert exit.value.code == 0
    for option in ("--quick", "--keras-weights", "--per-class", "--fine-tune-epochs"):
        assert option in out

