"""The model zoo: the networks of the source material, ready to train.

Every builder returns a new, *uncompiled* model that starts with an
``Input``, so ``model.summary()`` works at once and prints the same table as
the Keras model written the same way. Compile it yourself, or use the settings
the source material trained it with, kept as data in ``TRAINING``:

    from minicnn import zoo
    model = zoo.keras_mnist_convnet()
    model.compile(**zoo.compile_args("keras_mnist_convnet"), metrics=["accuracy"])
    model.fit(x, y, batch_size=zoo.TRAINING["keras_mnist_convnet"]["batch_size"])

===============================  ============  ===========  ================================
builder                          input         parameters   from
===============================  ============  ===========  ================================
``keras_mnist_convnet()``        28x28x1           93,322   Keras MNIST example (Sequential)
``keras_mnist_functional()``     28x28x1          104,202   the Keras chapter (functional API)
``lenet5()``                     28x28x1           61,706   LeCun et al. 1998, ReLU + max pool
``lenet5_tf()``                  28x28x1        1,379,557   the TensorFlow chapter's "LeNet-5"
``mnist_deep_head()``            28x28x1        3,540,144   5x5 convs + Dense 1024-256-50
``emotion_net()``                48x48x1        2,380,679   the facial-expression CNN
``small_vgg()``                  150x150x3      3,453,121   the Keras chapter's cats vs dogs
``separable_classifier()``       64x64x3           38,949   the Keras chapter, SeparableConv2D
``conv1d_text_classifier()``     500 word ids   1,315,937   the Keras chapter, IMDB Conv1D
``alexnet()``                    227x227x3     62,378,344   AlexNet with LRN (TF chapter)
``alexnet_small()``              32x32x3        1,543,178   AlexNet's recipe at CIFAR size
``small_inception()``            32x32x3          908,906   GoogLeNet's Inception modules
``vgg16()`` / ``vgg19()``        224x224x3    138,357,544   ``minicnn.applications`` (Keras's)
===============================  ============  ===========  ================================

``inception_naive(x, ...)`` and ``inception_module(x, ...)`` are GoogLeNet's
two Inception blocks as functions from a tensor to a tensor. ``MODELS`` maps
each name to its builder (the demos use it for ``--model``).
"""
from .. import layers, optimizers
from ..initializers import RandomNormal, TruncatedNormal
from ..sequential import Sequential
from ..regularizers import L2
from ..applications import VGG16, VGG19
from .classic import (alexnet, alexnet_small, inception_module, inception_naive,  # noqa: F401
                      small_inception)
from .keras_chapter import (conv1d_text_classifier, keras_mnist_functional, separable_classifier,
                            small_vgg)

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _head(logits):
    """The last layer's activation: softmax probabilities, or raw logits."""
    return None if logits else "softmax"


