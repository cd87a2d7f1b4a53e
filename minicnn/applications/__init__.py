"""Keras's ``keras.applications`` namespace: the classic ImageNet networks.

    from minicnn.applications import VGG16
    conv_base = VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))

Same layer names, shapes, parameter counts and weight order as Keras, so
weights brought in with ``minicnn.from_keras`` (or a Keras weights file)
fit. No pretrained weights ship with minicnn: ``weights=None`` builds the
network with fresh initial weights, ``weights="path.weights.h5"`` or a
``.keras`` file loads them through Keras (an optional extra).
"""
from . import imagenet_utils, inception_v3, vgg16, vgg19  # noqa: F401
from .inception_v3 import InceptionV3
from .vgg16 import VGG16
from .vgg19 import VGG19

__all__ = ["InceptionV3", "VGG16", "VGG19"]
