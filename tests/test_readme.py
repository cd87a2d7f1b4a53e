"""The README's Python examples run as written (on a slice of MNIST, for time)."""
import os
import re

import numpy as np
import pytest

import minicnn
from minicnn.datasets import mnist

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)


def test_the_api_tour_trains_and_looks_inside(monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) >= 2, "the README lost its API tour"
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    subset = ((x_train[:3000], y_train[:3000]), (x_test[:500], y_test[:500]))
    monkeypatch.setattr(mnist, "load_data", lambda *a, **k: subset)
    minicnn.set_random_seed(0)               # seeds 0-4 measured: 92.4-97.8 % test accuracy
    namespace = {}
    exec(compile(blocks[0], "README.md (API tour)", "exec"), namespace)
    history, model = namespace["history"], namespace["model"]
    losses = history.history["loss"]
    assert len(losses) == 5 and losses[-1] < 0.5 * losses[0]
    loss, accuracy = model.evaluate(namespace["x_test"], namespace["y_test"], verbose=0)
    assert accuracy > 0.9                    # 5 epochs of 2,700 digits
    exec(compile(blocks[1], "README.md (looking inside)", "exec"), namespace)
    assert namespace["dx"].shape == (8, 28, 28, 1) and np.abs(namespace["dx"]).sum() > 0
    assert namespace["conv"].grads["kernel"].shape == (3, 3, 1, 32)
    assert len(namespace["grads"]) == len(model.trainable_weights)
    assert np.isfinite(namespace["loss"])
    assert namespace["a"].shape == namespace["d"].shape == (8, 11, 11, 64)
    first = model.forward(namespace["x"], upto=0)            # conv2d with its ReLU
    np.testing.assert_allclose(np.maximum(namespace["y1"], 0), first, rtol=1e-5, atol=1e-6)
    assert namespace["dkernel"].shape == (3, 3, 1, 32) and namespace["dx1"].shape == (8, 28, 28, 1)
    assert "conv2d" in capsys.readouterr().out   # layer_outputs printed every layer


def test_the_functional_api_tour_runs(monkeypatch):
    """Block 3: the chapter's functional convnet, an activation model and a two-input,
    two-output model with a shared layer, on a slice of MNIST."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train[:1500, ..., None] / 255).astype("float32")
    namespace = {"x_train": x_train, "y_train": y_train[:1500],
                 "x_test": (x_test[:10, ..., None] / 255).astype("float32"),
                 "minicnn": minicnn, "layers": minicnn.layers, "np": np}
    minicnn.set_random_seed(0)
    exec(compile(python_blocks()[2], "README.md (functional API)", "exec"), namespace)
    assert namespace["model"].count_params() == 104_202
    assert [m.shape for m in namespace["maps"]] == [(1, 26, 26, 32), (1, 13, 13, 32),
                                                    (1, 11, 11, 64), (1, 5, 5, 64),
                                                    (1, 3, 3, 128)]
    logs = namespace["logs"]
    assert {"loss", "same_loss", "digit_loss", "same_accuracy", "digit_accuracy"} <= set(logs)
    assert np.isfinite(logs["loss"][0])


def test_the_keras_round_trip_runs(tmp_path, monkeypatch):
    """Block 4: to_keras / from_keras / .keras files, on the functional convnet."""
    keras = pytest.importorskip("keras")
    monkeypatch.chdir(tmp_path)
    namespace = {"minicnn": minicnn, "model": minicnn.zoo.keras_mnist_functional(),
                 "x_test": np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)}
    exec(compile(python_blocks()[3], "README.md (Keras in and out)", "exec"), namespace)
    assert isinstance(namespace["keras_model"], keras.Model)
    x = namespace["x_test"]
    np.testing.assert_allclose(namespace["same"].predict(x), namespace["model"].predict(x),
                               rtol=1e-6, atol=1e-7)
    assert namespace["base"].count_params() == 14_714_688


def test_the_gradient_tape_block_runs():
    """Block 5: gradient ascent on an input and one custom training step."""
    rng = np.random.default_rng(0)
    minicnn.set_random_seed(1)                           # filter 3 of this net is alive
    namespace = {"minicnn": minicnn, "np": np, "model": minicnn.zoo.keras_mnist_functional(),
                 "x_train": rng.random((32, 28, 28, 1), dtype=np.float32),
                 "y_train": rng.integers(0, 10, 32)}
    before = [w.copy() for w in namespace["model"].trainable_weights]
    np.random.seed(5)                                    # the block's starting noise
    start = np.random.uniform(0.4, 0.6, (1, 28, 28, 1)).astype("float32")
    np.random.seed(5)
    exec(compile(python_blocks()[4], "README.md (GradientTape)", "exec"), namespace)
    moved = np.abs(namespace["image"].numpy() - start)
    assert moved.max() > 0.01                            # the ascent changed the pixels
    assert all(g.shape == w.shape for g, w in zip(namespace["grads"], before))
    assert any(np.abs(w - b).max() > 0 for w, b in
               zip(namespace["model"].trainable_weights, before))    # one Adam step taken


def test_the_folder_and_augmentation_block_runs(tmp_path, monkeypatch):
    """Block 6: a generated image folder, image_dataset_from_directory with augmentation
    layers, and ImageDataGenerator.flow_from_directory."""
    monkeypatch.chdir(tmp_path)
    minicnn.set_random_seed(0)
    namespace = {"minicnn": minicnn, "layers": minicnn.layers}
    exec(compile(python_blocks()[5], "README.md (folders)", "exec"), namespace)
    assert namespace["train"].class_names == ["bright", "dark"]
    assert len(os.listdir(tmp_path / "shapes" / "dark")) == 40
    history = namespace["history"].history
    assert len(history["loss"]) == 3 and "val_accuracy" in history


@pytest.mark.parametrize("block", range(len(python_blocks())))
def test_every_python_block_compiles(block):
    compile(python_blocks()[block], f"README.md block {block}", "exec")
