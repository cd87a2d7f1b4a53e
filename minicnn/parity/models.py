"""Whole networks from docs/source_networks.md (``minicnn.zoo``) against their Keras twins.

The networks come from the model zoo; ``keras_twin`` writes the same stack
with ``keras.layers``, layer by layer, from each minicnn layer's settings.
Gradients are compared in inference mode (dropout is the identity); the
training-step comparison sets every dropout rate to 0 in both models, since
TensorFlow's random stream cannot be reproduced.
"""
from dataclasses import dataclass, field

import numpy as np

import minicnn
from minicnn import zoo

from .cases import draw_weights, keras_model
from .compare import compare


def _keras_regularizers(layer, keras):
    """The layer's kernel/bias regularizers as Keras objects (same class and factors)."""
    out = {}
    for key in ("kernel_regularizer", "bias_regularizer"):
        reg = getattr(layer, key, None)
        if reg is not None:
            out[key] = getattr(keras.regularizers, type(reg).__name__)(**reg.get_config())
    return out


def keras_layer_twins(layer, keras, dropout_scale=1.0):
    """The Keras layer(s) computing what the minicnn ``layer`` computes."""
    K, name = keras.layers, type(layer).__name__
    if name == "Conv2D":
        padding, pre = layer.padding, []
        if not isinstance(padding, str):    # Keras has no explicit conv padding
            pre, padding = [K.ZeroPadding2D(padding)], "valid"
        return pre + [K.Conv2D(layer.filters, layer.kernel_size, strides=layer.strides,
                               padding=padding, dilation_rate=layer.dilation_rate,
                               activation=layer.activation, use_bias=layer.use_bias,
                               **_keras_regularizers(layer, keras))]
    if name == "Dense":
        return [K.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias,
                        **_keras_regularizers(layer, keras))]
    if name in ("MaxPooling2D", "AveragePooling2D"):
        return [getattr(K, name)(layer.pool_size, strides=layer.strides, padding=layer.padding)]
    if name == "Dropout":
        return [K.Dropout(layer.rate * dropout_scale)]
    if name == "ZeroPadding2D":
        return [K.ZeroPadding2D(layer.padding)]
    if name == "Flatten":
        return [K.Flatten()]
    if name == "Activation":
        return [K.Activation(layer.activation)]
    if name == "BatchNormalization":
        return [K.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon,
                                     center=layer.center, scale=layer.scale)]
    raise ValueError(f"no Keras twin written for {name} '{layer.name}'")


def keras_twin(model, keras, dropout_scale=1.0):
    """A Keras Sequential with the same layers as the minicnn ``model``."""
    stack = [t for layer in model.layers for t in keras_layer_twins(layer, keras, dropout_scale)]
    return keras_model(stack, model.input_shape[1:], keras)


@dataclass
class ModelCase:
    name: str                # a builder of minicnn.zoo
    kwargs: dict = field(default_factory=dict)
    loss: str = "SparseCategoricalCrossentropy"
    loss_kwargs: dict = field(default_factory=dict)
    batch: int = 4

    @property
    def label(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"


# The networks of docs/source_networks.md (each comment names its section, shortened).
MODEL_CASES = [
    ModelCase("keras_mnist_convnet"),                                  # Keras MNIST convnet
    ModelCase("lenet5_tf", {"logits": True}, loss_kwargs={"from_logits": True}),   # TF LeNet-5
    ModelCase("lenet5", loss="CategoricalCrossentropy"),              # classic LeNet-5
    ModelCase("emotion_net", {"logits": True}, loss_kwargs={"from_logits": True},  # emotion net
              batch=2),
    ModelCase("mnist_deep_head", batch=2),                             # deep head
]

# The source networks train with RMSprop(1e-3) and Adam(1e-3) (docs/source_networks.md
# "Training settings"); SGD with momentum is the classic.
TRAIN_OPTIMIZERS = [("SGD", {"learning_rate": 0.01, "momentum": 0.9}),
                    ("RMSprop", {"learning_rate": 0.001}), ("Adam", {"learning_rate": 0.001})]


def _pair(case, reference, rng, dropout_scale):
    """The zoo network and its Keras twin, with the same random weights."""
    ours = zoo.build(case.name, **case.kwargs)
    for layer in ours.layers:
        if type(layer).__name__ == "Dropout":
            layer.rate *= dropout_scale
    theirs = keras_twin(ours, reference.keras)
    weights = [w for layer in ours.layers for w in draw_weights(layer, rng)]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _data(case, model, rng):
    x = rng.random((case.batch, *model.input_shape[1:])).astype(np.float32)   # images in [0, 1)
    classes = model.output_shape[-1]
    labels = rng.integers(0, classes, case.batch)
    onehot = case.loss == "CategoricalCrossentropy"
    return x, (np.eye(classes, dtype=np.float32)[labels] if onehot else labels)


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
    ours, theirs = _pair(case, reference, rng, dropout_scale=1.0)
    x, y = _data(case, ours, rng)
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


def run_model_training(case, optimizer, reference, seed=0, steps=3, eager=True):
    """Weights after ``steps`` ``train_on_batch`` calls on the same batch (dropout rate 0).

    ``eager``: on TensorFlow, run Keras's train step eagerly (fast to start);
    ``eager=False`` traces it into a graph as ``fit`` does, where Keras finds
    the softmax's logits through the graph op instead of ``_keras_logits``.
    On JAX Keras always compiles the step.
    """
    rng = np.random.default_rng(seed)
    ours, theirs = _pair(case, reference, rng, dropout_scale=0.0)
    x, y = _data(case, ours, rng)
    name, kwargs = optimizer
    keras = reference.keras
    ours.compile(optimizer=getattr(minicnn.optimizers, name)(**kwargs),
                 loss=getattr(minicnn.losses, case.loss)(**case.loss_kwargs))
    compile_args = {}
    if reference.device.startswith("tf"):
        compile_args = {"run_eagerly": True} if eager else {"jit_compile": False}
    theirs.compile(optimizer=getattr(keras.optimizers, name)(**kwargs),
                   loss=getattr(keras.losses, case.loss)(**case.loss_kwargs), **compile_args)
    for _ in range(steps):
        ours.train_on_batch(x, y)
    ref_weights = reference.train_on_batch(theirs, x, y, steps)
    names = [f"{layer.name}.{key}" for layer in ours.layers for key in layer.weight_keys()]
    return [compare(n, w, r, "grad", reference.device)
            for n, w, r in zip(names, ours.get_weights(), ref_weights)]
