"""The model zoo: the networks of the source material, ready to train.

Every builder returns a new, *uncompiled* ``Sequential`` that starts with an
``Input``, so ``model.summary()`` works at once and prints the same table as
the Keras model written the same way. Compile it yourself, or use the settings
the source material trained it with, kept as data in ``TRAINING``:

    from minicnn import zoo
    model = zoo.keras_mnist_convnet()
    model.compile(**zoo.compile_args("keras_mnist_convnet"), metrics=["accuracy"])
    model.fit(x, y, batch_size=zoo.TRAINING["keras_mnist_convnet"]["batch_size"])

============================  ============  ==========  ===================================
builder                       input         parameters  from
============================  ============  ==========  ===================================
``keras_mnist_convnet()``     28x28x1        93,322     Keras MNIST example (3rd conv 64)
``keras_mnist_convnet(128)``  28x28x1       167,114     the chapter's convs + Dense 64
``lenet5()``                  28x28x1        61,706     LeCun et al. 1998, ReLU + max pool
``lenet5_tf()``               28x28x1     1,379,557     the TensorFlow chapter's "LeNet-5"
``mnist_deep_head()``         28x28x1     3,540,144     5x5 convs + Dense 1024-256-50
``emotion_net()``             48x48x1     2,380,679     the facial-expression CNN
============================  ============  ==========  ===================================

``MODELS`` maps each name to its builder (the demos use it for ``--model``).
"""
from . import layers, optimizers
from .initializers import RandomNormal, TruncatedNormal
from .sequential import Sequential
from .regularizers import L2

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _head(logits):
    """The last layer's activation: softmax probabilities, or raw logits."""
    return None if logits else "softmax"


def keras_mnist_convnet(filters3=64, input_shape=(28, 28, 1), num_classes=10):
    """The Keras MNIST convnet: three 3x3 convs with max pooling, Dense 64, Dense 10.

    ``filters3`` is the width of the third convolution: 64 in the Keras example,
    128 in the Keras chapter's functional convnet (conv2d 320, conv2d_1 18,496,
    conv2d_2 73,856 parameters; flatten 1152). That network has no Dense(64):
    Flatten goes straight to Dense(10), 104,202 parameters in all (see
    docs/source_networks.md); this builder keeps the Dense(64) head.
    """
    return Sequential([
        layers.Input(input_shape),                              # (28, 28, 1)
        layers.Conv2D(32, 3, activation="relu"),                # (26, 26, 32)
        layers.MaxPooling2D(2),                                 # (13, 13, 32)
        layers.Conv2D(64, 3, activation="relu"),                # (11, 11, 64)
        layers.MaxPooling2D(2),                                 # (5, 5, 64)
        layers.Conv2D(filters3, 3, activation="relu"),          # (3, 3, filters3)
        layers.Flatten(),                                       # (9 * filters3,)
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


MODELS = {
    "keras_mnist_convnet": keras_mnist_convnet,
    "lenet5": lenet5,
    "lenet5_tf": lenet5_tf,
    "mnist_deep_head": mnist_deep_head,
    "emotion_net": emotion_net,
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
