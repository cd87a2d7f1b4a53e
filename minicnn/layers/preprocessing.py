"""Keras 3's image preprocessing layers: Rescaling, Resizing, CenterCrop and the
random augmentations (RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
RandomContrast, RandomBrightness, RandomCrop).

They usually stand at the start of a model::

    model = minicnn.Sequential([
        layers.Input(shape=(64, 64, 3)),
        layers.Rescaling(1 / 255),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        ...])

The random layers change the images only when called with ``training=True``
(``fit`` does); ``predict`` and ``evaluate`` see the images unchanged. Resizing
and CenterCrop act in both modes.

The numbers are Keras's (TensorFlow backend):

* the geometric layers build, per image, Keras's 8-number projective
  transform ``[a0, a1, a2, b0, b1, b2, c0, c1]``: output pixel (x, y) (x the
  column) reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``,
  ``k = c0 x + c1 y + 1``, as ``tf.raw_ops.ImageProjectiveTransformV3`` does,
  with its four ``fill_mode`` rules for points outside the image
  (``_map_coordinates``) and its nearest / bilinear sampling, in float32;
* Resizing is ``tf.image.resize`` (half-pixel centres, no antialiasing).

Each output pixel is a weighted sum of at most four input pixels, so each
forward is a NumPy gather (fancy indexing with precomputed indices and
weights) and the backward is its exact adjoint: the weights scattered back
(``kernels.scatter_add_rows``), or, for the separable resize, the two
interpolation matrices transposed. No pixel loop, so no kernel of its own.

Random draws: one set per image (one crop offset per batch for RandomCrop, as
Keras), from the layer's own generator when it has a ``seed``, else from
minicnn's (``minicnn.utils.set_random_seed``). A batch split across the cores
draws them for the whole batch first (``draw_batch_noise``), so the images do
not depend on the number of cores. ``forward(x, training=True,
transformation=t)`` uses the given draws ``t`` instead (the layout is in each
class's docstring), to reproduce a given augmentation.
"""
import numbers

import numpy as np

from .. import backend, kernels, parallel
from .base import Layer, check_data_format, check_keras_only

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


# ----------------------------------------------------------------------------------
# sampling: TensorFlow's ImageProjectiveTransformV3, vectorised
# ----------------------------------------------------------------------------------
def _map_coordinates(c, length, fill_mode):
    """TensorFlow's ``MapCoordinate``: float32 coordinates ``c`` on an axis of
    ``length`` pixels -> coordinates inside [0, length - 1] ("constant": unchanged).

    reflect  (d c b a | a b c d | d c b a)   wrap  (a b c d | a b c d | a b c d)
    nearest  (a a a a | a b c d | d d d d)   constant  (k k k k | a b c d | k k k k)
    """
    f32 = np.float32
    c = np.asarray(c, dtype=f32)
    if fill_mode == "constant":
        return c
    top = f32(length - 1)
    if fill_mode == "nearest" or length <= 1:
        return np.clip(c, f32(0), top) if length > 1 else np.zeros_like(c)
    out = c.copy()
    neg, pos = c < 0, c > top
    if fill_mode == "reflect":
        sz2 = 2 * length
        n = c[neg]
        n = np.where(n < sz2, f32(sz2) * np.trunc(-n / f32(sz2)) + n, n)
        out[neg] = np.where(n < -length, n + f32(sz2), -n - f32(1))
        p = c[pos]
        p = p - f32(sz2) * np.trunc(p / f32(sz2))
        out[pos] = np.where(p >= length, f32(sz2) - p - f32(1), p)
    else:                                                # wrap, with TF's len - 1 divisor
        sz = f32(length - 1)
        n = c[neg]
        out[neg] = n + f32(length) * (np.trunc(-n / sz) + f32(1))
        p = c[pos]
        out[pos] = p - f32(length) * np.trunc(p / sz)
    return np.clip(out, f32(0), top)


