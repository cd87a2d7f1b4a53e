"""The VGG networks (Simonyan & Zisserman 2014): blocks of 3x3 'same' convolutions,
each block closed by a 2x2 max pooling, written exactly as ``keras.applications``
writes them (layer names ``block1_conv1`` ... ``predictions``)."""
import numpy as np

from .. import layers
from . import imagenet_utils
from ._common import finish, model_input, pooled

def vgg(convs_per_block, name, include_top=True, weights=None, input_tensor=None,
        input_shape=None, pooling=None, classes=1000, classifier_activation="softmax"):
    """``convs_per_block``: (2, 2, 3, 3, 3) is VGG16, (2, 2, 4, 4, 4) VGG19."""
    if include_top and weights is None and not isinstance(classes, (int, np.integer)):
        raise ValueError(f"{name}: classes must be an int, received {classes!r}")
    if include_top and input_shape is not None and tuple(input_shape) != (224, 224, 3) \
            and weights is not None:
        raise ValueError(f"{name}: with include_top=True and weights, input_shape must be "
                         f"(224, 224, 3), received {input_shape}")
    inputs = model_input(name, input_tensor, input_shape, include_top, pooling, (224, 224, 3))
    x = inputs
    for block, (convs, filters) in enumerate(zip(convs_per_block, (64, 128, 256, 512, 512)), 1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)                   # (7 * 7 * 512,) at 224x224
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    return finish(inputs, x, name, weights)


def preprocess_input(x, data_format=None):
    """Keras's VGG preprocessing ("caffe" mode): RGB -> BGR and minus the ImageNet channel
    means. x (..., 3) with values 0-255 -> float32 array of the same shape."""
    return imagenet_utils.preprocess_input(x, data_format, mode="caffe")
