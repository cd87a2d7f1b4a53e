"""Train the emotion net on 48x48 faces: seven facial expressions.

    python -m minicnn.demos.emotion                       # synthetic faces: 95.20 %, 96 s on 2 cores
    python -m minicnn.demos.emotion --preset long         # 10 epochs: 95.35 %, 2 min 25 s
    python -m minicnn.demos.emotion --data fer2013.csv    # the real Kaggle data
    python -m minicnn.demos.emotion --predict face.jpg --model emotion_model.npz

Without ``--data`` it trains on ``minicnn.datasets.synthetic_faces`` (drawn
on the fly, the same for the same ``--seed``). Besides the outputs of the
MNIST demo (summary, progress, curves, saved model) it saves a confusion
matrix (``--confusion``) and a grid of test faces with their true and
predicted labels (``--samples``). ``--predict`` reads a PNG or JPEG of any
size, color or gray, converts it to gray (0.299 R + 0.587 G + 0.114 B),
resizes it to 48x48 and prints the probability of each emotion.
"""
import sys

import numpy as np

import minicnn
from minicnn import zoo
from minicnn.datasets import fer2013, load_image, synthetic_faces

from . import _common

CLASS_NAMES = fer2013.CLASS_NAMES
SHAPE = (48, 48, 1)
PRESETS = {
    "default": dict(help="emotion_net on 12,000 synthetic faces, 7 epochs (95.20 %, 96 s on 2 cores)",
                    model="emotion_net", epochs=7, batch_size=64, optimizer="adam",
                    learning_rate=1.5e-3, decay=0.85, validation_split=0.1,
                    train_size=12000, test_size=2000),
    "long": dict(help="the default run continued to 10 epochs (95.35 %, 2 min 25 s on 2 cores)",
                 model="emotion_net", epochs=10, batch_size=64, optimizer="adam",
                 learning_rate=1.5e-3, decay=0.85, validation_split=0.1,
                 train_size=12000, test_size=2000),
    "source": dict(help="the source material's settings: Adam 1e-3, batch 128, "
                        "1001 iterations on 3,761 images (34 epochs)",
                   model="emotion_net", epochs=34, batch_size=128, optimizer="adam",
                   learning_rate=1e-3, decay=1.0, validation_split=0.1,
                   train_size=4178, test_size=1312),
    "tiny": dict(help="a smoke test: 600 faces, 1 epoch (seconds)",
                 model="emotion_net", epochs=1, batch_size=32, optimizer="adam",
                 learning_rate=1e-3, decay=1.0, validation_split=0.1,
                 train_size=600, test_size=200),
}


def parse_args(argv):
    p = _common.parser("python -m minicnn.demos.emotion", __doc__.split("\n\n")[0], PRESETS,
                       ("emotion_net",))
    p.set_defaults(save="emotion_model.npz", plot="emotion_curves.png")
    p.add_argument("--data", help="fer2013.csv (or train.csv of the two-file layout); "
                                  "default: synthetic faces")
    p.add_argument("--confusion", default="emotion_confusion.png",
                   help="where to save the confusion matrix (.png)")
    p.add_argument("--samples", default="emotion_samples.png",
                   help="where to save the grid of test faces with labels (.png)")
    args = p.parse_args(argv)
    sizes = (args.train_size, args.test_size)
    args = _common.resolve(args, PRESETS)
    if args.data:        # a real data set: all of it unless --train-size/--test-size limit it
        args.train_size, args.test_size = sizes
    return args


def load(args):
    """Scaled float32 faces (N, 48, 48, 1) in [0, 1] with integer labels 0..6."""
    if args.data:
        (x_train, y_train), (x_test, y_test) = _common.load_or_fail(
            "FER data", fer2013.load_data, args.data)
        source = args.data
        if y_test is None or len(y_test) == 0:          # unlabeled test.csv: hold out 10 %
            (x_train, y_train), (x_test, y_test) = _common.split_validation(
                x_train, y_train, 0.1, args.seed)
            _common.say(args, f"{args.data}: the test set has no labels, so 10 % of the "
                              f"training images are held out as the test set")
        x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
        x_test, y_test = x_test[:args.test_size], y_test[:args.test_size]
    else:
        _common.say(args, f"drawing {args.train_size:,} + {args.test_size:,} synthetic faces "
                          f"(seed {args.seed})...")
        (x_train, y_train), (x_test, y_test) = synthetic_faces.load_data(
            args.train_size, args.test_size, seed=args.seed)
        source = "synthetic faces"
    if len(x_train) < 2 or len(x_test) < 1:
        raise _common.DemoError(f"{source}: too few images to train and test "
                                f"({len(x_train)} training, {len(x_test)} test)")
    return (standardize(x_train), y_train.astype(np.int64)), \
        (standardize(x_test), y_test.astype(np.int64))