class _Sampling:
    """Where each output pixel of an (N, OH, OW) batch reads its input: ``index``
    (N, P, K) flat input pixels (P = OH*OW, K = 1 corner for nearest, 4 for
    bilinear), ``weight`` (N, P, K) their weights and ``valid`` (N, P, K) False
    for a corner outside the image, which reads ``fill`` instead (as TensorFlow's
    ``read_with_fill_value``; only "constant" mode leaves points outside). The
    bilinear lerps are kept so the forward adds in TensorFlow's order."""

    def __init__(self, x_in, y_in, height, width, interpolation, fill_mode, fill):
        f32 = np.float32
        x = _map_coordinates(x_in, width, fill_mode)             # (N, P)
        y = _map_coordinates(y_in, height, fill_mode)
        self.fill = fill
        self.hw = height * width

        def corner(r, c):                                        # flat index, inside?
            ok = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            return np.where(ok, r * width + c, 0), ok

        if interpolation == "nearest":                           # std::round: half away from 0
            rx, ry = np.floor(x), np.floor(y)
            rx += (x - rx) >= f32(0.5)
            ry += (y - ry) >= f32(0.5)
            big = f32(4 * (height + width) + 8)                  # keep the int cast finite
            idx, ok = corner(np.clip(ry, -big, big).astype(np.intp),
                             np.clip(rx, -big, big).astype(np.intp))
            self.index, self.valid = idx[..., None], ok[..., None]   # (N, P, 1)
            self.lerp = None
            self.weight = self.valid.astype(f32)
            return
        big = f32(4 * (height + width) + 8)
        x = np.clip(x, -big, big)                                # far outside is outside
        y = np.clip(y, -big, big)
        x0, y0 = np.floor(x), np.floor(y)
        wx0, wx1 = (x0 + f32(1)) - x, x - x0                     # TF: (x_ceil - x), (x - x_floor)
        wy0, wy1 = (y0 + f32(1)) - y, y - y0
        c0, r0 = x0.astype(np.intp), y0.astype(np.intp)
        corners = [corner(r, c) for r in (r0, r0 + 1) for c in (c0, c0 + 1)]
        self.index = np.stack([i for i, _ in corners], axis=-1)  # (N, P, 4)
        self.valid = np.stack([ok for _, ok in corners], axis=-1)
        self.lerp = (wx0, wx1, wy0, wy1)
        wx0d, wx1d, wy0d, wy1d = (w.astype(np.float64) for w in self.lerp)   # exact products
        w = np.stack([wy0d * wx0d, wy0d * wx1d, wy1d * wx0d, wy1d * wx1d], axis=-1)
        self.weight = w * self.valid

    def _rows(self, n):
        return self.index + (np.arange(n) * self.hw)[:, None, None]   # (N, P, K) into N*H*W

    def apply(self, x, out_hw):
        """x (N, H, W, C) -> (N, OH, OW, C)."""
        n, c = x.shape[0], x.shape[-1]
        flat = x.reshape(n * self.hw, c)
        rows = self._rows(n)
        fill = x.dtype.type(self.fill)
        f = [np.where(self.valid[..., k, None], flat[rows[..., k]], fill)
             for k in range(rows.shape[-1])]                     # (N, P, C) each
        if self.lerp is None:
            out = f[0]
        else:
            wx0, wx1, wy0, wy1 = (w[..., None].astype(x.dtype) for w in self.lerp)
            top = wx0 * f[0] + wx1 * f[1]
            bottom = wx0 * f[2] + wx1 * f[3]
            out = wy0 * top + wy1 * bottom
        return out.reshape(n, *out_hw, c)

    def adjoint(self, dy, x_shape):
        """dy (N, OH, OW, C) -> dx (N, H, W, C): each weight carries dy back to its pixel
        (the fill value is a constant: it gets no gradient)."""
        n, c = dy.shape[0], dy.shape[-1]
        contributions = (self.weight.astype(dy.dtype)[..., None]
                         * dy.reshape(n, -1, 1, c))             # (N, P, K, C)
        dx = kernels.scatter_add_rows(self._rows(n).reshape(-1),
                                      contributions.reshape(-1, c), n * self.hw)
        return dx.reshape(x_shape)


