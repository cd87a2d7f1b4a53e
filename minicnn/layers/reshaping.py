"""Layers that move values around: Reshape, Permute, Cropping2D, UpSampling2D.

None of them computes anything new, so each backward is the adjoint of its
forward: the inverse reshape or permutation, zero-padding back what was
cropped, and for upsampling the sum of the gradients of every output pixel
an input pixel fed (a copy for "nearest", a weighted copy for "bilinear").
"""
import numpy as np

from .base import Layer, as_pair, check_data_format, check_keras_only


def _known_size(dims):
    return None if any(d is None for d in dims) else int(np.prod(dims, dtype=np.int64))


class Reshape(Layer):
    """(N, *in) -> (N, *target_shape), row-major as numpy and Keras; one entry may be
    -1 (inferred from the size). The batch axis is never part of ``target_shape``."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(target_shape) if isinstance(target_shape, (list, tuple)) else None
        if dims is None or not all(isinstance(d, (int, np.integer)) and (d >= 1 or d == -1)
                                   for d in dims):
            raise ValueError(f"{self.owner}: target_shape must be a tuple of positive ints "
                             f"(one may be -1), received target_shape={target_shape!r}")
        if list(dims).count(-1) > 1:
            raise ValueError(f"{self.owner}: there must be at most one unknown dimension "
                             f"(-1) in target_shape, received target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in dims)

    def _resolve(self, in_dims):
        """target_shape with its -1 worked out from the input's size (None if unknown)."""
        size, target = _known_size(in_dims), self.target_shape
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        if -1 in target:
            if size is None:
                return tuple(None if d == -1 else d for d in target)
            if size % known:
                raise ValueError(f"{self.owner}: the input's {size} values per sample do not "
                                 f"fit target_shape={target}, received input shape "
                                 f"(None, {', '.join(map(str, in_dims))})")
            return tuple(size // known if d == -1 else d for d in target)
        if size is not None and size != known:
            raise ValueError(f"{self.owner}: total size of the new array must be unchanged: "
                             f"target_shape={target} holds {known} values, the input "
                             f"(None, {', '.join(map(str, in_dims))}) has {size} per sample")
        return target

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolve(tuple(input_shape[1:])))

    def forward(self, x, training=False):
        x = self.check_input(x)
        self.cache = {"x_shape": x.shape}
        return x.reshape(x.shape[0], *self._resolve(x.shape[1:]))    # (N, *target_shape)

    def backward(self, dy, from_logits=False, compute_dx=True):
        return dy.reshape(self.cache["x_shape"])

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorder the non-batch axes: ``Permute((2, 1))`` turns (N, A, B) into (N, B, A).
    ``dims`` numbers the axes from 1 (the batch axis 0 never moves)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        d = tuple(dims) if isinstance(dims, (list, tuple)) else None
        if d is None or not all(isinstance(v, (int, np.integer)) for v in d) \
                or sorted(d) != list(range(1, len(d) + 1)):
            raise ValueError(f"{self.owner}: invalid permutation argument dims; the indices "
                             f"must be 1, 2, ..., len(dims) in some order, received "
                             f"dims={dims!r}")
        self.dims = tuple(int(v) for v in d)

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"{self.owner}: dims={self.dims} permutes {len(self.dims)} axes, "
                             f"received input shape {tuple(shape)} "
                             f"({len(shape) - 1} non-batch axes)")

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x, training=False):
        x = self.check_input(x)
        self._check_rank(x.shape)
        return np.ascontiguousarray(x.transpose(0, *self.dims))

    def backward(self, dy, from_logits=False, compute_dx=True):
        inverse = np.argsort((0, *self.dims))          # the permutation that undoes it
        return np.ascontiguousarray(dy.transpose(*inverse))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


def _normalize_cropping(cropping, owner):
    """int, (h, w) or ((top, bottom), (left, right)) -> ((t, b), (l, r)), as Keras 3."""
    message = (f"{owner}: cropping must be a non-negative int, a pair of ints (symmetric "
               f"height crop, symmetric width crop) or ((top, bottom), (left, right)), "
               f"received cropping={cropping!r}")
    if isinstance(cropping, (int, np.integer)) and not isinstance(cropping, bool):
        pairs = ((cropping, cropping), (cropping, cropping))
    elif isinstance(cropping, (list, tuple)) and len(cropping) == 2:
        pairs = tuple((c, c) if isinstance(c, (int, np.integer)) else
                      tuple(c) if isinstance(c, (list, tuple)) else None for c in cropping)
        if any(p is None or len(p) != 2 for p in pairs):
            raise ValueError(message)
    else:
        raise ValueError(message)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
               for p in pairs for v in p):
        raise ValueError(message)
    return tuple(tuple(int(v) for v in p) for p in pairs)


