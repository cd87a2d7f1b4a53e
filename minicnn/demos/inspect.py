"""Look inside a trained model: one folder of pictures and a page to read them.

    python -m minicnn.demos.inspect mnist_model.npz
    python -m minicnn.demos.inspect emotion_model.npz --image face.png --out emotion_inspect

Writes into ``--out`` (default ``inspect_<model file name>``):

* ``summary.txt``      every layer with its output-size and parameter formulas,
* ``activations.png``  the feature maps of every conv and pooling layer,
* ``kernels_<layer>.png`` the learned kernels of each conv layer,
* ``patterns_<layer>.png`` inputs that maximize the first filters of each conv layer,
* ``gradcam.png``      where the last conv layer looked to pick its class
  (``gradcam_<layer>.png``: the same over each earlier conv layer),
* ``index.html``       all of the above in order, with captions.

Without ``--image`` a test image is used: an MNIST digit for a 28x28x1 model,
a synthetic face for a 48x48x1 model.
"""
import argparse
import html
import os
import re
import sys

import numpy as np
from tqdm.auto import tqdm

import minicnn
from minicnn import viz
from minicnn.zoo import EMOTIONS
from minicnn.layers import Conv2D
from minicnn.viz.formulas import formula_lines

from . import _common



def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m minicnn.demos.inspect",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a model saved with model.save (.npz)")
    p.add_argument("--image", help="a PNG/JPEG to look at (default: a test image)")
    p.add_argument("--index", type=_common.non_negative_int, default=0,
                   help="which test image when there is no --image (default 0)")
    p.add_argument("--out", help="output folder (default inspect_<model name>)")
    p.add_argument("--filters", type=_common.positive_int, default=16,
                   help="filter patterns per conv layer (default 16)")
    p.add_argument("--steps", type=_common.positive_int, default=40,
                   help="gradient-ascent steps per filter pattern (default 40)")
    return p.parse_args(argv)


SYNTHETIC_TEST_FACES = 10_000      # --index picks one of these (drawn with seed 0)


def test_image(model, index):
    """A float32 image in [0, 1] matching the model input, and a caption."""
    shape = model.input_shape[1:]
    if shape == (28, 28, 1):
        from minicnn.datasets import mnist
        _, (x, y) = _common.load_or_fail("MNIST data", mnist.load_data)
        _check_index(index, len(x), "MNIST test images")
        return x[index].astype(np.float32)[..., None] / 255, \
            f"MNIST test image {index} (label {y[index]})"
    if shape == (48, 48, 1):
        from minicnn.datasets import synthetic_faces
        _check_index(index, SYNTHETIC_TEST_FACES, "synthetic test faces")
        x, y = synthetic_faces.generate(index + 1, seed=0)
        return x[index].astype(np.float32)[..., None] / 255, \
            f"synthetic face {index} ({EMOTIONS[y[index]]})"
    raise _common.DemoError(f"no test image for input shape {shape}; pass --image PATH")


def _check_index(index, count, what):
    if not 0 <= index < count:
        raise _common.DemoError(f"--index must be in [0, {count - 1}] ({count:,} {what}), "
                                f"received {index}")


def _file_part(name):
    """A layer name made safe for a file name: "block/conv 1" -> "block_conv_1"."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".") or "layer"


def read_image(model, path):
    """``path`` as float32 (H, W, C) in [0, 1], resized to the model input."""
    from minicnn.datasets import load_image
    h, w, c = model.input_shape[1:]
    if c not in (1, 3):
        raise _common.DemoError(f"--image works for 1- or 3-channel models; this one takes {c}")
    pixels = _common.load_or_fail("image", load_image, path, size=(h, w), grayscale=c == 1)
    pixels = pixels.reshape(h, w, c) / 255                   # (h, w) -> (h, w, 1) when gray
    return pixels.astype(np.float32), f"{os.path.basename(path)}, resized to {h}x{w}"


def class_names(model):
    n = model.output_shape[-1]
    return EMOTIONS if n == len(EMOTIONS) and model.input_shape[1:3] == (48, 48) else None


def write_html(folder, title, sections):
    """``index.html``: a title, then (heading, caption, picture or text) in order."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1250px;margin:auto}"
             "img{max-width:100%}pre{background:#f4f4f4;padding:8px}</style>",
             f"<h1>{html.escape(title)}</h1>"]
    for heading, caption, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(caption)}</p>")
        if body.endswith(".png"):
            parts.append(f"<img src='{html.escape(body)}' alt='{html.escape(heading)}'>")
        else:
            parts.append(f"<pre>{html.escape(body)}</pre>")
    with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