def projective_sampling(transforms, height, width, interpolation="bilinear",
                        fill_mode="constant", fill_value=0.0):
    """The ``_Sampling`` of Keras's ``ops.image.affine_transform``: transforms
    (N, 8) for images (N, height, width, C), output of the same size."""
    t = np.asarray(transforms, dtype=np.float32).reshape(-1, 8)
    f32 = np.float32
    ox = np.tile(np.arange(width, dtype=f32), height)[None]     # (1, P) column of each pixel
    oy = np.repeat(np.arange(height, dtype=f32), width)[None]   # (1, P) its row
    a = [t[:, i:i + 1] for i in range(8)]
    k = a[6] * ox + a[7] * oy + f32(1)
    x_in = (a[0] * ox + a[1] * oy + a[2]) / k
    y_in = (a[3] * ox + a[4] * oy + a[5]) / k
    if np.any(k == 0):
        raise ValueError("affine_transform: a projective transform whose denominator "
                         "c0 x + c1 y + 1 is 0 at a pixel is not supported")
    return _Sampling(x_in, y_in, height, width, interpolation, fill_mode, fill_value)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0):
    """Keras's ``ops.image.affine_transform`` (channels_last): images (N, H, W, C)
    or (H, W, C), transform (8,) or (N, 8) as Keras's."""
    x = np.asarray(images)
    single = x.ndim == 3
    if single:
        x = x[None]
    check_keras_only("affine_transform", "interpolation", interpolation, INTERPOLATIONS)
    check_keras_only("affine_transform", "fill_mode", fill_mode, FILL_MODES)
    sampling = projective_sampling(transform, x.shape[1], x.shape[2], interpolation,
                                   fill_mode, fill_value)
    y = sampling.apply(x, x.shape[1:3])
    return y[0] if single else y


# -- resizing: tf.image.resize (half-pixel centres), separable ----------------------------
def _resize_axis(n_in, n_out, interpolation):
    """(lower index, upper index, lerp) of each output position along one axis, and the
    (n_out, n_in) interpolation matrix (for the adjoint)."""
    f32 = np.float32
    scale = f32(n_in) / f32(n_out)
    o = np.arange(n_out, dtype=f32)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    if interpolation == "nearest":                       # HalfPixelScalerForNN
        src = np.floor((o + f32(0.5)) * scale)
        lo = np.clip(src, 0, n_in - 1).astype(np.intp)
        m[np.arange(n_out), lo] = 1
        return lo, lo, None, m
    src = (o + f32(0.5)) * scale - f32(0.5)              # HalfPixelScaler
    fl = np.floor(src)
    lo = np.maximum(fl, 0).astype(np.intp)
    hi = np.minimum(np.ceil(src), n_in - 1).astype(np.intp)
    lerp = (src - fl).astype(f32)
    np.add.at(m, (np.arange(n_out), lo), 1 - lerp.astype(np.float64))
    np.add.at(m, (np.arange(n_out), hi), lerp.astype(np.float64))
    return lo, hi, lerp, m


def resize_images(x, size, interpolation="bilinear"):
    """``tf.image.resize(x, size, method)`` for x (N, H, W, C), bilinear or nearest,
    no antialiasing. Returns (y (N, h, w, C), (rows matrix (h, H), cols matrix (w, W)))."""
    h, w = size
    r0, r1, rl, my = _resize_axis(x.shape[1], h, interpolation)
    c0, c1, cl, mx = _resize_axis(x.shape[2], w, interpolation)
    if rl is None:
        return x[:, r0][:, :, c0], (my, mx)
    top_rows, bottom_rows = x[:, r0], x[:, r1]                     # (N, h, W, C)
    xl = cl.astype(x.dtype)[None, None, :, None]
    yl = rl.astype(x.dtype)[None, :, None, None]
    top = top_rows[:, :, c0] + (top_rows[:, :, c1] - top_rows[:, :, c0]) * xl
    bottom = bottom_rows[:, :, c0] + (bottom_rows[:, :, c1] - bottom_rows[:, :, c0]) * xl
    return top + (bottom - top) * yl, (my, mx)


