"""Transfer learning: a convolutional base trained on digits 0-4, reused for digits 5-9.

    python -m minicnn.demos.transfer                      # about a minute on 2 cores
    python -m minicnn.demos.transfer --quick              # a smoke run, < 30 s
    python -m minicnn.demos.transfer --per-class 20       # even fewer labelled digits
    python -m minicnn.demos.transfer --keras-weights vgg16_base.keras   # a base saved from Keras

The Keras chapters reuse VGG16's ImageNet convolutional base for cats and
dogs; here everything ships with minicnn or is trained on the spot:

1. pretraining: a small VGG-style base (three blocks of conv 3x3 + max
   pooling, 32-64-64 filters) with a classifier on top learns the real MNIST
   digits 0-4 (30,596 images);
2. feature extraction: the base is frozen (``base.trainable = False``) and a
   new head is put on it with the functional API::

       inputs = minicnn.Input(shape=(28, 28, 1))
       x = layers.RandomRotation(0.05, fill_mode="constant")(inputs)  # augmentation,
       x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)  # in training
       x = layers.RandomZoom(0.1, fill_mode="constant")(x)  # only
       x = base(x, training=False)
       x = layers.Flatten()(x)
       x = layers.Dense(64, activation="relu")(x)
       x = layers.Dropout(0.5)(x)
       outputs = layers.Dense(5, activation="softmax")(x)
       model = minicnn.Model(inputs, outputs)

   and only the head trains, on a small labelled set of digits 5-9 (default
   100 images per class), randomly rotated, shifted and zoomed in training
   (``--no-augment`` leaves that out);
3. fine-tuning: the top block of the base is unfrozen (``layer.trainable =
   True`` for its convolution), the model is compiled again with a 10 times
   lower learning rate and trained a few more epochs;
4. for comparison, the same architecture trains from scratch (fresh weights,
   everything trainable) on the same small set for as many epochs as phases 2
   and 3 together.

It prints each phase's accuracy on the digits 5-9 of the MNIST test set
(4,861 images) and its time, and saves the training and validation curves
(``--plot``). The validation set is another ``--per-class`` images per digit,
apart from the training set.

``--keras-weights FILE`` skips the pretraining and starts from a base saved
from Keras (a ``.keras`` or ``.h5`` file, read with ``minicnn.load_model``,
which needs Keras 3; a minicnn ``.npz`` works too), for example VGG16's
convolutional base::

    import keras
    keras.applications.VGG16(weights="imagenet", include_top=False,
                             input_shape=(32, 32, 3)).save("vgg16_base.keras")

The digits are then resized to the base's input and repeated to its channels
(28x28x1 -> 32x32x3 for that VGG16) and scaled as ``--preprocess`` says
(default: Keras's VGG "caffe" scaling for a base named vgg16/vgg19, else
[0, 1]). The top block is the layers after the base's next-to-last pooling
layer (VGG16: block5_conv1-3); "from scratch" is the same architecture with
fresh weights.
"""
import argparse
import sys
import time

import numpy as np

import minicnn
from minicnn import layers, optimizers
from minicnn.datasets import mnist

from . import _common
from ._common import DemoError

OLD_DIGITS, NEW_DIGITS = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
SHAPE = (28, 28, 1)
POOLING = (layers.MaxPooling2D, layers.AveragePooling2D)

PRESETS = {
    "default": dict(help="pretrain on all 30,596 digits 0-4 for 2 epochs; 100 labelled "
                         "digits per class; 30 + 15 epochs (about a minute)",
                    pretrain_size=None, pretrain_epochs=2, per_class=100, head_epochs=30,
                    fine_tune_epochs=15, test_size=None),
    "quick": dict(help="a smoke run: 3,000 digits 0-4, 1 epoch; 30 per class; 8 + 4 epochs; "
                       "1,000 test digits (< 30 s)",
                  pretrain_size=3000, pretrain_epochs=1, per_class=30, head_epochs=8,
                  fine_tune_epochs=4, test_size=1000),
}


# ---------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------
def build_base(input_shape=SHAPE):
    """The convolutional base: three VGG-style blocks, 28x28x1 -> 3x3x64."""
    return minicnn.Sequential([
        layers.Input(input_shape),                                              # (28, 28, 1)
        layers.Conv2D(32, 3, padding="same", activation="relu", name="block1_conv1"),
        layers.MaxPooling2D(2, name="block1_pool"),                             # (14, 14, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu", name="block2_conv1"),
        layers.MaxPooling2D(2, name="block2_pool"),                             # (7, 7, 64)
        layers.Conv2D(64, 3, padding="same", activation="relu", name="block3_conv1"),
        layers.MaxPooling2D(2, name="block3_pool"),                             # (3, 3, 64)
    ], name="digits_base")


