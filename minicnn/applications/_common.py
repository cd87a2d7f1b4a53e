"""What every application builder does around its own layers, as ``keras.applications``
does: check ``pooling``, make (or take) the input tensor, end in the top or in a
global pooling, build the model and load weights from a Keras file."""
from .. import layers
from ..graph import KerasTensor
from ..model import Model


def model_input(name, input_tensor, input_shape, include_top, pooling, default_shape,
                min_size=None):
    """The input tensor: ``input_tensor``, or a new ``Input`` of ``input_shape``
    (default ``default_shape`` with the top, (None, None, 3) without it)."""
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: pooling must be None, 'avg' or 'max', received {pooling!r}")
    if input_shape is None:
        input_shape = default_shape if include_top else (None, None, 3)
    if min_size is not None and any(d is not None and d < min_size for d in input_shape[:2]):
        raise ValueError(f"{name}: input size must be at least {min_size}x{min_size}, "
                         f"received {input_shape}")
    if input_tensor is not None and not isinstance(input_tensor, KerasTensor):
        raise TypeError(f"{name}: input_tensor must be a minicnn.Input tensor, received "
                        f"{type(input_tensor).__name__}")
    return input_tensor if input_tensor is not None else layers.Input(shape=input_shape)


def pooled(x, pooling):
    """The headless network's ending: global average or max pooling, or nothing."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D()(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D()(x)
    return x


def finish(inputs, outputs, name, weights):
    """The ``Model``, with the weights of a Keras file when ``weights`` names one."""
    model = Model(inputs, outputs, name=name)
    if weights is not None:
        load_weights(model, weights, name)
    return model


def load_weights(model, weights, name):
    """Weights from a Keras file, read through Keras (``minicnn.keras_io``)."""
    if weights == "imagenet":
        raise ValueError(f"{name}: minicnn ships no pretrained weights and does not download "
                         f"them; save them from Keras (keras.applications.{name.upper()}"
                         f"(weights='imagenet').save_weights('vgg.weights.h5')) and pass "
                         f"weights='vgg.weights.h5'")
    from ..keras_io import load_keras_weights
    load_keras_weights(model, weights)
