"""The Keras chapter's other networks: the functional MNIST convnet, the small
VGG-style cats-vs-dogs convnet, the separable-convolution classifier and the
Conv1D text classifier, each layer for layer as the chapter writes it."""
from .. import layers
from ..model import Model
from ..sequential import Sequential


def keras_mnist_functional(input_shape=(28, 28, 1), num_classes=10):
    """The Keras chapter's MNIST convnet, written with the functional API as the
    chapter writes it: Conv2D 32-64-128 (3x3, ReLU) with 2x2 max pooling between,
    Flatten, Dense(10, softmax). No Dense(64): 104,202 parameters (conv2d 320,
    conv2d_1 18,496, conv2d_2 73,856, dense 11,530)."""
    inputs = layers.Input(shape=input_shape)                                # (28, 28, 1)
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)  # (26, 26, 32)
    x = layers.MaxPooling2D(pool_size=2)(x)                                  # (13, 13, 32)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)      # (11, 11, 64)
    x = layers.MaxPooling2D(pool_size=2)(x)                                  # (5, 5, 64)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)     # (3, 3, 128)
    x = layers.Flatten()(x)                                                  # (1152,)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs, name="keras_mnist_functional")


def small_vgg(input_shape=(150, 150, 3), classes=1):
    """The chapter's small VGG-style convnet for cats vs dogs: four blocks of a 3x3
    convolution and 2x2 max pooling (32-64-128-128 filters), dropout 0.5, Dense 512,
    and a sigmoid unit. 3,453,121 parameters at 150x150x3. ``classes > 1`` ends in
    a softmax layer instead."""
    head = layers.Dense(1, activation="sigmoid") if classes == 1 else \
        layers.Dense(classes, activation="softmax")
    return Sequential([
        layers.Input(input_shape),                                         # (150, 150, 3)
        layers.Conv2D(32, 3, activation="relu"),                           # (148, 148, 32)
        layers.MaxPooling2D(2),                                            # (74, 74, 32)
        layers.Conv2D(64, 3, activation="relu"),                           # (72, 72, 64)
        layers.MaxPooling2D(2),                                            # (36, 36, 64)
        layers.Conv2D(128, 3, activation="relu"),                          # (34, 34, 128)
        layers.MaxPooling2D(2),                                            # (17, 17, 128)
        layers.Conv2D(128, 3, activation="relu"),                          # (15, 15, 128)
        layers.MaxPooling2D(2),                                            # (7, 7, 128)
        layers.Flatten(),                                                  # (6272,)
        layers.Dropout(0.5),
        layers.Dense(512, activation="relu"),
        head,
    ], name="small_vgg")


def separable_classifier(input_shape=(64, 64, 3), num_classes=10):
    """The chapter's image classifier built from depthwise-separable convolutions:
    SeparableConv2D 32-64 | pool | 64-128 | pool | 64-128, global average pooling,
    Dense 32, softmax. 38,949 parameters at 64x64x3 and 10 classes."""
    return Sequential([
        layers.Input(input_shape),                                         # (64, 64, 3)
        layers.SeparableConv2D(32, 3, activation="relu"),                  # (62, 62, 32)
        layers.SeparableConv2D(64, 3, activation="relu"),                  # (60, 60, 64)
        layers.MaxPooling2D(2),                                            # (30, 30, 64)
        layers.SeparableConv2D(64, 3, activation="relu"),                  # (28, 28, 64)
        layers.SeparableConv2D(128, 3, activation="relu"),                 # (26, 26, 128)
        layers.MaxPooling2D(2),                                            # (13, 13, 128)
        layers.SeparableConv2D(64, 3, activation="relu"),                  # (11, 11, 64)
        layers.SeparableConv2D(128, 3, activation="relu"),                 # (9, 9, 128)
        layers.GlobalAveragePooling2D(),                                   # (128,)
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="separable_classifier")


def conv1d_text_classifier(max_features=10000, max_len=500, embedding_dim=128):
    """The chapter's 1-D convnet for IMDB reviews: Embedding(10000, 128) - Conv1D 32@7 -
    MaxPooling1D(5) - Conv1D 32@7 - GlobalMaxPooling1D - Dense(1). The chapter's last
    Dense has no activation while its loss is binary cross-entropy on
    probabilities; this builder gives it the sigmoid that loss expects.
    1,315,937 parameters with the defaults. Input: (batch, max_len) integer word ids."""
    return Sequential([
        layers.Input((max_len,), dtype="int32"),                           # (500,) word ids
        layers.Embedding(max_features, embedding_dim),                     # (500, 128)
        layers.Conv1D(32, 7, activation="relu"),                           # (494, 32)
        layers.MaxPooling1D(5),                                            # (98, 32)
        layers.Conv1D(32, 7, activation="relu"),                           # (92, 32)
        layers.GlobalMaxPooling1D(),                                       # (32,)
        layers.Dense(1, activation="sigmoid"),
    ], name="conv1d_text_classifier")
