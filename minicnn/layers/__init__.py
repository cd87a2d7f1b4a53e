"""Layers, Keras names and arguments, each with ``forward`` and ``backward``."""
from .activation import Activation, ReLU, Softmax
from .base import Layer, clear_session
from .conv import Conv2D
from .conv1d import Conv1D, Convolution1D
from .conv_transpose import Conv2DTranspose, Convolution2DTranspose
from .depthwise import DepthwiseConv2D, SeparableConv2D
from .embedding import Embedding
from .lrn import LocalResponseNormalization
from .pooling1d import AveragePooling1D, AvgPool1D, MaxPool1D, MaxPooling1D
from .core import Dense, Dropout, Flatten, Input, InputLayer, ZeroPadding2D
from .normalization import BatchNormalization
from .advanced_activations import ELU, LeakyReLU, PReLU
from .global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                             GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                             GlobalMaxPooling1D, GlobalMaxPooling2D)
from .merge import Add, Average, Concatenate, Maximum, Multiply, Subtract
from .reshaping import Cropping2D, Permute, Reshape, UpSampling2D
from .pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D

Convolution2D = Conv2D

LAYER_CLASSES = {cls.__name__: cls for cls in (
    Activation, ReLU, Softmax, Conv2D, Dense, Dropout, Flatten, InputLayer, ZeroPadding2D,
    BatchNormalization, AveragePooling2D, MaxPooling2D)}

# Conv1D, pooling 1-D, depthwise / separable / transposed convolutions, Embedding, LRN
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Conv1D, MaxPooling1D, AveragePooling1D, DepthwiseConv2D, SeparableConv2D,
    Conv2DTranspose, Embedding, LocalResponseNormalization)})

# merging, global pooling, reshaping, advanced activations
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Concatenate, Add, Subtract, Multiply, Average, Maximum, GlobalAveragePooling2D,
    GlobalMaxPooling2D, GlobalAveragePooling1D, GlobalMaxPooling1D, Reshape, Permute,
    Cropping2D, UpSampling2D, LeakyReLU, ELU, PReLU)})


# image preprocessing and augmentation (Keras 3's preprocessing layers)
from .preprocessing import (CenterCrop, RandomBrightness, RandomContrast, RandomCrop,  # noqa: E402
                            RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                            Rescaling, Resizing)
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Rescaling, Resizing, CenterCrop, RandomFlip, RandomRotation, RandomTranslation,
    RandomZoom, RandomContrast, RandomBrightness, RandomCrop)})

# Layer classes of the user's own, made known by ``minicnn.saving.register_serializable``.
REGISTERED = {}


def deserialize(spec, custom_objects=None):
    """``{"class_name": ..., "config": {...}}`` -> a new layer. Classes are looked up in
    ``custom_objects`` (a dict name -> class), then among the registered classes,
    then among minicnn's own."""
    name = spec.get("class_name")
    cls = (custom_objects or {}).get(name) or REGISTERED.get(name) or LAYER_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown layer class {name!r} (a layer of your own: pass "
                         f"custom_objects={{{name!r}: {name}}} or decorate the class with "
                         f"@minicnn.saving.register_serializable()); minicnn's layers are "
                         f"{sorted(LAYER_CLASSES)}")
    return cls.from_config(dict(spec.get("config", {})))


def serialize(layer):
    """A layer as ``{"class_name": ..., "config": layer.get_config()}`` (what a saved
    model stores; ``deserialize`` makes a new layer from it)."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


__all__ = sorted(LAYER_CLASSES) + ["AvgPool2D", "MaxPool2D", "Convolution2D", "Input",
                                   "Layer", "clear_session", "serialize", "deserialize"]
__all__ += ["Convolution1D", "Convolution2DTranspose", "MaxPool1D", "AvgPool1D"]
__all__ += ["GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalMaxPool1D"]