def standardize(images):
    """Faces (N, 48, 48) of 0..255 -> (N, 48, 48, 1) float32, each with mean 0 and std 1.

    Per-image standardization removes each photo's brightness and contrast.
    It also matters for training: with the source's small initial weights
    (std 0.02) and L2 penalty, images scaled to [0, 1] give gradients so weak
    that the penalty wins and every weight decays to zero (the net then
    predicts 1/7 for every class); standardized images train at once.
    """
    x = np.asarray(images, dtype=np.float32)[..., None]           # (N, 48, 48) -> (N, 48, 48, 1)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.maximum(std, 1.0)                      # flat images stay finite


def plot_samples(x, y_true, y_pred, save, per_row=8, rows=4):
    """A grid of faces titled "true / predicted", wrong predictions in red."""
    from matplotlib.figure import Figure
    n = min(len(x), per_row * rows)
    rows = -(-n // per_row)                              # ceil
    fig = Figure(figsize=(1.3 * per_row, 1.5 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, per_row)).reshape(-1)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(x[i, :, :, 0], cmap="gray")            # standardized: let imshow scale
        right = y_true[i] == y_pred[i]
        ax.set_title(f"{CLASS_NAMES[y_true[i]]}\n/ {CLASS_NAMES[y_pred[i]]}", fontsize=8,
                     color="black" if right else "red")
    fig.suptitle("test faces: true / predicted (red = wrong)", fontsize=10)
    fig.savefig(save, dpi=100)


def predict(args):
    """Print the probability of each emotion for one image file."""
    path = args.model if args.model not in zoo.MODELS else args.save
    model = _common.load_model_for(path, SHAPE, len(CLASS_NAMES))
    image = _common.load_or_fail("image", load_image, args.predict, size=SHAPE[:2])  # (48, 48)
    probs = model.predict(standardize(image[None]), verbose=0)               # (1, 7)
    probs = _common.softmax_if_logits(model, probs)[0]
    print(f"{args.predict}: {CLASS_NAMES[int(probs.argmax())]} ({probs.max():.1%})")
    for name, p in zip(CLASS_NAMES, probs):
        print(f"  {name:9s} {p:6.2%}")
    return 0


def main(argv=None):
    return _common.run_main(_main, argv)


def _main(argv):
    args = parse_args(argv)
    if args.predict:
        return predict(args)
    _common.check_writable(args.save, args.plot, args.confusion, args.samples)
    minicnn.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args)
    (x_fit, y_fit), val = _common.split_validation(x_train, y_train, args.validation_split,
                                                   args.seed)
    model = _common.get_model(args.model, {"emotion_net": zoo.emotion_net}, SHAPE,
                              len(CLASS_NAMES))
    if not args.quiet:
        model.summary()
    run = _common.train(model, x_fit, y_fit, args, validation_data=val)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test accuracy: {accuracy:.2%} on {len(x_test):,} images (loss {loss:.4f}, "
          f"L2 penalty included); training took {run.seconds:.1f} s, "
          f"{run.images_per_second:,.0f} images/s")
    _common.save_results(model, run, args)
    y_pred = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)
    from minicnn import viz
    if args.confusion:
        with _common.writing(args.confusion):
            viz.plot_confusion_matrix(y_test, y_pred, CLASS_NAMES, save=args.confusion)
        _common.say(args, f"saved the confusion matrix to {args.confusion}")
    if args.samples:
        with _common.writing(args.samples):
            plot_samples(x_test, y_test, y_pred, args.samples)
        _common.say(args, f"saved test faces with true/predicted labels to {args.samples}")
    _common.say(args, _common.reload_hint(
        "emotion", args.save, "from minicnn.datasets import synthetic_faces; "
        "from minicnn.demos.emotion import standardize; "
        "x, y = synthetic_faces.generate(10, seed=1); x = standardize(x)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
