"""Small data helpers: one-hot labels, splits, mini-batches, image loading.

Everything here is plain NumPy so it can be read line by line:

* ``to_categorical``   - integer labels -> one-hot rows (Keras semantics),
* ``train_val_split``  - hold out a validation fraction (Keras ``validation_split``),
* ``batches``          - iterate over mini-batches, optionally shuffled,
* ``rgb_to_gray``      - luminance with the ITU-R 601 weights (0.299, 0.587, 0.114),
* ``resize``           - bilinear resampling of an (H, W) or (H, W, C) image,
* ``load_image``       - read a PNG/JPEG file into a float32 array in [0, 255].
"""
import os

import numpy as np

GRAY_WEIGHTS = (0.299, 0.587, 0.114)


# --------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------
def to_categorical(y, num_classes=None, dtype="float32"):
    """Convert integer class labels to one-hot vectors.

    Like ``keras.utils.to_categorical``: ``y`` of shape S (a trailing axis of
    length 1 is dropped, so (N, 1) counts as (N,)) becomes shape S + (num_classes,)
    with a 1 in the column of each label. ``num_classes`` defaults to
    ``max(y) + 1``.

    >>> to_categorical([0, 2, 1], 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers, "
                             f"received values such as {y[y != np.round(y)][:3]}")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"to_categorical: labels must be integers, received dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])                     # (N, 1) -> (N,)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, found {y.min()}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    num_classes = int(num_classes)
    if y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {y.max()} is out of range for "
                         f"num_classes={num_classes} (labels must be < num_classes)")
    flat = y.reshape(-1)                                # shape S -> (n,)
    one_hot = np.zeros((flat.size, num_classes), dtype=dtype)
    one_hot[np.arange(flat.size), flat] = 1
    return one_hot.reshape(y.shape + (num_classes,))   # (n, K) -> S + (K,)


# --------------------------------------------------------------------------
# splitting and batching
# --------------------------------------------------------------------------
def _check_same_length(x, y, who):
    if y is not None and len(x) != len(y):
        raise ValueError(f"{who}: x and y must have the same length, "
                         f"received {len(x)} and {len(y)}")


def train_val_split(x, y, validation_split=0.1, shuffle=True, seed=None):
    """Split (x, y) into ((x_train, y_train), (x_val, y_val)).

    The last ``int(n * (1 - validation_split))``-th sample onwards goes to
    validation, as in Keras ``fit(validation_split=...)``. With ``shuffle``
    the samples are permuted first (reproducibly for a given ``seed``);
    without it the validation part is simply the *end* of the arrays.
    ``y`` may be None, in which case the label parts are None too.
    """
    if not 0.0 < validation_split < 1.0:
        raise ValueError("train_val_split: validation_split must be between 0 and 1, "
                         f"received {validation_split}")
    _check_same_length(x, y, "train_val_split")
    n = len(x)
    split_at = int(n * (1.0 - validation_split))
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
        x = np.asarray(x)[order]
        y = None if y is None else np.asarray(y)[order]
    train_y = None if y is None else y[:split_at]
    val_y = None if y is None else y[split_at:]
    return (x[:split_at], train_y), (x[split_at:], val_y)


def batches(x, y=None, batch_size=32, shuffle=False, seed=None):
    """Yield mini-batches ``x[i:i+batch_size]`` (and the matching ``y``).

    Yields ``x_batch`` when ``y`` is None, else ``(x_batch, y_batch)``. The last
    batch is smaller when ``len(x)`` is not a multiple of ``batch_size``. With
    ``shuffle`` the order is a random permutation drawn from ``seed``.
    """
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be >= 1, received {batch_size}")
    _check_same_length(x, y, "batches")
    n = len(x)
    order = np.random.default_rng(seed).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            index = slice(start, start + batch_size)
        else:
            index = order[start:start + batch_size]
        if y is None:
            yield x[index]
        else:
            yield x[index], y[index]


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------
def rgb_to_gray(img):
    """Luminance of an (..., H, W, 3) RGB array: 0.299 R + 0.587 G + 0.114 B.

    A fourth (alpha) channel is ignored. Integer input gives float32 output;
    float input keeps its float dtype. The result has shape (..., H, W).
    """
    img = np.asarray(img)
    if img.ndim < 3 or img.shape[-1] not in (3, 4):
        raise ValueError("rgb_to_gray: expected an array of shape (..., H, W, 3), "
                         f"received shape {img.shape}")
    dtype = img.dtype if img.dtype.kind == "f" else np.float32
    rgb = img[..., :3].astype(dtype, copy=False)
    weights = np.asarray(GRAY_WEIGHTS, dtype=dtype)
    return rgb @ weights                               # (..., H, W, 3) -> (..., H, W)


def resize(img, size):
    """Bilinear resize of an (H, W) or (H, W, C) array to ``size = (h, w)``.

    Pixel centres are aligned the usual way (``align_corners=False``, as in
    ``tf.image.resize(method="bilinear")`` and OpenCV): output pixel j samples
    the input at ``(j + 0.5) * W / w - 0.5``, clamped to the border. No
    anti-aliasing is applied, so shrink by large factors in steps (see
    ``load_image``). Returns float32 (float64 input stays float64).
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"resize: expected shape (H, W) or (H, W, C), received {img.shape}")
    h, w = (int(s) for s in size)
    if h < 1 or w < 1:
        raise ValueError(f"resize: size must be positive, received {size}")
    dtype = np.float64 if img.dtype == np.float64 else np.float32
    src = img.astype(dtype, copy=False)
    if src.ndim == 2:
        src = src[:, :, None]                          # (H, W) -> (H, W, 1)

    def sample_points(n_in, n_out):
        """Left neighbour index, right neighbour index and weight of the right one."""
        pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0, n_in - 1)
        left = np.floor(pos).astype(np.intp)
        right = np.minimum(left + 1, n_in - 1)
        return left, right, (pos - left).astype(dtype)

    r0, r1, wr = sample_points(src.shape[0], h)
    c0, c1, wc = sample_points(src.shape[1], w)
    wr = wr[:, None, None]                             # (h,) -> (h, 1, 1)
    wc = wc[None, :, None]                             # (w,) -> (1, w, 1)
    rows = src[r0] * (1 - wr) + src[r1] * wr           # (h, W, C)
    out = rows[:, c0] * (1 - wc) + rows[:, c1] * wc    # (h, w, C)
    return out[:, :, 0] if img.ndim == 2 else out


