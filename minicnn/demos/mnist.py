"""Train a convnet on MNIST handwritten digits.

    python -m minicnn.demos.mnist                    # ~1 minute on 2 quiet cores, >= 99.0 %
    python -m minicnn.demos.mnist --preset long      # lenet5_tf, 7 epochs: 99.29 % measured, ~3 min
    python -m minicnn.demos.mnist --model lenet5 --epochs 5
    python -m minicnn.demos.mnist --predict digit.png --model mnist_model.npz

It prints the model summary, a progress bar per epoch, validation results,
the test accuracy, the wall time and images per second; it saves the model
(``--save``) and the loss/accuracy curves (``--plot``). Ctrl-C stops after
the current batch and still saves what was trained. The data is the copy of
MNIST shipped with minicnn unless ``--data`` names an ``mnist.npz`` or a
folder with the four IDX files.
"""
import sys

import numpy as np

import minicnn
from minicnn import zoo
from minicnn.datasets import load_image, mnist

from . import _common

PRESETS = {
    "default": dict(help="Keras MNIST convnet, Adam, 4 epochs of batch 64 (99.22 %, 49 s on 2 cores)",
                    model="keras_mnist_convnet", epochs=4, batch_size=64, optimizer="adam",
                    learning_rate=2e-3, decay=0.5, validation_split=0.05),
    "long": dict(help="TF-chapter LeNet-5 (dropout) with Glorot weights, Adam, 7 epochs of "
                      "batch 128 (99.29 %, 3 min 19 s on 2 cores)",
                 model="lenet5_tf_glorot", epochs=7, batch_size=128, optimizer="adam",
                 learning_rate=1e-3, decay=0.75, validation_split=0.05),
    "tiny": dict(help="a smoke test: 2,000 images, 1 epoch (seconds)",
                 model="lenet5", epochs=1, batch_size=64, optimizer="adam",
                 learning_rate=2e-3, decay=1.0, validation_split=0.1, train_size=2000,
                 test_size=1000),
}
SHAPE, CLASSES = (28, 28, 1), 10
# The zoo's MNIST networks, plus the TF-chapter LeNet-5 started from Glorot
# weights: from the chapter's N(0, 0.01) it learns too slowly for a demo
# (98.6 % after 7 epochs), from Glorot it passes 99.3 % in 6.
ZOO = {**{name: zoo.MODELS[name] for name in zoo.MNIST_MODELS},
       "lenet5_tf_glorot": lambda: zoo.lenet5_tf(kernel_initializer="glorot_uniform")}


def parse_args(argv):
    p = _common.parser("python -m minicnn.demos.mnist", __doc__.split("\n\n")[0], PRESETS, ZOO)
    p.set_defaults(save="mnist_model.npz", plot="mnist_curves.png")
    p.add_argument("--data", help="mnist.npz or a folder of IDX files (default: the shipped copy)")
    return _common.resolve(p.parse_args(argv), PRESETS)


def load(args):
    """Scaled float32 images (N, 28, 28, 1) in [0, 1] and integer labels."""
    (x_train, y_train), (x_test, y_test) = _common.load_or_fail(
        "MNIST data", mnist.load_data, args.data)
    x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    x_test, y_test = x_test[:args.test_size], y_test[:args.test_size]
    if len(x_train) < 1 or len(x_test) < 1:
        raise _common.DemoError(f"MNIST data {args.data or '(packaged)'}: too few images to "
                                f"train and test ({len(x_train)} training, {len(x_test)} "
                                f"test)")
    scale = lambda x: (x.astype(np.float32) / 255)[..., None]   # noqa: E731  (N,28,28)->(N,28,28,1)
    return (scale(x_train), y_train), (scale(x_test), y_test)


def predict(args):
    """Print the probability of each digit for one image file."""
    model = _common.load_model_for(args.model if args.model not in zoo.MODELS else args.save,
                                   SHAPE, CLASSES)
    image = _common.load_or_fail("image", load_image, args.predict, size=SHAPE[:2])
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 127:            # dark digit on light paper: MNIST is light on dark
        image = 255 - image
    probs = model.predict(image[None, :, :, None] / 255, verbose=0)          # (1, 10)
    probs = _common.softmax_if_logits(model, probs)[0]
    print(f"{args.predict}: digit {int(probs.argmax())} ({probs.max():.1%})")
    for digit, p in enumerate(probs):
        print(f"  {digit}: {p:6.2%}")


def main(argv=None):
    return _common.run_main(_main, argv)


def _main(argv):
    args = parse_args(argv)
    if args.predict:
        return predict(args)
    _common.check_writable(args.save, args.plot)
    minicnn.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args)
    (x_fit, y_fit), val = _common.split_validation(x_train, y_train, args.validation_split,
                                                   args.seed)
    model = _common.get_model(args.model, ZOO, SHAPE, CLASSES)
    if not args.quiet:
        model.summary()
    run = _common.train(model, x_fit, y_fit, args, validation_data=val)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test accuracy: {accuracy:.2%} on {len(x_test):,} images (loss {loss:.4f}); "
          f"training took {run.seconds:.1f} s, {run.images_per_second:,.0f} images/s")
    _common.save_results(model, run, args)
    _common.say(args, _common.reload_hint(
        "mnist", args.save, "from minicnn.datasets import mnist; (_, _), (x, y) = "
        "mnist.load_data(); x = x[..., None] / 255.0"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
