"""``keras.applications.inception_v3``: Inception v3 (Szegedy et al. 2015), layer for layer.

Every convolution is ``conv2d_bn``: a bias-free Conv2D, a BatchNormalization
without a scale (the ReLU after it makes gamma redundant) and a ReLU. The
"mixed" blocks are Inception modules: branches of 1x1, factorized 3x3 / 5x5 /
7x7 (1x7 then 7x1) convolutions and pooling, concatenated on the channels.
23,851,784 parameters with the top (299x299x3, 1000 classes), 21,802,784
without; the layers are created in Keras's order, so their names
(``conv2d_12``, ``batch_normalization_12``, ``mixed5``, ...) and
``get_weights`` order are Keras's.
"""
from .. import layers
from ._common import finish, model_input, pooled
from .imagenet_utils import decode_predictions  # noqa: F401  (Keras's module has it)
from .imagenet_utils import preprocess_input as _preprocess


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Conv2D (no bias) -> BatchNormalization(scale=False) -> ReLU."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=3, scale=False,
                                  name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _pool_branch(x, filters):
    """3x3 average pooling (stride 1, 'same') then a 1x1 conv2d_bn."""
    return conv2d_bn(layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x),
                     filters, 1, 1)


def _block_35(x, pool_filters, name):
    """mixed0-2 (35x35): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avg pool-1x1."""
    b1 = conv2d_bn(x, 64, 1, 1)
    b5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    b3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    return layers.Concatenate(axis=3, name=name)([b1, b5, b3, _pool_branch(x, pool_filters)])


def _block_17(x, width, name):
    """mixed4-7 (17x17): 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avg pool-1x1."""
    b1 = conv2d_bn(x, 192, 1, 1)
    b7 = conv2d_bn(conv2d_bn(conv2d_bn(x, width, 1, 1), width, 1, 7), 192, 7, 1)
    bd = conv2d_bn(x, width, 1, 1)
    for rows, cols in ((7, 1), (1, 7), (7, 1)):
        bd = conv2d_bn(bd, width, rows, cols)
    bd = conv2d_bn(bd, 192, 1, 7)
    return layers.Concatenate(axis=3, name=name)([b1, b7, bd, _pool_branch(x, 192)])


def _block_8(x, i):
    """mixed9/10 (8x8): 1x1 | 1x1-(1x3 | 3x1) | 1x1-3x3-(1x3 | 3x1) | avg pool-1x1."""
    b1 = conv2d_bn(x, 320, 1, 1)
    b3 = conv2d_bn(x, 384, 1, 1)
    b3 = layers.Concatenate(axis=3, name=f"mixed9_{i}")(
        [conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)])
    bd = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    bd = layers.Concatenate(axis=3)([conv2d_bn(bd, 384, 1, 3), conv2d_bn(bd, 384, 3, 1)])
    return layers.Concatenate(axis=3, name=f"mixed{9 + i}")([b1, b3, bd, _pool_branch(x, 192)])


def InceptionV3(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    """Inception v3 as Keras builds it (default input 299x299x3, at least 75x75).
    Keras's default ``weights="imagenet"`` is ``weights=None`` here (nothing is
    downloaded); a path to a Keras weights file loads it through Keras."""
    inputs = model_input(name, input_tensor, input_shape, include_top, pooling, (299, 299, 3),
                         min_size=75)

    x = conv2d_bn(inputs, 32, 3, 3, strides=(2, 2), padding="valid")    # the stem
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = _block_35(x, 32, "mixed0")                                       # 35 x 35 x 256
    x = _block_35(x, 64, "mixed1")                                       # 35 x 35 x 288
    x = _block_35(x, 64, "mixed2")
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")        # mixed3: 17x17x768
    bd = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2),
                   padding="valid")
    x = layers.Concatenate(axis=3, name="mixed3")(
        [b3, bd, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)])
    for width, block in ((128, "mixed4"), (160, "mixed5"), (160, "mixed6"), (192, "mixed7")):
        x = _block_17(x, width, block)
    b3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = conv2d_bn(x, 192, 1, 1)                                         # mixed8: 8x8x1280
    b7 = conv2d_bn(conv2d_bn(b7, 192, 1, 7), 192, 7, 1)
    b7 = conv2d_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    x = layers.Concatenate(axis=3, name="mixed8")(
        [b3, b7, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)])
    x = _block_8(x, 0)                                                   # 8 x 8 x 2048
    x = _block_8(x, 1)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    return finish(inputs, x, name, weights)


def preprocess_input(x, data_format=None):
    """Keras's Inception preprocessing ("tf" mode): pixels 0..255 -> -1..1."""
    return _preprocess(x, data_format, mode="tf")


__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]
