"""Layers, Keras names and arguments, each with ``forward`` and ``backward``."""
from .activation import Activation, ReLU, Softmax
from .base import Layer, clear_session
from .conv import Conv2D
from .core import Dense, Dropout, Flatten, Input, InputLayer, ZeroPadding2D
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D

Convolution2D = Conv2D

LAYER_CLASSES = {cls.__name__: cls for cls in (
    Activation, ReLU, Softmax, Conv2D, Dense, Dropout, Flatten, InputLayer, ZeroPadding2D,
    BatchNormalization, AveragePooling2D, MaxPooling2D)}


def deserialize(spec):
    """``{"class_name": ..., "config": {...}}`` -> a new layer."""
    name = spec.get("class_name")
    if name not in LAYER_CLASSES:
        raise ValueError(f"unknown layer class {name!r}; expected one of {sorted(LAYER_CLASSES)}")
    return LAYER_CLASSES[name].from_config(dict(spec.get("config", {})))


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


__all__ = sorted(LAYER_CLASSES) + ["AvgPool2D", "MaxPool2D", "Convolution2D", "Input",
                                   "Layer", "clear_session", "serialize", "deserialize"]