def keras_mnist_convnet(input_shape=(28, 28, 1), num_classes=10):
    """The Keras MNIST convnet (Sequential): three 3x3 convs 32-64-64 with max pooling,
    Dense 64, Dense 10: 93,322 parameters. The other Keras chapter writes its
    convnet with the functional API, 32-64-128 and no Dense(64):
    ``keras_mnist_functional()`` (see docs/source_networks.md).
    """
    return Sequential([
        layers.Input(input_shape),                              # (28, 28, 1)
        layers.Conv2D(32, 3, activation="relu"),                # (26, 26, 32)
        layers.MaxPooling2D(2),                                 # (13, 13, 32)
        layers.Conv2D(64, 3, activation="relu"),                # (11, 11, 64)
        layers.MaxPooling2D(2),                                 # (5, 5, 64)
        layers.Conv2D(64, 3, activation="relu"),                # (3, 3, 64)
        layers.Flatten(),                                       # (576,)
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="keras_mnist_convnet")


def lenet5(input_shape=(28, 28, 1), num_classes=10):
    """Classic LeNet-5 (LeCun et al. 1998) with ReLU and max pooling.

    LeNet-5 reads 32x32 images; MNIST digits are 28x28, so the first layer pads
    two rows and columns of zeros on each side, as the 1998 paper did to the
    digits (it centred them in a 32x32 field). Then: conv 6@5x5 (28x28) - pool
    (14x14) - conv 16@5x5 (10x10) - pool (5x5) - FC 120 - FC 84 - 10.
    The original's tanh/sigmoid units and average-pooling subsampling are
    replaced by ReLU and max pooling, as modern re-implementations do.
    """
    return Sequential([
        layers.Input(input_shape),                              # (28, 28, 1)
        layers.ZeroPadding2D(2),                                # (32, 32, 1)
        layers.Conv2D(6, 5, activation="relu"),                 # (28, 28, 6)
        layers.MaxPooling2D(2),                                 # (14, 14, 6)
        layers.Conv2D(16, 5, activation="relu"),                # (10, 10, 16)
        layers.MaxPooling2D(2),                                 # (5, 5, 16)
        layers.Flatten(),                                       # (400,)
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="lenet5")


def lenet5_tf(input_shape=(28, 28, 1), num_classes=10, use_bias=True, logits=False,
              kernel_initializer=None):
    """The TensorFlow chapter's "LeNet-5": three 3x3 'same' convs 32/64/128, Dense 625.

    Each conv is followed by ReLU, 2x2 max pooling with 'same' padding (28 -> 14
    -> 7 -> 4) and dropout keeping 80 % (rate 0.2); then flatten 4*4*128 = 2048,
    Dense 625 + ReLU, dropout keeping 50 %, Dense 10. Weights start N(0, 0.01)
    as in the chapter. The chapter's code has no biases: ``use_bias=False``
    reproduces it exactly (1,378,698 parameters). ``logits=True`` leaves out the
    softmax, for a ``from_logits=True`` loss.
    """
    init = kernel_initializer or RandomNormal(stddev=0.01)
    conv = dict(padding="same", activation="relu", use_bias=use_bias, kernel_initializer=init)
    return Sequential([
        layers.Input(input_shape),                              # (28, 28, 1)
        layers.Conv2D(32, 3, **conv),                           # (28, 28, 32)
        layers.MaxPooling2D(2, padding="same"),                 # (14, 14, 32)
        layers.Dropout(0.2),
        layers.Conv2D(64, 3, **conv),                           # (14, 14, 64)
        layers.MaxPooling2D(2, padding="same"),                 # (7, 7, 64)
        layers.Dropout(0.2),
        layers.Conv2D(128, 3, **conv),                          # (7, 7, 128)
        layers.MaxPooling2D(2, padding="same"),                 # (4, 4, 128)
        layers.Dropout(0.2),
        layers.Flatten(),                                       # (2048,)
        layers.Dense(625, activation="relu", use_bias=use_bias, kernel_initializer=init),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation=_head(logits), use_bias=use_bias,
                     kernel_initializer=init),
    ], name="lenet5_tf")


def mnist_deep_head(input_shape=(28, 28, 1), num_classes=10):
    """Two 5x5 'same' convs with pooling, then Dense 1024-256-50 with dropout 0.5."""
    return Sequential([
        layers.Input(input_shape),                              # (28, 28, 1)
        layers.Conv2D(32, 5, padding="same", activation="relu"),  # (28, 28, 32)
        layers.MaxPooling2D(2),                                 # (14, 14, 32)
        layers.Conv2D(64, 5, padding="same", activation="relu"),  # (14, 14, 64)
        layers.MaxPooling2D(2),                                 # (7, 7, 64)
        layers.Flatten(),                                       # (3136,)
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(50, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ], name="mnist_deep_head")


def emotion_net(input_shape=(48, 48, 1), num_classes=len(EMOTIONS), l2=0.005, logits=False):
    """The facial-expression CNN: 48x48 grayscale face -> 7 emotions.

    Conv 5x5x32 'same' + ReLU - max pool 2 - conv 3x3x64 'same' + ReLU - max
    pool 2 - flatten 12*12*64 - Dense 256 + ReLU - dropout 0.5 - Dense 7.
    Weights truncated normal with std 0.02, biases 0. The source adds
    ``1e-2 * tf.nn.l2_loss(v)`` for every weight and bias v; ``tf.nn.l2_loss``
    is ``sum(v^2) / 2``, so that is ``L2(0.005)`` here (Keras's L2 has no 1/2).
    ``logits=True`` leaves out the final softmax (the source's ``y_conv``).
    """
    def reg():
        return dict(kernel_initializer=TruncatedNormal(stddev=0.02), bias_initializer="zeros",
                    kernel_regularizer=L2(l2) if l2 else None,
                    bias_regularizer=L2(l2) if l2 else None)

    return Sequential([
        layers.Input(input_shape),                              # (48, 48, 1)
        layers.Conv2D(32, 5, padding="same", activation="relu", **reg()),  # (48, 48, 32)
        layers.MaxPooling2D(2),                                 # (24, 24, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu", **reg()),  # (24, 24, 64)
        layers.MaxPooling2D(2),                                 # (12, 12, 64)
        layers.Flatten(),                                       # (9216,)
        layers.Dense(256, activation="relu", **reg()),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation=_head(logits), **reg()),
    ], name="emotion_net")


def vgg16(input_shape=(224, 224, 3), classes=1000, include_top=True, pooling=None):
    """VGG16 with fresh weights (``minicnn.applications.VGG16``, Keras's layout)."""
    return VGG16(include_top=include_top, weights=None, input_shape=input_shape,
                 pooling=pooling, classes=classes)


def vgg19(input_shape=(224, 224, 3), classes=1000, include_top=True, pooling=None):
    """VGG19 with fresh weights (``minicnn.applications.VGG19``, Keras's layout)."""
    return VGG19(include_top=include_top, weights=None, input_shape=input_shape,
                 pooling=pooling, classes=classes)


MODELS = {
    "keras_mnist_convnet": keras_mnist_convnet,
    "keras_mnist_functional": keras_mnist_functional,
    "lenet5": lenet5,
    "lenet5_tf": lenet5_tf,
    "mnist_deep_head": mnist_deep_head,
    "emotion_net": emotion_net,
    "small_vgg": small_vgg,
    "separable_classifier": separable_classifier,
    "conv1d_text_classifier": conv1d_text_classifier,
    "alexnet": alexnet,
    "alexnet_small": alexnet_small,
    "small_inception": small_inception,
    "vgg16": vgg16,
    "vgg19": vgg19,
}

# How the source material trained each network: optimizer (as a config),
# loss on integer labels, batch size and epochs (the emotion net: 1001
# iterations of batch 128 on 3,761 images, about 34 epochs).
TRAINING = {
    "keras_mnist_convnet": dict(optimizer={"class_name": "RMSprop",
                                           "config": {"learning_rate": 1e-3}},
                                loss="sparse_categorical_crossentropy", batch_size=64, epochs=5),
    "lenet5": dict(optimizer={"class_name": "Adam", "config": {"learning_rate": 1e-3}},
                   loss="sparse_categorical_crossentropy", batch_size=128, epochs=10),
    "lenet5_tf": dict(optimizer={"class_name": "RMSprop",
                                 "config": {"learning_rate": 1e-3, "rho": 0.9}},
                      loss="sparse_categorical_crossentropy", batch_size=128, epochs=10),
    "mnist_deep_head": dict(optimizer={"class_name": "Adam", "config": {"learning_rate": 3e-3}},
                            loss="sparse_categorical_crossentropy", batch_size=500, epochs=10),
    "emotion_net": dict(optimizer={"class_name": "Adam", "config": {"learning_rate": 1e-3}},
                        loss="sparse_categorical_crossentropy", batch_size=128, epochs=34),
    "keras_mnist_functional": dict(optimizer={"class_name": "RMSprop",
                                              "config": {"learning_rate": 1e-3}},
                                   loss="sparse_categorical_crossentropy", batch_size=64,
                                   epochs=5),
    # the chapter: RMSprop(1e-4), 30 epochs of 100 batches of 20 images (no augmentation)
    "small_vgg": dict(optimizer={"class_name": "RMSprop", "config": {"learning_rate": 1e-4}},
                      loss="binary_crossentropy", batch_size=20, epochs=30),
    # the chapter compiles it (rmsprop, categorical cross-entropy) but trains it nowhere;
    # batch and epochs are the other Keras chapter's defaults
    "separable_classifier": dict(optimizer={"class_name": "RMSprop",
                                            "config": {"learning_rate": 1e-3}},
                                 loss="sparse_categorical_crossentropy", batch_size=32,
                                 epochs=10),
    # the chapter: RMSprop(1e-4), batch 128, 10 epochs, validation_split 0.2
    "conv1d_text_classifier": dict(optimizer={"class_name": "RMSprop",
                                              "config": {"learning_rate": 1e-4}},
                                   loss="binary_crossentropy", batch_size=128, epochs=10),
    # the papers' recipes (the chapters only describe these networks): SGD with
    # momentum 0.9 from a learning rate of 0.01, batch 128 (AlexNet, Inception) or
    # 256 (VGG); AlexNet trained 90 epochs, VGG 74
    "alexnet": dict(optimizer={"class_name": "SGD",
                               "config": {"learning_rate": 0.01, "momentum": 0.9}},
                    loss="sparse_categorical_crossentropy", batch_size=128, epochs=90),
    "alexnet_small": dict(optimizer={"class_name": "SGD",
                                     "config": {"learning_rate": 0.01, "momentum": 0.9}},
                          loss="sparse_categorical_crossentropy", batch_size=128, epochs=30),
    "small_inception": dict(optimizer={"class_name": "SGD",
                                       "config": {"learning_rate": 0.01, "momentum": 0.9}},
                            loss="sparse_categorical_crossentropy", batch_size=128, epochs=30),
    "vgg16": dict(optimizer={"class_name": "SGD",
                             "config": {"learning_rate": 0.01, "momentum": 0.9}},
                  loss="sparse_categorical_crossentropy", batch_size=256, epochs=74),
    "vgg19": dict(optimizer={"class_name": "SGD",
                             "config": {"learning_rate": 0.01, "momentum": 0.9}},
                  loss="sparse_categorical_crossentropy", batch_size=256, epochs=74),
}

MNIST_MODELS = ("keras_mnist_convnet", "lenet5", "lenet5_tf", "mnist_deep_head")


def build(name, **kwargs):
    """``MODELS[name](**kwargs)`` with an error listing the names when unknown."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**kwargs)


def compile_args(name):
    """``optimizer`` (a new instance) and ``loss`` for ``model.compile`` from ``TRAINING``."""
    if name not in TRAINING:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(TRAINING)}")
    recipe = TRAINING[name]
    return {"optimizer": optimizers.deserialize(recipe["optimizer"]), "loss": recipe["loss"]}
