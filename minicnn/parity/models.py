"""Whole networks from shared/SEEDS.md, built the same way in minicnn and Keras.

Each builder takes a layers module (``minicnn.layers`` or ``keras.layers``), a
regularizers module and a dropout rate, and returns the list of layers: the
two libraries share class and argument names, so one builder serves both.
Gradients are compared in inference mode (dropout is the identity); the
training-step comparison uses dropout rate 0, since TensorFlow's random
stream cannot be reproduced.
"""
from dataclasses import dataclass

import numpy as np

import minicnn

from .cases import draw_weights, keras_model
from .compare import compare


def keras_mnist_convnet(L, R, rate):
    """SEEDS.md network 1 (the 128-filter version's layout with 64 filters)."""
    return [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"), L.Flatten(),
            L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")]


def tf_chapter_lenet(L, R, rate):
    """SEEDS.md network 2: three 'same' 3x3 convs, 'same' pooling, dropout, Dense 625, logits."""
    stack = []
    for filters in (32, 64, 128):
        stack += [L.Conv2D(filters, 3, padding="same", activation="relu"),
                  L.MaxPooling2D(2, padding="same"), L.Dropout(0.2 * rate)]
    return stack + [L.Flatten(), L.Dense(625, activation="relu"), L.Dropout(0.5 * rate),
                    L.Dense(10)]


def classic_lenet5(L, R, rate):
    """LeCun 1998: conv 6@5x5 - pool - conv 16@5x5 - pool - 120 - 84 - 10 (tanh, average)."""
    return [L.Conv2D(6, 5, activation="tanh"), L.AveragePooling2D(2),
            L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2), L.Flatten(),
            L.Dense(120, activation="tanh"), L.Dense(84, activation="tanh"),
            L.Dense(10, activation="softmax")]


def emotion_net(L, R, rate):
    """SEEDS.md network 3; 1e-2 * tf.nn.l2_loss(w) is L2(0.005) on every weight and bias."""
    def reg():
        return {"kernel_regularizer": R.L2(0.005), "bias_regularizer": R.L2(0.005)}
    return [L.Conv2D(32, 5, padding="same", activation="relu", **reg()), L.MaxPooling2D(2),
            L.Conv2D(64, 3, padding="same", activation="relu", **reg()), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(256, activation="relu", **reg()), L.Dropout(0.5 * rate),
            L.Dense(7, **reg())]


@dataclass
class ModelCase:
    name: str
    build: object            # (layers, regularizers, dropout_scale) -> list of layers
    input_shape: tuple       # without the batch axis
    loss: str
    loss_kwargs: dict
    labels: str              # "sparse" or "onehot"
    classes: int
    batch: int = 4

    @property
    def label(self):
        return self.name


MODEL_CASES = [
    ModelCase("Keras MNIST convnet", keras_mnist_convnet, (28, 28, 1),
              "SparseCategoricalCrossentropy", {}, "sparse", 10),
    ModelCase("LeNet-5, TensorFlow chapter", tf_chapter_lenet, (28, 28, 1),
              "CategoricalCrossentropy", {"from_logits": True}, "onehot", 10),
    ModelCase("classic LeNet-5", classic_lenet5, (32, 32, 1),
              "CategoricalCrossentropy", {}, "onehot", 10),
    ModelCase("emotion net", emotion_net, (48, 48, 1),
              "SparseCategoricalCrossentropy", {"from_logits": True}, "sparse", 7, batch=2),
]

# SEEDS.md trains with RMSprop(1e-3) and Adam(1e-3); SGD with momentum is the classic.
TRAIN_OPTIMIZERS = [("SGD", {"learning_rate": 0.01, "momentum": 0.9}),
                    ("RMSprop", {"learning_rate": 0.001}), ("Adam", {"learning_rate": 0.001})]


def _pair(case, reference, rng, rate):
    """The minicnn and Keras versions of a network, with the same random weights."""
    keras = reference.keras
    ours = minicnn.Sequential([minicnn.layers.Input(case.input_shape)]
                              + case.build(minicnn.layers, minicnn.regularizers, rate))
    theirs = keras_model(case.build(keras.layers, keras.regularizers, rate), case.input_shape,
                         keras)
    weights = [w for layer in ours.layers for w in draw_weights(layer, rng)]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _data(case, rng):
    x = rng.random((case.batch, *case.input_shape)).astype(np.float32)   # images in [0, 1)
    labels = rng.integers(0, case.classes, case.batch)
    y = labels if case.labels == "sparse" else np.eye(case.classes, dtype=np.float32)[labels]
    return x, y


def _keras_logits(model, x, keras):
    """The last Dense layer's pre-activation output, computed layer by layer."""
    h = keras.ops.convert_to_tensor(x)
    for layer in model.layers[:-1]:
        h = layer(h, training=False)
    last = model.layers[-1]
    return keras.ops.convert_to_numpy(keras.ops.matmul(h, last.kernel) + last.bias)


def run_model_gradients(case, reference, seed=0):
    """Output, logits, loss and every weight gradient of one batch (inference mode)."""
    rng = np.random.default_rng(seed)
    ours, theirs = _pair(case, reference, rng, rate=1.0)
    x, y = _data(case, rng)
    keras, device = reference.keras, reference.device
    ours.compile(optimizer="sgd", loss=getattr(minicnn.losses, case.loss)(**case.loss_kwargs))
    out = ours.forward(x)
    logits = ours.layers[-1].logits if ours.layers[-1].activation == "softmax" else out
    with reference.placement():
        ref_out = keras.ops.convert_to_numpy(theirs(x, training=False))
        ref_logits = _keras_logits(theirs, x, keras)
    value, grads = ours.compute_gradients(x, y, training=False)
    ref_value, ref_grads = reference.model_loss_and_grads(
        theirs, getattr(keras.losses, case.loss)(**case.loss_kwargs), x, y, training=False)
    results = [compare("output", out, ref_out, "forward", device),
               compare("logits", logits, ref_logits, "forward", device),
               compare("loss", value, ref_value, "forward", device)]
    names = [f"{layer.name}.d{key}" for layer, key in ours._trainable_slots()]
    results += [compare(n, g, r, "grad", device) for n, g, r in zip(names, grads, ref_grads)]
    return results


def run_model_training(case, optimizer, reference, seed=0, steps=3):
    """Weights after ``steps`` ``train_on_batch`` calls on the same batch (dropout rate 0)."""
    rng = np.random.default_rng(seed)
    ours, theirs = _pair(case, reference, rng, rate=0.0)
    x, y = _data(case, rng)
    name, kwargs = optimizer
    keras = reference.keras
    ours.compile(optimizer=getattr(minicnn.optimizers, name)(**kwargs),
                 loss=getattr(minicnn.losses, case.loss)(**case.loss_kwargs))
    compile_args = {"jit_compile": False} if reference.device.startswith("tf") else {}
    theirs.compile(optimizer=getattr(keras.optimizers, name)(**kwargs),
                   loss=getattr(keras.losses, case.loss)(**case.loss_kwargs), **compile_args)
    for _ in range(steps):
        ours.train_on_batch(x, y)
    ref_weights = reference.train_on_batch(theirs, x, y, steps)
    names = [f"{layer.name}.{key}" for layer in ours.layers for key in layer.weight_keys()]
    return [compare(n, w, r, "grad", reference.device)
            for n, w, r in zip(names, ours.get_weights(), ref_weights)]
