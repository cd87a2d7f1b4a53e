"""ImageNet helpers shared by the applications, as ``keras.applications.imagenet_utils``.

``preprocess_input(x, mode)`` scales images the way each network was trained:

* ``"caffe"`` (VGG): RGB -> BGR, then minus the ImageNet mean of each BGR channel;
* ``"tf"`` (Inception): pixels 0..255 -> -1..1;
* ``"torch"``: 0..255 -> 0..1, minus the mean, over the std of each RGB channel.

``decode_predictions`` names the top classes of a (samples, 1000) prediction
with the ImageNet class index (WordNet id, name) shipped in ``data/``: the
same file Keras downloads (its md5, c2c37ea517e94d9795004a39431a14cb, is
Keras's own check), so nothing is fetched at run time.
"""
import json
import os

import numpy as np

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN_RGB, TORCH_STD_RGB = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_CLASS_INDEX = None


def preprocess_input(x, data_format=None, mode="caffe"):
    """x (..., 3) with values 0..255 -> a float32 array scaled for ``mode``."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"minicnn supports data_format='channels_last' only, received "
                         f"{data_format!r}")
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] != 3:
        raise ValueError(f"preprocess_input expects images with 3 channels (RGB) last, "
                         f"received shape {x.shape}")
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - np.float32(TORCH_MEAN_RGB)) / np.float32(TORCH_STD_RGB)
    if mode == "caffe":
        return x[..., ::-1] - np.float32(CAFFE_MEAN_BGR)         # RGB -> BGR, minus means
    raise ValueError(f"mode must be 'caffe', 'tf' or 'torch', received {mode!r}")


def class_index():
    """``{"0": ["n01440764", "tench"], ...}``: the 1000 ImageNet classes."""
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        path = os.path.join(os.path.dirname(__file__), "data", "imagenet_class_index.json")
        with open(path, encoding="utf-8") as f:
            _CLASS_INDEX = json.load(f)
    return _CLASS_INDEX


def decode_predictions(preds, top=5):
    """For each sample, ``[(wordnet_id, name, score), ...]``: its ``top`` classes, best
    first (Keras's function, with the class index shipped)."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(f"`decode_predictions` expects a batch of predictions (i.e. a 2D "
                         f"array of shape (samples, 1000)). Received array with shape: "
                         f"{preds.shape}")
    index = class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        results.append(sorted((tuple(index[str(i)]) + (pred[i],) for i in best),
                              key=lambda r: r[2], reverse=True))
    return results