def _box_shrink(img, factor):
    """Average non-overlapping factor x factor blocks (a cheap anti-alias filter)."""
    h, w = img.shape[0] // factor * factor, img.shape[1] // factor * factor
    img = img[:h, :w]
    blocks = img.reshape(h // factor, factor, w // factor, factor, *img.shape[2:])
    return blocks.mean(axis=(1, 3))                    # (h/f, f, w/f, f, ...) -> (h/f, w/f, ...)


def load_image(path, size=(48, 48), grayscale=True):
    """Read a PNG or JPEG file into a float32 array with values in [0, 255].

    Returns shape ``size`` = (h, w) when ``grayscale`` (RGB converted with
    ``rgb_to_gray``), else (h, w, 3). ``size=None`` keeps the original size.
    Large photos are first averaged down by an integer factor so the final
    bilinear resize does not alias. Raises ``FileNotFoundError`` when the
    file does not exist and ``ValueError`` (naming the file) when it cannot be
    decoded as an image.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_image: no such file: {path}")
    pixels = _read_pixels(path)                        # (H, W) or (H, W, 3|4), 0..255
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        pixels = pixels[..., :3]                       # drop alpha
    if pixels.ndim == 2 and not grayscale:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)   # (H, W) -> (H, W, 3)
    if pixels.ndim == 3 and grayscale:
        pixels = rgb_to_gray(pixels)                   # (H, W, 3) -> (H, W)
    pixels = pixels.astype(np.float32, copy=False)
    if size is not None:
        factor = min(pixels.shape[0] // size[0], pixels.shape[1] // size[1]) // 2
        if factor >= 2:
            pixels = _box_shrink(pixels, factor)
        pixels = resize(pixels, size)
    return np.clip(pixels, 0, 255).astype(np.float32, copy=False)


def _read_pixels(path):
    """Decode an image file with Pillow (or matplotlib as a fallback) to 0..255 values."""
    try:
        from PIL import Image
    except ImportError:                                # pragma: no cover - pillow ships with matplotlib
        Image = None
    try:
        if Image is not None:
            with Image.open(path) as im:
                if im.mode not in ("L", "RGB", "RGBA"):
                    im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
                return np.asarray(im, dtype=np.float32)
        import matplotlib.image as mpimg               # pragma: no cover
        pixels = np.asarray(mpimg.imread(path))
        if pixels.dtype.kind == "f":                   # PNGs come back scaled to [0, 1]
            pixels = pixels * 255.0
        return pixels.astype(np.float32)
    except Exception as err:                           # decoder errors differ by format
        raise ValueError(f"load_image: cannot read {path} as an image ({err})") from err
