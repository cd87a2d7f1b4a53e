"""What the demos share: options, the training run, Ctrl-C, saving, errors.

A demo's ``main(argv)`` reads its options with ``parser(...)``, loads data
(wrapping file errors with ``load_or_fail``), then calls ``train`` and
``finish``. Every problem with a user's file ends as one line on stderr and
exit status 1 (``DemoError``), never a traceback.
"""
import argparse
import math
import os
import signal
import sys
import time
from contextlib import contextmanager

import numpy as np

import minicnn
from minicnn import callbacks, optimizers

OPTIMIZERS = ("adam", "rmsprop", "sgd", "adagrad", "adadelta", "adamax", "nadam")


class DemoError(Exception):
    """A problem with the user's input: printed as one line, exit status 1."""


def run_main(body, argv):
    """Call ``body(argv)``; turn a ``DemoError`` into one stderr line and status 1."""
    try:
        return body(argv) or 0
    except DemoError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def load_or_fail(what, fn, *args, **kwargs):
    """``fn(*args)``; a missing or unreadable file becomes a one-line ``DemoError``.

    The loaders already name the file and the line in their messages; ``what``
    says which input it was ("MNIST data", "model file", ...).
    """
    try:
        return fn(*args, **kwargs)
    except FileNotFoundError as err:
        raise DemoError(f"{what}: {_first_line(err)}") from None
    except (ValueError, OSError, KeyError, EOFError) as err:
        raise DemoError(f"{what}: {_first_line(err)}") from None