def resize_adjoint(dy, matrices):
    """The adjoint of ``resize_images``: dy (N, h, w, C) -> dx (N, H, W, C)."""
    my, mx = (m.astype(dy.dtype) for m in matrices)
    dx = np.einsum("oh,nowc->nhwc", my, dy)                      # (N, H, w, C)
    return np.einsum("pw,nhpc->nhwc", mx, dx)                    # (N, H, W, C)


def aspect_crop_box(height, width, target_height, target_width):
    """Keras's crop_to_aspect_ratio / smart_resize box: (h_start, w_start, crop_h, crop_w)."""
    crop_h = int(float(width * target_height) / target_width)
    crop_h = max(min(height, crop_h), 1)
    crop_w = int(float(height * target_width) / target_height)
    crop_w = max(min(width, crop_w), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


class _CropResize:
    """A crop box followed, when the box is not the target size, by a resize: the
    forward and its adjoint (a zero-padding of the resize's adjoint)."""

    def __init__(self, box, size, interpolation="bilinear"):
        self.box, self.size, self.interpolation = box, tuple(size), interpolation

    def forward(self, x):
        t, l, h, w = self.box
        self.x_shape = x.shape
        y = x[:, t:t + h, l:l + w]
        self.matrices = None
        if y.shape[1:3] != self.size:
            y, self.matrices = resize_images(y, self.size, self.interpolation)
        return np.ascontiguousarray(y)

    def adjoint(self, dy):
        t, l, h, w = self.box
        if self.matrices is not None:
            dy = resize_adjoint(dy, self.matrices)
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        dx[:, t:t + dy.shape[1], l:l + dy.shape[2]] = dy
        return dx


# ----------------------------------------------------------------------------------
# argument checks shared by the layers
# ----------------------------------------------------------------------------------
def _factor_pair(owner, name, factor, bounds, lower_open=False):
    """Keras's factor rule: a number f -> (-|f|, |f|) (lower clipped to the bound for
    the base layers), a pair -> sorted; every number within ``bounds``."""
    lo_b, hi_b = bounds
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(
            isinstance(f, numbers.Real) for f in factor):
        values = [float(f) for f in factor]
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        values = [float(factor)]
    else:
        raise ValueError(f"{owner}: {name} must be a number or a pair of numbers in "
                         f"[{lo_b}, {hi_b}], received {name}={factor!r}")
    for v in values:
        if v > hi_b or v < lo_b or (lower_open and v <= lo_b):
            raise ValueError(f"{owner}: {name} must be a number or a pair of numbers in "
                             f"{'(' if lower_open else '['}{lo_b}, {hi_b}], received "
                             f"{name}={factor!r}")
    if len(values) == 2:
        return tuple(sorted(values))
    f = abs(values[0])
    return (max(-f, lo_b), f)


def _check_choice(owner, name, value, choices):
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {choices}, received {name}={value!r}")
    return value


def _size(owner, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, received {name}={value!r}")
    return int(value)


class _ImageLayer(Layer):
    """What the image layers share: 4-D NHWC input, Keras's ``data_format`` check."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(self.owner, data_format)

    def check_image_input(self, x):
        return self.check_input(x, rank=4)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class _RandomLayer(_ImageLayer):
    """A layer that draws per-image random numbers in training: its own generator when
    seeded, else minicnn's; the whole batch's draws made up front when it is split."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{self.owner}: seed must be a non-negative int or None, "
                             f"received seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._rng = None if seed is None else np.random.default_rng(seed)

    def rng(self):
        return self._rng if self._rng is not None else backend.rng()

    def draw(self, rows):
        """The transformation of a batch of ``rows`` images: an array (rows, k)."""
        raise NotImplementedError

    def draw_batch_noise(self, rows):
        return self.draw(rows)

    def transformation_for(self, x, transformation):
        """The given transformation, this shard's rows of the batch's, or a new draw."""
        if transformation is not None:
            return np.asarray(transformation, dtype=np.float64).reshape(
                len(transformation) if np.ndim(transformation) else 1, -1)
        shard = parallel.current()
        if shard is not None and self in shard.group.noise:
            return shard.batch_noise(self)
        return self.draw(x.shape[0])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class _Sized:
    """Resizing, CenterCrop and RandomCrop: an output of (height, width), made by a
    ``_CropResize`` each forward, whose adjoint is the backward."""

    def set_size(self, height, width):
        self.height = _size(self.owner, "height", height)
        self.width = _size(self.owner, "width", width)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[3])

    def crop_resize(self, x, box, interpolation="bilinear"):
        """The ``box`` (top, left, height, width) of every image, resized to the output."""
        op = _CropResize(box, (self.height, self.width), interpolation)
        self.cache = {"op": op}
        return op.forward(x)

    def backward(self, dy, from_logits=False, compute_dx=True):
        return self.cache["op"].adjoint(dy) if compute_dx else None

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


# ----------------------------------------------------------------------------------
# deterministic layers
# ----------------------------------------------------------------------------------
class Rescaling(Layer):
    """``y = x * scale + offset`` (scale and offset numbers, or per-channel arrays):
    ``Rescaling(1 / 255)`` maps [0, 255] pixels to [0, 1], ``Rescaling(1 / 127.5,
    offset=-1)`` to [-1, 1]. Any input rank."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self._scale = np.asarray(scale, dtype=self.dtype)
        self._offset = np.asarray(offset, dtype=self.dtype)

    def forward(self, x, training=False):
        x = self.check_input(x)
        return x * self._scale + self._offset

    def backward(self, dy, from_logits=False, compute_dx=True):
        if not compute_dx:
            return None
        dx = dy * self._scale
        if dx.shape != dy.shape:                      # a scale of more dims than the input
            dx = np.broadcast_to(dx, dy.shape).copy()
        return dx

    def get_config(self):
        def plain(v):
            return np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


class Resizing(_Sized, _ImageLayer):
    """Resize every image to (height, width) as ``tf.image.resize`` does (half-pixel
    centres, "bilinear" or "nearest", no antialiasing); ``crop_to_aspect_ratio=True``
    first crops the largest centred box of the target's aspect ratio. Acts in
    training and inference. Keras's other interpolations (bicubic, area, lanczos...),
    ``pad_to_aspect_ratio`` and ``antialias`` are not supported."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.set_size(height, width)
        self.interpolation = check_keras_only(self.owner, "interpolation", interpolation,
                                              INTERPOLATIONS)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = check_keras_only(self.owner, "pad_to_aspect_ratio",
                                                    bool(pad_to_aspect_ratio), (False,))
        self.fill_mode = check_keras_only(self.owner, "fill_mode", fill_mode, ("constant",))
        self.fill_value = fill_value
        self.antialias = check_keras_only(self.owner, "antialias", bool(antialias), (False,))

    def forward(self, x, training=False):
        x = self.check_image_input(x)
        h, w = x.shape[1:3]
        box = (aspect_crop_box(h, w, self.height, self.width) if self.crop_to_aspect_ratio
               else (0, 0, h, w))
        return self.crop_resize(x, box, self.interpolation)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(_Sized, _ImageLayer):
    """Keep the centred (height, width) box of every image (start ``(H - height) // 2``).
    An image smaller than the box on either side is instead cropped to the target's
    aspect ratio and resized (bilinear), as Keras's ``smart_resize``. Acts in
    training and inference."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.set_size(height, width)

    def forward(self, x, training=False):
        x = self.check_image_input(x)
        h, w = x.shape[1:3]
        if h >= self.height and w >= self.width:
            box = ((h - self.height) // 2, (w - self.width) // 2, self.height, self.width)
        else:
            box = aspect_crop_box(h, w, self.height, self.width)
        return self.crop_resize(x, box)


# ----------------------------------------------------------------------------------
# random augmentation
# ----------------------------------------------------------------------------------
class RandomFlip(_RandomLayer):
    """Flip each image with probability 1/2: ``mode`` "horizontal" (left-right),
    "vertical" (up-down) or "horizontal_and_vertical" (Keras 3: one draw per image
    flips both axes at once, so a half-turn). Transformation: (N, 1), 1 = flip."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _check_choice(self.owner, "mode", mode,
                                  ("horizontal", "vertical", "horizontal_and_vertical"))

    def draw(self, rows):
        u = self.rng().random((rows, 1), dtype=np.float32)
        return (u <= np.float32(0.5)).astype(np.float64)      # Keras: uniform <= 0.5

    def _flip(self, x, flips):
        y = x
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            y = np.where(flips, y[:, :, ::-1], y)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            y = np.where(flips, y[:, ::-1], y)
        return y

    def forward(self, x, training=False, transformation=None):
        x = self.check_image_input(x)
        if not training:
            self.cache = {"flips": None}
            return x
        flips = self.transformation_for(x, transformation)[:, 0].astype(bool)
        flips = flips.reshape(-1, 1, 1, 1)
        self.cache = {"flips": flips}
        return self._flip(x, flips)

    def backward(self, dy, from_logits=False, compute_dx=True):
        if not compute_dx:
            return None
        flips = self.cache["flips"]
        return dy if flips is None else self._flip(dy, flips)   # a flip is its own adjoint

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _AffineLayer(_RandomLayer):
    """The geometric layers: a projective transform per image, Keras's fill and
    interpolation rules, and the scatter of the weights as backward."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.fill_mode = _check_choice(self.owner, "fill_mode", fill_mode, FILL_MODES)
        self.interpolation = _check_choice(self.owner, "interpolation", interpolation,
                                           INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def transforms(self, params, height, width):
        """(N, 8) float32 Keras transforms from the drawn parameters."""
        raise NotImplementedError

    def forward(self, x, training=False, transformation=None):
        x = self.check_image_input(x)
        if not training:
            self.cache = {"sampling": None}
            return x
        params = self.transformation_for(x, transformation)
        h, w = x.shape[1:3]
        sampling = projective_sampling(self.transforms(params, h, w), h, w,
                                       self.interpolation, self.fill_mode, self.fill_value)
        self.cache = {"sampling": sampling, "x_shape": x.shape}
        return sampling.apply(x, (h, w))

    def backward(self, dy, from_logits=False, compute_dx=True):
        if not compute_dx:
            return None
        sampling = self.cache["sampling"]
        return dy if sampling is None else sampling.adjoint(dy, self.cache["x_shape"])

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _uniform(rng, rows, lower, upper):
    """Keras's uniform(minval, maxval) in float32."""
    u = rng.random((rows, 1), dtype=np.float32)
    return np.float32(lower) + u * (np.float32(upper) - np.float32(lower))


