"""Global pooling: one number per channel, over all positions.

    GlobalAveragePooling2D   (N, H, W, C) -> (N, C)    y = mean over H, W
    GlobalMaxPooling2D       (N, H, W, C) -> (N, C)    y = max over H, W
    GlobalAveragePooling1D   (N, T, C)    -> (N, C)    y = mean over T
    GlobalMaxPooling1D       (N, T, C)    -> (N, C)    y = max over T

``keepdims=True`` keeps the pooled axes with size 1: (N, 1, 1, C) / (N, 1, C).

Going back, the average spreads dy evenly: dx = dy / (H*W) at every position.
The maximum gives dy to the positions holding the maximum; when several tie,
they share it equally (dy / number of ties), which is what TensorFlow's
gradient of ``reduce_max`` does (unlike MaxPooling2D, where the first wins).
"""
import numpy as np

from .base import Layer, check_data_format


class GlobalPooling(Layer):
    """What the four share: ``axes`` pooled (2D: H and W, 1D: T), ``keepdims``."""

    rank = None                      # 4 (NHWC) or 3 (NTC)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(self.owner, data_format)
        if not isinstance(keepdims, (bool, np.bool_)):
            raise ValueError(f"{self.owner}: keepdims must be a bool, "
                             f"received keepdims={keepdims!r}")
        self.keepdims = bool(keepdims)

    @property
    def axes(self):
        return tuple(range(1, self.rank - 1))          # (1, 2) or (1,)

    def build(self, input_shape):
        if len(input_shape) != self.rank:
            layout = "NHWC" if self.rank == 4 else "(batch, steps, channels)"
            raise ValueError(f"{self.owner} expects {self.rank}-D {layout} input, "
                             f"received shape {tuple(input_shape)}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, c = input_shape[0], input_shape[-1]
        return (n, *([1] * len(self.axes)), c) if self.keepdims else (n, c)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling(GlobalPooling):
    def forward(self, x, training=False):
        x = self.check_input(x, rank=self.rank)
        self.cache = {"x_shape": x.shape}
        return x.mean(axis=self.axes, keepdims=self.keepdims)      # (N, C) or (N, 1, 1, C)

    def backward(self, dy, from_logits=False, compute_dx=True):
        x_shape = self.cache["x_shape"]
        count = int(np.prod([x_shape[a] for a in self.axes]))      # H*W (2D) or T (1D)
        dy = dy.reshape(x_shape[0], *([1] * len(self.axes)), x_shape[-1])   # (N, 1, 1, C)
        return np.broadcast_to(dy / self.dtype.type(count), x_shape).copy()


class GlobalMaxPooling(GlobalPooling):
    def forward(self, x, training=False):
        x = self.check_input(x, rank=self.rank)
        y = x.max(axis=self.axes, keepdims=True)                    # (N, 1, 1, C)
        winners = x == y                                            # ties: several True
        counts = winners.sum(axis=self.axes, keepdims=True)         # (N, 1, 1, C)
        self.cache = {"share": winners / counts.astype(self.dtype)}  # 1/ties at each max
        return y if self.keepdims else y.reshape(x.shape[0], x.shape[-1])

    def backward(self, dy, from_logits=False, compute_dx=True):
        share = self.cache["share"]
        dy = dy.reshape(share.shape[0], *([1] * len(self.axes)), share.shape[-1])
        return (share * dy).astype(self.dtype, copy=False)


class GlobalAveragePooling2D(GlobalAveragePooling):
    """(N, H, W, C) -> (N, C): the mean of each feature map."""
    rank = 4


class GlobalMaxPooling2D(GlobalMaxPooling):
    """(N, H, W, C) -> (N, C): the maximum of each feature map."""
    rank = 4


class GlobalAveragePooling1D(GlobalAveragePooling):
    """(N, T, C) -> (N, C): the mean over the steps."""
    rank = 3


class GlobalMaxPooling1D(GlobalMaxPooling):
    """(N, T, C) -> (N, C): the maximum over the steps."""
    rank = 3


GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