def _file_stems(layers):
    """``{layer: part of a file name}``, unique even when two names differ only in
    characters a file name cannot hold ("a/b" and "a_b")."""
    stems, taken = {}, set()
    for layer in layers:
        stem, n = _file_part(layer.name), 1
        while stem in taken:
            n += 1
            stem = f"{_file_part(layer.name)}_{n}"
        stems[layer] = stem
        taken.add(stem)
    return stems


def inspect(model, image, caption, folder, filters=16, steps=40, print_fn=print):
    """Write every picture and the page for ``model`` and one ``image``; return the sections."""
    os.makedirs(folder, exist_ok=True)
    summary = "\n".join(formula_lines(model))
    with open(os.path.join(folder, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(summary + "\n")
    print_fn(summary)
    sections = [("Summary", "Every layer's output size from (n + 2p - f) / s + 1 and its "
                 "parameter count; a conv layer has (fh * fw * C + 1) * nf.", summary)]
    probabilities = model.predict(image[None], verbose=0)[0]
    names = class_names(model)
    guess = int(np.argmax(probabilities))
    label = names[guess] if names else str(guess)
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    # one step per picture: the feature maps, then per conv layer its kernels, its
    # filter patterns (the slow part: gradient ascent) and its Grad-CAM map
    bar = tqdm(total=1 + 3 * len(convs), unit="picture", desc="inspect", file=sys.stdout,
               disable=print_fn is not print)
    bar.set_postfix_str("feature maps")
    viz.plot_activations(model, image, save=os.path.join(folder, "activations.png"))
    bar.update()
    sections.append(("What each layer sees", f"Input: {caption}; the model says {label} "
                     f"(p = {probabilities[guess]:.3f}). Feature maps of every conv and pooling "
                     "layer, 16 channels a row, each channel stretched to its own range "
                     "(dark = low, yellow = high).", "activations.png"))
    stems = _file_stems(convs)
    for layer in convs:
        bar.set_postfix_str(f"kernels of {layer.name}")
        name = f"kernels_{stems[layer]}.png"
        viz.plot_kernels(model, layer, save=os.path.join(folder, name))
        c = layer.params["kernel"].shape[2]
        which = "" if c == 1 else " (input channel 0 of each; RGB when the input has 3)"
        sections.append((f"Kernels of {layer.name}", f"The learned weights{which}: red "
                         "positive, blue negative.", name))
        bar.update()
    for layer in convs:
        name = f"patterns_{stems[layer]}.png"
        bar.set_postfix_str(f"filter patterns of {layer.name} ({steps} ascent steps)")
        viz.filter_patterns(model, layer, filters, steps=steps,
                            save=os.path.join(folder, name))
        sections.append((f"Filter patterns of {layer.name}", f"Inputs found by {steps} steps "
                         "of gradient ascent (L2-normalized gradients through model.backward) "
                         "that make each filter's mean activation as large as possible; "
                         "under each, the activation before and after.", name))
        bar.update()
    for k, layer in enumerate(reversed(convs)):
        name = "gradcam.png" if k == 0 else f"gradcam_{stems[layer]}.png"
        bar.set_postfix_str(f"Grad-CAM on {layer.name}")
        cam = viz.grad_cam(model, image, layer=layer, class_names=names,
                           save=os.path.join(folder, name)).grad_cam
        h, w = cam.heatmap.shape
        which = ("the last conv layer, the usual choice: its channels are the most "
                 "abstract, its map the coarsest" if k == 0 else
                 "an earlier conv layer: a finer map of simpler features")
        sections.append((f"Grad-CAM on {layer.name} ({h}x{w})", f"{which}. The gradient of "
                         f"the {label} score (the logit before the softmax) with respect to "
                         f"{layer.name}'s output, averaged per channel, weights the channels; "
                         "their sum, after a ReLU, scaled to [0, 1]. Red: the places that "
                         "raised the score.", name))
        bar.update()
    bar.close()
    write_html(folder, f"Inside {model.name}", sections)
    return sections


def run(argv=None, print_fn=print):
    args = parse_args(argv)
    model = _common.load_or_fail("model file", minicnn.load_model, args.model)
    if args.image:
        image, caption = read_image(model, args.image)
    else:
        image, caption = test_image(model, args.index)
    stem = os.path.splitext(os.path.basename(args.model))[0]
    folder = args.out or f"inspect_{stem}"
    _common.make_output_folder(folder)
    with _common.writing(folder):
        sections = inspect(model, image, caption, folder, args.filters, args.steps, print_fn)
    print_fn(f"wrote {len(sections)} sections to {os.path.join(folder, 'index.html')}")
    return 0


def main(argv=None):
    return _common.run_main(run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
