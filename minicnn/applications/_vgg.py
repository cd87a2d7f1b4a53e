"""The VGG networks (Simonyan & Zisserman 2014): blocks of 3x3 'same' convolutions,
each block closed by a 2x2 max pooling, written exactly as ``keras.applications``
writes them (layer names ``block1_conv1`` ... ``predictions``)."""
import numpy as np

from .. import layers
from . import imagenet_utils
from ..graph import KerasTensor
from ..model import Model

def vgg(convs_per_block, name, include_top=True, weights=None, input_tensor=None,
        input_shape=None, pooling=None, classes=1000, classifier_activation="softmax"):
    """``convs_per_block``: (2, 2, 3, 3, 3) is VGG16, (2, 2, 4, 4, 4) VGG19."""
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: pooling must be None, 'avg' or 'max', received {pooling!r}")
    if include_top and weights is None and not isinstance(classes, (int, np.integer)):
        raise ValueError(f"{name}: classes must be an int, received {classes!r}")
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    if include_top and tuple(input_shape) != (224, 224, 3) and weights is not None:
        raise ValueError(f"{name}: with include_top=True and weights, input_shape must be "
                         f"(224, 224, 3), received {input_shape}")
    if input_tensor is not None and not isinstance(input_tensor, KerasTensor):
        raise TypeError(f"{name}: input_tensor must be a minicnn.Input tensor, received "
                        f"{type(input_tensor).__name__}")
    inputs = input_tensor if input_tensor is not None else layers.Input(shape=input_shape)
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
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=name)
    if weights is not None:
        _load_weights(model, weights, name)
    return model


def _load_weights(model, weights, name):
    """Weights from a Keras file, read through Keras (``minicnn.keras_io``)."""
    if weights == "imagenet":
        raise ValueError(f"{name}: minicnn ships no pretrained weights and does not download "
                         f"them; save them from Keras (keras.applications.{name.upper()}"
                         f"(weights='imagenet').save_weights('vgg.weights.h5')) and pass "
                         f"weights='vgg.weights.h5'")
    from ..keras_io import load_keras_weights
    load_keras_weights(model, weights)


def preprocess_input(x, data_format=None):
    """Keras's VGG preprocessing ("caffe" mode): RGB -> BGR and minus the ImageNet channel
    means. x (..., 3) with values 0-255 -> float32 array of the same shape."""
    return imagenet_utils.preprocess_input(x, data_format, mode="caffe")
