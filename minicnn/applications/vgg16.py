"""``keras.applications.vgg16``: VGG16, 13 convolutions and 3 dense layers."""
from ._vgg import preprocess_input, vgg
from .imagenet_utils import decode_predictions


def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16"):
    """VGG16 as Keras builds it: 138,357,544 parameters with the top (224x224x3,
    1000 classes), 14,714,688 without. Keras's default ``weights="imagenet"`` is
    ``weights=None`` here (nothing is downloaded)."""
    return vgg((2, 2, 3, 3, 3), name, include_top, weights, input_tensor, input_shape,
               pooling, classes, classifier_activation)


__all__ = ["VGG16", "preprocess_input", "decode_predictions"]
