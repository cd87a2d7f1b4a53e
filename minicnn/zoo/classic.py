"""The larger networks the chapters name: AlexNet and GoogLeNet's Inception modules.

Both are written with the functional API (``Input``, layers called on tensors,
``Model``); an Inception module is a function from a tensor to a tensor, so
modules stack like layers.
"""
from .. import layers
from ..model import Model

# AlexNet's local response normalization, as the TensorFlow port of the
# original network calls tf.nn.lrn: depth_radius 2, alpha 2e-5, beta 0.75, bias 1.
ALEXNET_LRN = dict(depth_radius=2, alpha=2e-5, beta=0.75, bias=1.0)


def alexnet(input_shape=(227, 227, 3), classes=1000):
    """AlexNet (Krizhevsky, Sutskever & Hinton 2012) as the TensorFlow chapter builds it.

    conv 96@11x11 stride 4 - LRN - max pool 3x3 stride 2 (overlapping) -
    conv 256@5x5 'same' - LRN - max pool 3/2 - conv 384@3x3 - conv 384@3x3 -
    conv 256@3x3 (all 'same') - max pool 3/2 - Dense 4096 - dropout 0.5 -
    Dense 4096 - dropout 0.5 - Dense ``classes``. 62,378,344 parameters at
    227x227x3 and 1000 classes (the original split conv2/4/5 over two GPUs,
    ``groups=2``; one device needs no split, so these convolutions are whole).
    """
    inputs = layers.Input(input_shape)                                     # (227, 227, 3)
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)  # (55, 55, 96)
    x = layers.LocalResponseNormalization(**ALEXNET_LRN, name="lrn1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)                # (27, 27, 96)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.LocalResponseNormalization(**ALEXNET_LRN, name="lrn2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)                # (13, 13, 256)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)                # (6, 6, 256)
    x = layers.Flatten(name="flatten")(x)                                  # (9216,)
    x = layers.Dense(4096, activation="relu", name="fc6")(x)
    x = layers.Dropout(0.5, name="dropout6")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)
    x = layers.Dropout(0.5, name="dropout7")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc8")(x)
    return Model(inputs, outputs, name="alexnet")


def alexnet_small(input_shape=(32, 32, 3), classes=10):
    """AlexNet's recipe at CIFAR size, small enough to train here: the same sequence
    (conv - LRN - overlapping pool, twice; three 3x3 convs; pool; two dropout-
    regularized dense layers) with 5x5 / 3x3 kernels and fewer units.
    1,543,178 parameters at 32x32x3 and 10 classes."""
    inputs = layers.Input(input_shape)                                     # (32, 32, 3)
    x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.LocalResponseNormalization(**ALEXNET_LRN, name="lrn1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # (16, 16, 64)
    x = layers.Conv2D(128, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.LocalResponseNormalization(**ALEXNET_LRN, name="lrn2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)  # (8, 8, 128)
    x = layers.Conv2D(192, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(192, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool5")(x)  # (4, 4, 128)
    x = layers.Flatten(name="flatten")(x)                                  # (2048,)
    x = layers.Dense(256, activation="relu", name="fc6")(x)
    x = layers.Dropout(0.5, name="dropout6")(x)
    x = layers.Dense(128, activation="relu", name="fc7")(x)
    x = layers.Dropout(0.5, name="dropout7")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc8")(x)
    return Model(inputs, outputs, name="alexnet_small")


def inception_naive(x, filters_1x1, filters_3x3, filters_5x5, name=None):
    """GoogLeNet's naive Inception module: 1x1, 3x3 and 5x5 'same' convolutions and a
    3x3 max pooling (stride 1, 'same') side by side, concatenated on channels.
    Output channels: filters_1x1 + filters_3x3 + filters_5x5 + input channels."""
    prefix = f"{name}_" if name else ""
    branches = [
        layers.Conv2D(filters_1x1, 1, padding="same", activation="relu",
                      name=f"{prefix}1x1" if name else None)(x),
        layers.Conv2D(filters_3x3, 3, padding="same", activation="relu",
                      name=f"{prefix}3x3" if name else None)(x),
        layers.Conv2D(filters_5x5, 5, padding="same", activation="relu",
                      name=f"{prefix}5x5" if name else None)(x),
        layers.MaxPooling2D(3, strides=1, padding="same",
                            name=f"{prefix}pool" if name else None)(x),
    ]
    return layers.Concatenate(name=f"{prefix}concat" if name else None)(branches)


def inception_module(x, filters_1x1, reduce_3x3, filters_3x3, reduce_5x5, filters_5x5,
                     pool_proj, name=None):
    """The Inception module with dimension reductions (GoogLeNet, Szegedy et al. 2014):
    1x1 convolutions shrink the channels before the 3x3 and 5x5 convolutions and
    after the pooling. Output channels: filters_1x1 + filters_3x3 + filters_5x5 +
    pool_proj (inception 3a: 64, 96->128, 16->32, 32 gives 256)."""
    def conv(filters, size, part, inp):
        return layers.Conv2D(filters, size, padding="same", activation="relu",
                             name=f"{name}_{part}" if name else None)(inp)

    b1 = conv(filters_1x1, 1, "1x1", x)
    b3 = conv(filters_3x3, 3, "3x3", conv(reduce_3x3, 1, "3x3_reduce", x))
    b5 = conv(filters_5x5, 5, "5x5", conv(reduce_5x5, 1, "5x5_reduce", x))
    pooled = layers.MaxPooling2D(3, strides=1, padding="same",
                                 name=f"{name}_pool" if name else None)(x)
    bp = conv(pool_proj, 1, "pool_proj", pooled)
    return layers.Concatenate(name=f"{name}_concat" if name else None)([b1, b3, b5, bp])


def small_inception(input_shape=(32, 32, 3), classes=10):
    """A small GoogLeNet: a 3x3 stem, inception 3a and 3b (GoogLeNet's own widths),
    max pooling, inception 4a, global average pooling, dropout 0.4 and a softmax
    layer. 908,906 parameters at 32x32x3 and 10 classes."""
    inputs = layers.Input(input_shape)                                     # (32, 32, 3)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    x = layers.MaxPooling2D(2, name="stem_pool")(x)                        # (16, 16, 64)
    x = inception_module(x, 64, 96, 128, 16, 32, 32, name="inception_3a")   # (16, 16, 256)
    x = inception_module(x, 128, 128, 192, 32, 96, 64, name="inception_3b")  # (16, 16, 480)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool3")(x)   # (8, 8, 480)
    x = inception_module(x, 192, 96, 208, 16, 48, 64, name="inception_4a")   # (8, 8, 512)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)                  # (512,)
    x = layers.Dropout(0.4, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name="small_inception")