class Cropping2D(Layer):
    """Cut rows and columns off the border: y = x[:, t:H-b, l:W-r, :]."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _normalize_cropping(cropping, self.owner)
        self.data_format = check_data_format(self.owner, data_format)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        n, h, w, c = input_shape
        (t, b), (l, r) = self.cropping
        if (h is not None and t + b >= h) or (w is not None and l + r >= w):
            raise ValueError(f"{self.owner}: cropping={self.cropping} must leave at least one "
                             f"row and column, received input shape {tuple(input_shape)}")
        return (n, None if h is None else h - t - b, None if w is None else w - l - r, c)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        n, h, w, c = x.shape
        self.compute_output_shape(x.shape)                 # raises if nothing is left
        (t, b), (l, r) = self.cropping
        self.cache = {"x_shape": x.shape}
        return x[:, t:h - b, l:w - r, :].copy()            # (N, H-t-b, W-l-r, C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        n, h, w, c = self.cache["x_shape"]
        (t, b), (l, r) = self.cropping
        dx = np.zeros((n, h, w, c), dtype=dy.dtype)        # cropped cells get no gradient
        dx[:, t:h - b, l:w - r, :] = dy
        return dx

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping],
                "data_format": self.data_format}


def bilinear_matrix(n_in, n_out):
    """(n_out, n_in) weights of TensorFlow's bilinear resize along one axis.

    Half-pixel centres (``tf.image.resize``, antialias off): output pixel o looks
    at source position s = (o + 0.5) * n_in / n_out - 0.5, and mixes its two
    neighbours floor(s) and floor(s) + 1 (clamped to the image) with weights
    1 - frac(s) and frac(s). Like TensorFlow, s is computed in float32."""
    scale = np.float32(n_in) / np.float32(n_out)
    s = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(s)
    lerp = (s - floor).astype(np.float64)                  # frac(s), in [0, 1)
    lower = np.clip(floor.astype(np.int64), 0, n_in - 1)
    upper = np.clip(np.ceil(s).astype(np.int64), 0, n_in - 1)
    a = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(a, (rows, lower), 1 - lerp)
    np.add.at(a, (rows, upper), lerp)
    return a


class UpSampling2D(Layer):
    """Enlarge each feature map by ``size = (sh, sw)``: (N, H, W, C) -> (N, sh*H, sw*W, C).

    * "nearest": every pixel becomes an sh x sw block; dx sums dy over the block.
    * "bilinear": as ``tf.image.resize`` (see ``bilinear_matrix``). Resizing is
      linear and separable, y = A_h x A_w^T per channel, with A_h (sh*H, H) and
      A_w (sw*W, W); so its backward is the adjoint dx = A_h^T dy A_w.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = as_pair(size, "size", self.owner)
        self.data_format = check_data_format(self.owner, data_format)
        if not isinstance(interpolation, str):
            raise ValueError(f"{self.owner}: interpolation must be a string, "
                             f"received interpolation={interpolation!r}")
        self.interpolation = check_keras_only(self.owner, "interpolation",
                                              interpolation.lower(), ("nearest", "bilinear"))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.owner} expects 4-D NHWC input, "
                             f"received shape {tuple(input_shape)}")
        n, h, w, c = input_shape
        sh, sw = self.size
        return (n, None if h is None else h * sh, None if w is None else w * sw, c)

    def forward(self, x, training=False):
        x = self.check_input(x, rank=4)
        n, h, w, c = x.shape
        sh, sw = self.size
        self.cache = {"x_shape": x.shape}
        if self.interpolation == "nearest":
            return np.repeat(np.repeat(x, sh, axis=1), sw, axis=2)       # (N, sh*H, sw*W, C)
        a_h = bilinear_matrix(h, sh * h).astype(x.dtype)                 # (OH, H)
        a_w = bilinear_matrix(w, sw * w).astype(x.dtype)                 # (OW, W)
        self.cache.update(a_h=a_h, a_w=a_w)
        rows = np.matmul(a_h, x.reshape(n, h, w * c))                    # (N, OH, W*C)
        rows = rows.reshape(n * sh * h, w, c)                            # (N*OH, W, C)
        y = np.matmul(a_w, rows)                                         # (N*OH, OW, C)
        return y.reshape(n, sh * h, sw * w, c)

    def backward(self, dy, from_logits=False, compute_dx=True):
        n, h, w, c = self.cache["x_shape"]
        sh, sw = self.size
        if self.interpolation == "nearest":
            blocks = dy.reshape(n, h, sh, w, sw, c)                      # one block per pixel
            return blocks.sum(axis=(2, 4))                               # (N, H, W, C)
        a_h, a_w = self.cache["a_h"], self.cache["a_w"]
        rows = np.matmul(a_w.T, dy.reshape(n * sh * h, sw * w, c))       # (N*OH, W, C)
        rows = rows.reshape(n, sh * h, w * c)                            # (N, OH, W*C)
        return np.matmul(a_h.T, rows).reshape(n, h, w, c)                # (N, H, W, C)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "data_format": self.data_format, "interpolation": self.interpolation}