def _first_line(err):
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------
def parser(prog, description, presets, models):
    """The options every demo takes; ``presets`` name -> dict of defaults."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="presets:\n" + "\n".join(
                                    f"  {name:8s} {preset['help']}" for name, preset in presets.items()))
    p.add_argument("--preset", choices=sorted(presets), default="default",
                   help="a tested set of settings (the other options override it)")
    p.add_argument("--model", metavar="NAME_OR_FILE",
                   help=f"a network of minicnn.zoo ({', '.join(models)}) or a model file "
                        f"saved by this demo (to train further, or for --predict)")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--learning-rate", type=positive_float,
                   help="initial learning rate (decays per epoch, see --decay)")
    p.add_argument("--decay", type=fraction,
                   help="multiply the learning rate by this after every epoch (1 = constant)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="same seed, same numbers (default 0)")
    p.add_argument("--train-size", type=positive_int, help="use only this many training images")
    p.add_argument("--test-size", type=positive_int, help="use only this many test images")
    p.add_argument("--validation-split", type=fraction_below_one,
                   help="fraction of the training images held out for validation")
    p.add_argument("--save", help="where to save the trained model (.npz)")
    p.add_argument("--plot", help="where to save the loss/accuracy curves (.png)")
    p.add_argument("--quiet", action="store_true", help="no summary and no progress bars")
    p.add_argument("--predict", metavar="IMAGE",
                   help="skip training: classify this PNG/JPEG with the model file given "
                        "by --model (default: the --save path)")
    return p


def resolve(args, presets):
    """Fill every option left unset from the chosen preset."""
    for key, value in presets[args.preset].items():
        if key != "help" and getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


# Option types. Each raises ArgumentTypeError with the whole message, so argparse
# prints "argument --epochs: expected a positive integer, received 'x'" and
# never the name of the function.
def _number(text, kind, expected):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}") from None


def positive_int(text):
    value = _number(text, int, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text}")
    return value


def non_negative_int(text):
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, received {text}")
    return value


def positive_float(text):
    value = _number(text, float, "a positive number")
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, received {text}")
    return value


def fraction(text):
    value = _number(text, float, "a number in (0, 1]")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], received {text}")
    return value


def fraction_below_one(text):
    value = _number(text, float, "a number in [0, 1)")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), received {text}")
    return value


def say(args, *parts):
    if not args.quiet:
        print(*parts, flush=True)


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------
def make_optimizer(name, learning_rate):
    return optimizers.get({"class_name": name, "config": {"learning_rate": learning_rate}})


def epoch_decay(initial, decay):
    """Learning rate ``initial * decay**epoch``, set at the start of every epoch (a
    Keras ``LearningRateScheduler``)."""
    return callbacks.LearningRateScheduler(lambda epoch: initial * decay ** epoch)


class StopOnInterrupt(callbacks.Callback):
    """Ctrl-C stops training after the current batch instead of killing the program.

    While training runs, SIGINT only sets a flag; ``on_batch_end`` then sets
    ``model.stop_training`` (``fit`` checks it after every batch), so the model
    is left consistent and can be saved. A second Ctrl-C interrupts at once.
    """

    def __init__(self):
        self.interrupted = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.interrupted:                       # second Ctrl-C: give up now
            raise KeyboardInterrupt
        self.interrupted = True
        if self.model is not None:
            self.model.stop_training = True
        print("\nCtrl-C: stopping after this batch (press again to quit at once)",
              file=sys.stderr, flush=True)

    def on_batch_end(self, batch, logs=None):
        if self.interrupted:                       # fit resets the flag when it starts
            self.model.stop_training = True

    @contextmanager
    def installed(self):
        self._previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, self._previous)


class Run:
    """What ``train`` measured: history, seconds, images seen, interrupted."""

    def __init__(self, history, seconds, images, interrupted):
        self.history, self.seconds, self.images = history, seconds, images
        self.interrupted = interrupted

    @property
    def images_per_second(self):
        return self.images / self.seconds if self.seconds > 0 else float("nan")


class _CountImages(callbacks.Callback):
    def __init__(self, batch_size, n):
        self.batch_size, self.n, self.images = batch_size, n, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self.images

    def on_batch_end(self, batch, logs=None):
        self.images = self._epoch_start + min((batch + 1) * self.batch_size, self.n)


def train(model, x, y, args, validation_data=None, extra_callbacks=()):
    """``model.fit`` with a learning-rate decay, Ctrl-C handling and timing."""
    model.compile(optimizer=make_optimizer(args.optimizer, args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = StopOnInterrupt()
    counter = _CountImages(args.batch_size, len(x))
    cbs = [epoch_decay(args.learning_rate, args.decay), counter, stop, *extra_callbacks]
    start = time.perf_counter()
    with stop.installed():
        say(args, f"training {model.name} on {len(x):,} images: {args.epochs} epochs, batch "
                  f"{args.batch_size}, {args.optimizer} lr {args.learning_rate:g} "
                  f"(x{args.decay:g} per epoch), seed {args.seed}; Ctrl-C stops and saves")
        history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs,
                            verbose=0 if args.quiet else 1, validation_data=validation_data,
                            callbacks=cbs)
    run = Run(history, time.perf_counter() - start, counter.images, stop.interrupted)
    say(args, f"trained in {run.seconds:.1f} s ({run.images_per_second:,.0f} images/s, "
              f"validation included)" + (" - interrupted by Ctrl-C" if run.interrupted else ""))
    return run


def split_validation(x, y, fraction, seed):
    """Hold out ``fraction`` of (x, y), chosen with ``seed``; returns (train, val or None).

    At least one image is held out, and at least one must be left to train on.
    """
    if not len(x):
        raise DemoError("there are no training images")
    if not fraction:
        return (x, y), None
    order = np.random.default_rng(seed).permutation(len(x))
    cut = len(x) - max(1, int(round(len(x) * fraction)))
    if cut < 1:
        raise DemoError(f"{len(x)} training image(s) are too few to hold out "
                        f"--validation-split {fraction:g} and still train; use more images "
                        f"or --validation-split 0")
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
def save_results(model, run, args):
    """Save the model and the curves PNG; return the paths written."""
    with writing(args.save):
        model.save(args.save)
    say(args, f"saved the model to {args.save}" + (" (partial: training was interrupted)"
                                                   if run.interrupted else ""))
    if args.plot and run.history.history:
        from minicnn import viz
        with writing(args.plot):
            viz.plot_history(run.history, save=args.plot)
        say(args, f"saved the loss and accuracy curves to {args.plot}")


@contextmanager
def writing(path):
    """Turn an error while writing ``path`` (permissions, full disk...) into a DemoError."""
    try:
        yield
    except OSError as err:
        raise DemoError(f"cannot write {path}: {err.strerror or err}") from None


def softmax_if_logits(model, out):
    """Probabilities from the model output (a softmax head already gives them)."""
    if getattr(model.layers[-1], "activation", None) == "softmax":
        return out
    z = out - out.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def get_model(name_or_path, zoo, input_shape, num_classes):
    """A new zoo network when the name is in ``zoo``, else a saved model file."""
    if name_or_path in zoo:
        return zoo[name_or_path]()
    if not os.path.exists(name_or_path):
        raise DemoError(f"--model {name_or_path}: neither a network of the zoo "
                        f"({', '.join(zoo)}) nor an existing model file")
    return load_model_for(name_or_path, input_shape, num_classes)


def load_model_for(path, input_shape, num_classes):
    """Load a saved model and check it fits this demo's images and classes."""
    model = load_or_fail("model file", minicnn.load_model, path, compile=False)
    if tuple(model.input_shape[1:]) != tuple(input_shape):
        raise DemoError(f"model file {path}: built for input {tuple(model.input_shape[1:])}, "
                        f"but this demo needs images of shape {tuple(input_shape)}")
    if model.output_shape[-1] != num_classes:
        raise DemoError(f"model file {path}: has {model.output_shape[-1]} outputs, "
                        f"but this demo needs {num_classes} classes")
    return model


def check_writable(*paths):
    """Fail before training, not after, when an output file cannot be written."""
    for path in paths:
        if not path:
            continue
        if os.path.isdir(path):
            raise DemoError(f"output path {path} is a folder; give a file name")
        check_folder_writable(os.path.dirname(os.path.abspath(path)), path)


def check_folder_writable(folder, path=None):
    """``folder`` exists and is writable, or could be created (its nearest existing
    parent is a writable folder); else a DemoError naming ``path``."""
    for_path = f" (for {path})" if path and path != folder else ""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise DemoError(f"cannot write to {folder}{for_path}: {existing} is a file, "
                        f"not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DemoError(f"cannot write to {folder}{for_path}: {existing} is not writable")


def make_output_folder(folder):
    """``os.makedirs(folder)``, failing with one DemoError line instead of a traceback."""
    check_folder_writable(folder)
    with writing(folder):
        os.makedirs(folder, exist_ok=True)


def reload_hint(demo, path, data_line):
    """The lines telling how to reload the saved model and predict."""
    return ("reload the model and predict:\n"
            f"  python -m minicnn.demos.{demo} --predict IMAGE.png --model {path}\n"
            f"  python -c \"import minicnn; {data_line}; model = minicnn.load_model('{path}'); "
            f"print(model.predict(x[:10]).argmax(axis=1), y[:10])\"")
