"""The zoo's graph builders against Keras: whole-model predictions and gradients.

Each builder is built at a small input size, turned into a Keras model with
``minicnn.to_keras`` (the same layers, the same weights), and both get the
same batch: the outputs, the loss and every trained weight's gradient are
compared in inference mode (dropout is the identity there). What is compared
is the arithmetic of the two libraries on one architecture; the converter
only copies settings and arrays.
"""
from dataclasses import dataclass, field

import numpy as np

import minicnn
from minicnn import zoo

from .compare import compare


@dataclass
class BuilderCase:
    name: str                      # a key of zoo.MODELS
    kwargs: dict = field(default_factory=dict)
    batch: int = 2
    loss: str = "sparse_categorical_crossentropy"

    @property
    def label(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"zoo.{self.name}({args})"


BUILDER_CASES = [
    BuilderCase("keras_mnist_functional"),
    BuilderCase("alexnet", {"input_shape": (67, 67, 3), "classes": 10}),
    BuilderCase("alexnet_small"),
    BuilderCase("small_inception", {"input_shape": (16, 16, 3)}),
    BuilderCase("vgg16", {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"},
                loss="mean_squared_error"),
    BuilderCase("vgg19", {"input_shape": (32, 32, 3), "classes": 5}, batch=2),
    BuilderCase("small_vgg", {"input_shape": (64, 64, 3)}, loss="binary_crossentropy"),
    BuilderCase("separable_classifier", {"input_shape": (32, 32, 3)}),
    BuilderCase("conv1d_text_classifier", {"max_features": 300, "max_len": 60},
                batch=3, loss="binary_crossentropy"),
]

_KERAS_LOSSES = {"sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                 "binary_crossentropy": "BinaryCrossentropy",
                 "mean_squared_error": "MeanSquaredError"}


def _data(model, case, rng):
    """A batch of inputs and targets that fit the model."""
    shape, dtype = model.input_shape[1:], model.inputs[0].dtype
    if dtype.kind in "iu":
        x = rng.integers(0, case.kwargs.get("max_features", 10), (case.batch, *shape))
        x = x.astype(dtype)
    else:
        x = rng.random((case.batch, *shape), dtype=np.float32)
    width = model.output_shape[-1]
    if case.loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, width, case.batch)
    elif case.loss == "binary_crossentropy":
        y = rng.integers(0, 2, (case.batch, width)).astype(np.float32)
    else:
        y = rng.standard_normal((case.batch, width)).astype(np.float32)
    return x, y


def _scale_weights(model, rng):
    """Fresh weights scaled so that activations neither vanish nor saturate over many
    layers (He-like for kernels, small biases), the same arrays in both models."""
    weights = []
    for w in model.get_weights():
        if w.ndim >= 2:
            fan_in = int(np.prod(w.shape[:-1]))
            weights.append((rng.standard_normal(w.shape) * np.sqrt(2.0 / fan_in)).astype(w.dtype))
        else:
            weights.append((0.05 * rng.standard_normal(w.shape)).astype(w.dtype))
    model.set_weights(weights)


def run_builder_case(case, reference, seed=0):
    """Output, loss and every weight gradient of one batch against the Keras twin."""
    rng = np.random.default_rng(seed)
    minicnn.clear_session()
    ours = zoo.MODELS[case.name](**case.kwargs)
    _scale_weights(ours, rng)
    x, y = _data(ours, case, rng)
    keras, device = reference.keras, reference.device
    with reference.placement():
        theirs = minicnn.to_keras(ours)
        ref_out = keras.ops.convert_to_numpy(theirs(x, training=False))
    ours.compile(optimizer="sgd", loss=case.loss)
    out = ours.predict(x, verbose=0)
    value, grads = ours.compute_gradients(x, y, training=False)
    ref_value, ref_grads = reference.model_loss_and_grads(
        theirs, getattr(keras.losses, _KERAS_LOSSES[case.loss])(), x, y, training=False)
    results = [compare("output", out, ref_out, "forward", device),
               compare("loss", value, ref_value, "forward", device)]
    names = [f"{layer.name}.d{key}" for layer, key in ours._trainable_slots()]
    if len(grads) != len(ref_grads):
        raise AssertionError(f"{case.label}: {len(grads)} gradients here, "
                             f"{len(ref_grads)} in Keras")
    results += [compare(n, g, r, "grad", device) for n, g, r in zip(names, grads, ref_grads)]
    return results