AUGMENTATION = ("RandomRotation", "RandomTranslation", "RandomZoom")


def augmentation():
    """Keras's preprocessing layers for the small labelled set, as the chapters use
    them: small rotations, shifts and zooms, with black (0) filling in the borders;
    no flips (a mirrored digit is another symbol). They change the images only in
    training. An empty list if this minicnn has no such layers."""
    if not all(hasattr(layers, name) for name in AUGMENTATION):
        return []
    return [layers.RandomRotation(0.05, fill_mode="constant"),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            layers.RandomZoom(0.1, fill_mode="constant")]


def classifier(base, num_classes, augment=False, dense=64, dropout=0.5):
    """``base`` with a new head on top, built with the functional API.

    ``base(x, training=False)`` keeps the base in inference mode even when the
    head trains (it matters for BatchNormalization in a base; and a frozen base
    is not changed by the head's training either way). ``augment``: the
    augmentation layers in front of the base.
    """
    inputs = minicnn.Input(shape=base.input_shape[1:])
    x = inputs
    for layer in augmentation() if augment else []:
        x = layer(x)
    x = base(x, training=False)
    x = layers.Flatten()(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return minicnn.Model(inputs, outputs, name=f"{base.name}_classifier")


def top_block(base):
    """The layers of the base's last block: those after its next-to-last pooling layer
    when it ends with pooling, else after its last one (the last layer if it has none)."""
    stack = [layer for layer in base.layers if type(layer).__name__ != "InputLayer"]
    pools = [i for i, layer in enumerate(stack) if isinstance(layer, POOLING)]
    if pools and pools[-1] == len(stack) - 1:
        pools = pools[:-1]
    start = pools[-1] + 1 if pools else len(stack) - 1
    return stack[start:]


def unfreeze_top_block(base):
    """Keras's recipe: the base trainable again, then every layer below the top block
    frozen. Returns the names of the layers that train."""
    base.trainable = True
    top = top_block(base)
    for layer in base.layers:
        layer.trainable = layer in top
    return [layer.name for layer in top if layer.params]


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def split_digits(x, y, digits):
    """The images of ``digits``, labelled 0..len(digits)-1 in that order."""
    keep = np.isin(y, digits)
    return x[keep], np.searchsorted(np.asarray(digits), y[keep]).astype(np.int64)


def small_sets(x, y, per_class, seed):
    """``per_class`` training and ``per_class`` validation images of every label, disjoint."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(y):
        where = rng.permutation(np.flatnonzero(y == label))
        if len(where) < 2 * per_class:
            raise DemoError(f"--per-class {per_class}: only {len(where)} training images of "
                            f"one class, fewer than {2 * per_class} (training + validation)")
        train.append(where[:per_class])
        val.append(where[per_class:2 * per_class])
    train, val = rng.permutation(np.concatenate(train)), np.concatenate(val)
    return (x[train], y[train]), (x[val], y[val])


class Images:
    """Turns uint8 digits (N, 28, 28) into the base's input: resized, channels, scaled."""

    def __init__(self, input_shape, preprocess="unit"):
        self.height, self.width, self.channels = input_shape
        self.preprocess = preprocess

    def __call__(self, digits):
        x = np.asarray(digits)
        if x.shape[1:] != (self.height, self.width):
            from PIL import Image
            x = np.stack([np.asarray(Image.fromarray(d).resize((self.width, self.height),
                                                              Image.BILINEAR)) for d in x])
        x = np.repeat(x[..., None].astype(np.float32), self.channels, axis=-1)  # (N, H, W, C)
        if self.preprocess == "unit":
            return x / 255.0
        from minicnn.applications import imagenet_utils
        return imagenet_utils.preprocess_input(x, mode=self.preprocess)


def load_keras_base(path, preprocess):
    """The base saved from Keras (or by minicnn) and how to scale digits for it."""
    try:
        base = _common.load_or_fail("--keras-weights", minicnn.load_model, path, compile=False)
    except ImportError as err:
        raise DemoError(f"--keras-weights {path}: reading a Keras file needs Keras 3 "
                        f"(pip install -e \".[keras]\"): {_common._first_line(err)}") from None
    shape = tuple(base.input_shape[1:])
    if len(shape) != 3 or shape[-1] not in (1, 3) or None in shape:
        raise DemoError(f"--keras-weights {path}: the base must take images (height, width, "
                        f"1 or 3 channels) of a fixed size; its input is {shape}")
    if len(base.output_shape) not in (2, 4):
        raise DemoError(f"--keras-weights {path}: expected a convolutional base (feature maps "
                        f"or pooled features); its output is {tuple(base.output_shape[1:])}")
    if preprocess == "auto":
        preprocess = "caffe" if base.name.lower().startswith(("vgg16", "vgg19")) else "unit"
    return base, Images(shape, preprocess)


# ---------------------------------------------------------------------------
# the phases
# ---------------------------------------------------------------------------
def fit(model, data, val, epochs, learning_rate, args, initial_epoch=0):
    """Compile with Adam(``learning_rate``) and train; returns (history dict, seconds)."""
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(*data, batch_size=args.batch_size, epochs=initial_epoch + epochs,
                        initial_epoch=initial_epoch, validation_data=val,
                        verbose=0 if args.quiet else 2)
    return history.history, time.perf_counter() - start


def _epochs(n):
    return f"{n} epoch" + ("s" if n != 1 else "")


def accuracy(model, x, y):
    return float(model.evaluate(x, y, batch_size=256, verbose=0)[1])


def plot_curves(transfer, scratch, switch, path):
    """Training and validation accuracy and loss per epoch, transfer vs scratch."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    for ax, key in zip(fig.subplots(1, 2), ("accuracy", "loss")):
        for logs, name, color in ((transfer, "pretrained base", "C0"),
                                  (scratch, "from scratch", "C1")):
            epochs = np.arange(1, len(logs[key]) + 1)
            ax.plot(epochs, logs[key], "--", color=color, label=f"{name}: training")
            ax.plot(epochs, logs["val_" + key], "-", color=color, label=f"{name}: validation")
        ax.axvline(switch + 0.5, color="gray", linestyle=":", label="fine-tuning starts")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(f"{key} on digits 5-9")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("transfer learning: feature extraction, then fine-tuning, vs training from "
                 "scratch")
    fig.savefig(path, dpi=100)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m minicnn.demos.transfer", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"sizes:\n  default  {PRESETS['default']['help']}\n"
               f"  --quick  {PRESETS['quick']['help']}")
    p.add_argument("--quick", action="store_true", help="a smoke run (< 30 s)")
    p.add_argument("--per-class", type=_common.positive_int,
                   help="labelled training images per digit 5-9 (default 100; as many again "
                        "are the validation set)")
    p.add_argument("--pretrain-size", type=_common.positive_int,
                   help="digits 0-4 to pretrain the base on (default: all 30,596)")
    p.add_argument("--pretrain-epochs", type=_common.positive_int)
    p.add_argument("--head-epochs", type=_common.positive_int,
                   help="epochs of feature extraction (the head alone; default 30)")
    p.add_argument("--fine-tune-epochs", type=_common.positive_int,
                   help="epochs of fine-tuning with the top block unfrozen (default 15)")
    p.add_argument("--test-size", type=_common.positive_int,
                   help="test digits 5-9 to measure on (default: all 4,861)")
    p.add_argument("--batch-size", type=_common.positive_int, default=32)
    p.add_argument("--learning-rate", type=_common.positive_float, default=1e-3,
                   help="Adam's learning rate for pretraining, the head and the scratch "
                        "model (default 0.001); fine-tuning uses a tenth of it")
    p.add_argument("--seed", type=_common.non_negative_int, default=0,
                   help="same seed, same numbers (default 0)")
    p.add_argument("--keras-weights", metavar="FILE",
                   help="start from this saved convolutional base (.keras/.h5 from Keras, or "
                        "a minicnn .npz) instead of pretraining one on digits 0-4")
    p.add_argument("--preprocess", choices=("auto", "unit", "caffe", "tf", "torch"),
                   default="auto", help="how to scale the digits for --keras-weights: unit = "
                                        "[0, 1], or a mode of Keras's imagenet_utils."
                                        "preprocess_input (default auto: caffe for vgg16/vgg19)")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="train the head and the scratch model without augmentation (random "
                        "rotations, shifts and zooms of the small labelled set)")
    p.add_argument("--plot", default="transfer_curves.png",
                   help="where to save the curves (.png; '' for none)")
    p.add_argument("--save", default="",
                   help="where to save the fine-tuned model (.npz; default: not saved)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = p.parse_args(argv)
    for key, value in PRESETS["quick" if args.quick else "default"].items():
        if key != "help" and getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    try:
        return _common.run_main(_main, argv)
    except KeyboardInterrupt:                      # the phases are short: stop at once
        print("\nCtrl-C: stopped", file=sys.stderr)
        return 130


def _main(argv):
    args = parse_args(argv)
    _common.check_writable(args.plot, args.save)
    total_start = time.perf_counter()
    (x_all, y_all), (x_test_all, y_test_all) = _common.load_or_fail("MNIST data", mnist.load_data)
    x_new, y_new = split_digits(x_all, y_all, NEW_DIGITS)
    x_test, y_test = split_digits(x_test_all, y_test_all, NEW_DIGITS)
    x_test, y_test = x_test[:args.test_size], y_test[:args.test_size]
    (x_small, y_small), (x_val, y_val) = small_sets(x_new, y_new, args.per_class, args.seed)
    rows = []

    # 1. the base: pretrained here on digits 0-4, or brought in from Keras
    minicnn.set_random_seed(args.seed)
    if args.keras_weights:
        base, images = load_keras_base(args.keras_weights, args.preprocess)
        _common.say(args, f"base: {base.name} from {args.keras_weights}, input "
                          f"{tuple(base.input_shape[1:])}, {base.count_params():,} parameters "
                          f"(digits resized and scaled: {images.preprocess})")
        rebuild_base = lambda: minicnn.Model.from_config(base.get_config())  # noqa: E731
    else:
        images = Images(SHAPE)
        base = build_base()
        rebuild_base = build_base
        x_old, y_old = split_digits(x_all, y_all, OLD_DIGITS)
        x_old_test, y_old_test = split_digits(x_test_all, y_test_all, OLD_DIGITS)
        x_old = x_old[:args.pretrain_size]
        y_old = y_old[:args.pretrain_size]
        pretrain = classifier(base, len(OLD_DIGITS))
        _common.say(args, f"1. pretraining the base on {len(x_old):,} digits 0-4 "
                          f"({_epochs(args.pretrain_epochs)})")
        _, seconds = fit(pretrain, (images(x_old), y_old), None, args.pretrain_epochs,
                         args.learning_rate, args)
        old_accuracy = accuracy(pretrain, images(x_old_test), y_old_test)
        rows.append(("pretraining on digits 0-4", f"({old_accuracy:.2%} on test digits 0-4)",
                     seconds))
    x_small, x_val, x_test = images(x_small), images(x_val), images(x_test)
    small, val = (x_small, y_small), (x_val, y_val)

    # 2. feature extraction: the base frozen, a new head trained on the small set
    minicnn.set_random_seed(args.seed + 1)
    base.trainable = False
    model = classifier(base, len(NEW_DIGITS), augment=args.augment)
    augmented = ("augmented: " + ", ".join(type(layer).__name__ for layer in augmentation())
                 if args.augment and augmentation() else "no augmentation")
    _common.say(args, f"2. feature extraction: base frozen, the head trains on "
                      f"{len(x_small):,} digits 5-9 ({args.per_class} per class, {augmented}), "
                      f"{_epochs(args.head_epochs)}")
    head_logs, seconds = fit(model, small, val, args.head_epochs, args.learning_rate, args)
    rows.append(("feature extraction (base frozen)", f"{accuracy(model, x_test, y_test):.2%}",
                 seconds))

    # 3. fine-tuning: the top block unfrozen, compiled again with a lower learning rate
    unfrozen = unfreeze_top_block(base)
    _common.say(args, f"3. fine-tuning: {', '.join(unfrozen)} unfrozen, learning rate "
                      f"{args.learning_rate / 10:g}, {_epochs(args.fine_tune_epochs)}")
    tune_logs, seconds = fit(model, small, val, args.fine_tune_epochs, args.learning_rate / 10,
                             args, initial_epoch=args.head_epochs)
    rows.append(("fine-tuning (top block unfrozen)", f"{accuracy(model, x_test, y_test):.2%}",
                 seconds))

    # 4. the same architecture from scratch, on the same small set, as many epochs
    minicnn.set_random_seed(args.seed + 2)
    scratch = classifier(rebuild_base(), len(NEW_DIGITS), augment=args.augment)
    epochs = args.head_epochs + args.fine_tune_epochs
    _common.say(args, f"4. from scratch: the same architecture, fresh weights, all trainable, "
                      f"{_epochs(epochs)} on the same {len(x_small):,} digits")
    scratch_logs, seconds = fit(scratch, small, val, epochs, args.learning_rate, args)
    rows.append(("from scratch (same architecture)", f"{accuracy(scratch, x_test, y_test):.2%}",
                 seconds))

    print(f"\naccuracy on {len(x_test):,} test digits 5-9 "
          f"({args.per_class} labelled training images per class):")
    for phase, result, seconds in rows:
        print(f"  {phase:34s} {result:>30s}   {seconds:6.1f} s")
    print(f"total time {time.perf_counter() - total_start:.1f} s")
    if args.plot:
        transfer = {key: head_logs[key] + tune_logs[key] for key in head_logs}
        with _common.writing(args.plot):
            plot_curves(transfer, scratch_logs, args.head_epochs, args.plot)
        _common.say(args, f"saved the curves to {args.plot}")
    if args.save:
        with _common.writing(args.save):
            model.save(args.save)
        _common.say(args, f"saved the fine-tuned model to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
