"""``keras.applications.vgg19``: VGG19, 16 convolutions and 3 dense layers."""
from ._vgg import preprocess_input, vgg
from .imagenet_utils import decode_predictions


def VGG19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg19"):
    """VGG19 as Keras builds it: 143,667,240 parameters with the top (224x224x3,
    1000 classes), 20,024,384 without. ``weights=None`` by default (nothing is
    downloaded)."""
    return vgg((2, 2, 4, 4, 4), name, include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation)


__all__ = ["VGG19", "preprocess_input", "decode_predictions"]