class RandomRotation(_AffineLayer):
    """Rotate each image about its centre by an angle drawn from
    [factor[0], factor[1]] * 360 degrees (a number f: [-f, f]), counter-clockwise
    for positive angles as Keras (an angle of 90 degrees is ``np.rot90``).
    Transformation: (N, 1), the angle in degrees."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format=data_format,
                         **kwargs)
        self.factor = _factor_pair(self.owner, "factor", factor, (-1, 1))

    def draw(self, rows):
        return _uniform(self.rng(), rows, self.factor[0] * 360.0, self.factor[1] * 360.0)

    def transforms(self, params, height, width):
        f32 = np.float32
        angle = params[:, 0].astype(f32) * f32(np.pi / 180.0)
        cx, cy = f32(0.5) * f32(width - 1), f32(0.5) * f32(height - 1)
        cos, sin = np.cos(angle), np.sin(angle)
        a0, a1, b0, b1 = cos, -sin, sin, cos
        a2 = cx - cx * a0 - cy * a1
        b2 = cy - cx * b0 - cy * b1
        zeros = np.zeros_like(a0)
        return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomTranslation(_AffineLayer):
    """Shift each image by a fraction of its size drawn from ``height_factor`` and
    ``width_factor`` (a number f: [-f, f]; positive moves the content down / right).
    Transformation: (N, 2), the shifts in pixels (width, height), as Keras's
    ``translations``."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format=data_format,
                         **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_pair(self.owner, "height_factor", height_factor, (-1, 1))
        self.width_range = _factor_pair(self.owner, "width_factor", width_factor, (-1, 1))

    def draw(self, rows):
        raise NotImplementedError     # needs the image size: see draw_sized

    def draw_sized(self, rows, height, width):
        rng = self.rng()
        dy = _uniform(rng, rows, *self.height_range) * np.float32(height)
        dx = _uniform(rng, rows, *self.width_range) * np.float32(width)
        return np.concatenate([dx, dy], axis=1)

    def draw_batch_noise(self, rows):
        return self.draw_sized(rows, self.input_shape[1], self.input_shape[2])

    def transformation_for(self, x, transformation):
        if transformation is None and not (parallel.current() is not None
                                           and self in parallel.current().group.noise):
            return self.draw_sized(x.shape[0], x.shape[1], x.shape[2])
        return super().transformation_for(x, transformation)

    def transforms(self, params, height, width):
        t = params.astype(np.float32)
        ones, zeros = np.ones(len(t), np.float32), np.zeros(len(t), np.float32)
        return np.stack([ones, zeros, -t[:, 0], zeros, ones, -t[:, 1], zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomZoom(_AffineLayer):
    """Zoom each image about its centre: the height is scaled by 1 + a draw from
    ``height_factor`` (a number f: [-f, f]; positive zooms *out*, showing more),
    the width by one from ``width_factor`` (None: the same number as the height,
    keeping the aspect ratio). Transformation: (N, 2), Keras's (width_zoom,
    height_zoom)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format=data_format,
                         **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_pair(self.owner, "height_factor", height_factor, (-1, 1),
                                         lower_open=True)
        self.width_range = (None if width_factor is None else
                            _factor_pair(self.owner, "width_factor", width_factor, (-1, 1),
                                         lower_open=True))

    def draw(self, rows):
        rng = self.rng()
        hz = _uniform(rng, rows, 1.0 + self.height_range[0], 1.0 + self.height_range[1])
        wz = (hz if self.width_range is None else
              _uniform(rng, rows, 1.0 + self.width_range[0], 1.0 + self.width_range[1]))
        return np.concatenate([wz, hz], axis=1)

    def transforms(self, params, height, width):
        f32 = np.float32
        z = params.astype(f32)
        zx, zy = z[:, 0], z[:, 1]
        x_off = ((f32(width) - f32(1)) / f32(2)) * (f32(1) - zx)
        y_off = ((f32(height) - f32(1)) / f32(2)) * (f32(1) - zy)
        zeros = np.zeros_like(zx)
        return np.stack([zx, zeros, x_off, zeros, zy, y_off, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomContrast(_RandomLayer):
    """Scale each image's deviations from its per-channel mean by a factor drawn from
    [1 - lower, 1 + upper], then clip to ``value_range``. Keras 3's factor rule: a
    number f gives (lower, upper) = (0, f), so contrast only grows; a pair (a, b)
    gives [1 - a, 1 + b]. Transformation: (N, 1), the factor."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self.owner, "factor", factor, (0, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"{self.owner}: value_range must be a pair (low, high), "
                             f"received value_range={value_range!r}")
        self.value_range = tuple(value_range)

    def draw(self, rows):
        return _uniform(self.rng(), rows, 1.0 - self.factor[0], 1.0 + self.factor[1])

    def forward(self, x, training=False, transformation=None):
        x = self.check_image_input(x)
        if not training:
            self.cache = {"factor": None}
            return x
        f = self.transformation_for(x, transformation)[:, 0].astype(x.dtype)
        f = f.reshape(-1, 1, 1, 1)
        mean = x.mean(axis=1, keepdims=True).mean(axis=2, keepdims=True)   # (N, 1, 1, C)
        z = (x - mean) * f + mean
        lo, hi = (x.dtype.type(v) for v in self.value_range)
        self.cache = {"factor": f, "inside": (z >= lo) & (z <= hi)}
        return np.clip(z, lo, hi)

    def backward(self, dy, from_logits=False, compute_dx=True):
        if not compute_dx:
            return None
        f = self.cache["factor"]
        if f is None:
            return dy
        g = dy * self.cache["inside"]                      # clip passes the inside only
        # z = f x + (1 - f) mean(x): the mean's adjoint spreads its share evenly
        return f * g + (1 - f) * g.mean(axis=(1, 2), keepdims=True)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomBrightness(_RandomLayer):
    """Add to each image a delta drawn from [factor[0], factor[1]] times the width of
    ``value_range`` (a number f: [-f, f]), then clip to ``value_range``.
    Transformation: (N, 1), the delta (in pixel units)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self.owner, "factor", factor, (-1, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"{self.owner}: value_range must be a pair (low, high), "
                             f"received value_range={value_range!r}")
        self.value_range = tuple(sorted(value_range))

    def draw(self, rows):
        u = _uniform(self.rng(), rows, self.factor[0], self.factor[1])
        return u * np.float32(self.value_range[1] - self.value_range[0])

    def forward(self, x, training=False, transformation=None):
        x = self.check_image_input(x)
        if not training:
            self.cache = {"inside": None}
            return x
        delta = self.transformation_for(x, transformation)[:, 0].astype(x.dtype)
        z = x + delta.reshape(-1, 1, 1, 1)
        lo, hi = (x.dtype.type(v) for v in self.value_range)
        self.cache = {"inside": (z >= lo) & (z <= hi)}
        return np.clip(z, lo, hi)

    def backward(self, dy, from_logits=False, compute_dx=True):
        if not compute_dx:
            return None
        inside = self.cache["inside"]
        return dy if inside is None else dy * inside

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomCrop(_Sized, _RandomLayer):
    """Crop a random (height, width) box, one offset for the whole batch (as Keras).

    In training, an image not larger than the box on both sides takes Keras's
    deterministic path instead (a box from the target's aspect ratio, then a
    bilinear resize). At inference the image is centre-cropped to the target's
    aspect ratio and resized (bilinear) to (height, width), as Keras documents
    ("the largest possible window in the image that matches the target aspect
    ratio"); Keras 3.15 itself returns the input unchanged there, a shape that
    disagrees with its own ``compute_output_shape``. Transformation: (1, 2),
    (h_start, w_start)."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.set_size(height, width)

    def draw_sized(self, height, width):
        rng = self.rng()
        if height > self.height and width > self.width:
            u = rng.random(2, dtype=np.float32)
            starts = np.floor(u * np.float32([height - self.height + 1,
                                              width - self.width + 1]))
            return starts.reshape(1, 2).astype(np.float64)
        t, l, _, _ = aspect_crop_box(height, width, self.height, self.width)
        return np.array([[t, l]], dtype=np.float64)

    def draw_batch_noise(self, rows):
        return self.draw_sized(self.input_shape[1], self.input_shape[2])

    def transformation_for(self, x, transformation):
        if transformation is None and not (parallel.current() is not None
                                           and self in parallel.current().group.noise):
            return self.draw_sized(x.shape[1], x.shape[2])
        return super().transformation_for(x, transformation)

    def forward(self, x, training=False, transformation=None):
        x = self.check_image_input(x)
        h, w = x.shape[1:3]
        if not training:
            return self.crop_resize(x, aspect_crop_box(h, w, self.height, self.width))
        t, l = (int(v) for v in self.transformation_for(x, transformation)[0, :2])
        # Keras slices the box's size from the start, then resizes if it falls short
        return self.crop_resize(x, (t, l, min(self.height, h - t), min(self.width, w - l)))


PREPROCESSING_LAYERS = (Rescaling, Resizing, CenterCrop, RandomFlip, RandomRotation,
                        RandomTranslation, RandomZoom, RandomContrast, RandomBrightness,
                        RandomCrop)

__all__ = [cls.__name__ for cls in PREPROCESSING_LAYERS] + ["affine_transform",
                                                            "resize_images"]
