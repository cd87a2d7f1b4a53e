"""Shared fixtures: real MNIST digits and one small model trained once per session."""
import io

import matplotlib.image
import numba
import numpy as np
import pytest

import minicnn
from minicnn import layers


def rendered(fig):
    """The figure as an RGBA array (H, W, 4) in [0, 1], rendered through a PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    buffer.seek(0)
    return matplotlib.image.imread(buffer, format="png")


def assert_not_blank(fig):
    """Something was drawn: the pixels vary, and not only in a thin border."""
    pixels = rendered(fig)[..., :3]
    assert pixels.std() > 0.05
    assert (np.abs(pixels - 1).sum(axis=-1) > 0.1).mean() > 0.02   # > 2 % non-white pixels


@pytest.fixture(scope="package", autouse=True)
def one_numba_thread():
    """Run this folder's Numba kernels on one thread, then restore the setting.

    On the shared 2-core machine, with other jobs running, two Numba threads
    made the digit model's 300 training steps take 110-128 s instead of 3 s
    (each parallel loop waits for a thread the OS has parked). One thread
    keeps this folder fast whatever the load.
    """
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


@pytest.fixture(scope="package")
def mnist():
    """(x_train, y_train), (x_test, y_test): float32 (N, 28, 28, 1) in [0, 1], int labels."""
    from minicnn.datasets import mnist as mnist_data
    (x_train, y_train), (x_test, y_test) = mnist_data.load_data()
    scale = lambda x: (x.astype(np.float32) / 255)[..., None]   # noqa: E731  (N,28,28)->(N,28,28,1)
    return (scale(x_train[:12000]), y_train[:12000]), (scale(x_test[:500]), y_test[:500])


@pytest.fixture(scope="package")
def digit_model(mnist, one_numba_thread):
    """Conv 8 - pool - conv 16 - pool - dense 10: 300 Adam steps on real digits (~96 %)."""
    (x, y), _ = mnist
    minicnn.set_random_seed(0)
    model = minicnn.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu", name="conv_a"),      # (26, 26, 8)
        layers.MaxPooling2D(2, name="pool_a"),                      # (13, 13, 8)
        layers.Conv2D(16, 3, activation="relu", name="conv_b"),     # (11, 11, 16)
        layers.MaxPooling2D(2, name="pool_b"),                      # (5, 5, 16)
        layers.Flatten(name="flatten"),
        layers.Dense(10, activation="softmax", name="dense"),
    ])
    model.compile(minicnn.optimizers.Adam(0.003), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x[:9600], y[:9600], batch_size=32, epochs=1, verbose=0)
    return model
