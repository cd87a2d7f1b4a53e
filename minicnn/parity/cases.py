"""The parity grid: which layers, losses, optimizers and models are compared.

A case is built twice, once with ``minicnn.layers`` and once with
``keras.layers`` (the class and argument names are the same), the weights are
copied across with ``set_weights``, both get the same random input and the
same random upstream gradient, and every result is compared with
``compare.compare``. Each ``run_*`` function returns a list of ``Comparison``.
"""
from dataclasses import dataclass

import numpy as np

import minicnn
from minicnn import layers as L
from minicnn.layers.base import normalize_padding

from .compare import compare

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


# -- layers ---------------------------------------------------------------------
@dataclass
class LayerCase:
    """One layer configuration; ``input_shape`` includes the batch size."""
    layer: str                     # class name, the same in minicnn.layers and keras.layers
    kwargs: dict
    input_shape: tuple
    training: bool = False
    data: str = "normal"           # "normal", "distinct" (no ties) or "kinks" (see below)
    kinks: tuple = ()              # input values to keep 0.05 away from (ReLU thresholds)
    exact: tuple = ()              # which of "output", "dx" must match bit for bit
    grad_kind: str = "grad"        # tolerance kind of dx and the weight gradients

    @property
    def label(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        mode = ", training" if self.training else ""
        return f"{self.layer}({args}) on {'x'.join(map(str, self.input_shape))}{mode}"


def _conv(kernel_size=3, strides=1, padding="valid", dilation_rate=1, use_bias=True,
          channels=3, batch=2, activation=None, hw=(9, 9), filters=4):
    kwargs = {"filters": filters, "kernel_size": kernel_size}
    for key, value, default in (("strides", strides, 1), ("padding", padding, "valid"),
                                ("dilation_rate", dilation_rate, 1), ("use_bias", use_bias, True),
                                ("activation", activation, None)):
        if value != default:
            kwargs[key] = value
    return LayerCase("Conv2D", kwargs, (batch, *hw, channels))


CONV_CASES = [
    # kernel sizes, the AlexNet stem included
    _conv(1), _conv(3), _conv(5), _conv((2, 3)), _conv(11, strides=4, hw=(27, 27)),
    # strides
    _conv(3, strides=2), _conv(3, strides=3), _conv(3, strides=(2, 1)),
    # padding: "same" with odd and even kernels (TF pads bottom/right more), explicit
    _conv(3, padding="same"), _conv(4, padding="same"), _conv(2, padding="same", hw=(7, 8)),
    _conv(3, strides=2, padding="same", hw=(8, 8)), _conv((2, 3), strides=2, padding="same"),
    _conv(5, strides=3, padding="same", hw=(10, 11)),
    _conv(3, padding=1), _conv(3, strides=2, padding=((1, 0), (2, 1))),
    # dilation (never with strides > 1, as Keras)
    _conv(3, dilation_rate=2), _conv(3, dilation_rate=(2, 1), padding="same"),
    # bias, channels, batch size
    _conv(3, use_bias=False), _conv(3, channels=1), _conv(3, channels=32, filters=8),
    _conv(3, batch=1), _conv(3, batch=4),
    # the smallest cases: a 1x1 image, and a kernel as large as the image
    _conv(1, hw=(1, 1), channels=1, filters=1), _conv(3, padding="same", hw=(1, 1)),
    _conv(5, hw=(5, 5)),
] + [_conv(3, activation=a, padding="same") for a in ACTIVATIONS]

_POOL_GEOMETRIES = [
    # (pool_size, strides, padding, (H, W))
    (2, None, "valid", (8, 8)), (2, None, "valid", (7, 9)), (2, None, "same", (7, 7)),
    (3, 2, "valid", (9, 9)), (3, 2, "same", (8, 7)),
    (3, 3, "valid", (9, 9)), (3, 3, "same", (7, 8)),
    ((2, 3), None, "valid", (8, 9)), ((3, 2), (1, 2), "same", (7, 7)),
]


def _pool(cls, pool_size, strides, padding, hw):
    kwargs = {"pool_size": pool_size}
    if strides is not None:
        kwargs["strides"] = strides
    if padding != "valid":
        kwargs["padding"] = padding
    if cls == "MaxPooling2D":   # no ties, so "the first maximum" never matters; output exact
        return LayerCase(cls, kwargs, (2, *hw, 3), data="distinct", exact=("output",))
    return LayerCase(cls, kwargs, (2, *hw, 3))


POOL_CASES = [_pool(cls, *g) for cls in ("MaxPooling2D", "AveragePooling2D")
              for g in _POOL_GEOMETRIES]

DENSE_MISC_CASES = [
    LayerCase("Dense", {"units": 5}, (4, 7)),
    LayerCase("Dense", {"units": 3, "use_bias": False}, (1, 12)),
    LayerCase("Dense", {"units": 6}, (2, 3, 4, 5)),        # acts on the last axis
    LayerCase("Dense", {"units": 64}, (4, 300)),
] + [LayerCase("Dense", {"units": 5, "activation": a}, (4, 7)) for a in ACTIVATIONS] + [
    LayerCase("Flatten", {}, (3, 4, 5, 2), exact=("output", "dx")),
    LayerCase("Dropout", {"rate": 0.5}, (4, 3, 3, 2), exact=("output", "dx")),  # inference
    LayerCase("ZeroPadding2D", {"padding": 1}, (2, 5, 6, 3), exact=("output", "dx")),
    LayerCase("ZeroPadding2D", {"padding": (2, 1)}, (2, 5, 6, 3), exact=("output", "dx")),
    LayerCase("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}, (2, 5, 6, 3),
              exact=("output", "dx")),
]

ACTIVATION_CASES = [
    LayerCase("Activation", {"activation": a}, (3, 4, 5, 6),
              **({"data": "kinks", "kinks": (0.0,), "exact": ("output", "dx")}
                 if a == "relu" else {}))
    for a in ACTIVATIONS
] + [
    LayerCase("ReLU", {}, (3, 4, 5, 6), data="kinks", kinks=(0.0,), exact=("output", "dx")),
    LayerCase("ReLU", {"max_value": 1.0}, (3, 4, 5, 6), data="kinks", kinks=(0.0, 1.0),
              exact=("output", "dx")),
    LayerCase("ReLU", {"negative_slope": 0.1, "threshold": 0.5}, (3, 20), data="kinks",
              kinks=(0.5,)),
    LayerCase("ReLU", {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.25}, (3, 20),
              data="kinks", kinks=(0.25, 2.0)),
    LayerCase("Softmax", {}, (4, 10)),
    LayerCase("Softmax", {}, (2, 3, 3, 7)),
]

BATCHNORM_CASES = [
    LayerCase("BatchNormalization", kwargs, shape, training=training, grad_kind="batchnorm")
    for kwargs, shape in (({}, (4, 5, 6, 3)), ({}, (8, 10)),
                          ({"momentum": 0.9, "epsilon": 1e-5}, (2, 3, 3, 4)),
                          ({"center": False}, (4, 3, 3, 2)), ({"scale": False}, (4, 3, 3, 2)),
                          ({"trainable": False}, (4, 3, 3, 2)))   # frozen: inference behaviour
    for training in (True, False)
]

LAYER_CASES = {"conv": CONV_CASES, "pooling": POOL_CASES, "dense_misc": DENSE_MISC_CASES,
               "activation": ACTIVATION_CASES, "batchnorm": BATCHNORM_CASES}


def minicnn_layer(case):
    """The minicnn layer of a case, built for its input shape, float32."""
    layer = getattr(L, case.layer)(**case.kwargs, dtype="float32")
    layer.build((None, *case.input_shape[1:]))
    return layer


def keras_layers(case, keras):
    """The Keras layers of a case: explicit conv padding becomes ZeroPadding2D + 'valid'."""
    kwargs = dict(case.kwargs)
    padding = kwargs.get("padding")
    if case.layer == "Conv2D" and padding is not None and not isinstance(padding, str):
        pads = normalize_padding(padding, "Conv2D")
        kwargs["padding"] = "valid"
        return [keras.layers.ZeroPadding2D(pads), keras.layers.Conv2D(**kwargs)]
    return [getattr(keras.layers, case.layer)(**kwargs)]


def keras_model(layer_list, input_shape, keras):
    """A Keras Sequential over ``layer_list`` for inputs of ``input_shape`` (no batch axis)."""
    return keras.Sequential([keras.Input(tuple(input_shape))] + list(layer_list))


def draw_weights(layer, rng):
    """Random weights for every ``get_weights`` slot of a minicnn layer, by slot name."""
    weights = []
    for key, value in zip(layer.weight_keys(), layer.get_weights()):
        shape = value.shape
        if key == "kernel":
            w = rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))
        elif key == "gamma":
            w = 1 + 0.2 * rng.standard_normal(shape)
        elif key == "moving_variance":
            w = rng.uniform(0.5, 2.0, shape)
        else:    # bias, beta, moving_mean: nonzero, so they are really tested
            w = 0.2 * rng.standard_normal(shape)
        weights.append(w.astype(np.float32))
    return weights


def draw_input(case, rng):
    shape = case.input_shape
    if case.data == "distinct":   # a permutation of evenly spaced values: no ties
        n = int(np.prod(shape))
        return (rng.permutation(n) * (4.0 / n) - 2.0).reshape(shape).astype(np.float32)
    x = rng.standard_normal(shape)
    for kink in case.kinks:       # keep ReLU-like inputs 0.05 away from their kinks
        near = np.abs(x - kink) < 0.05
        x[near] = kink + np.where(x[near] >= kink, 0.05, -0.05) + 0.1 * (x[near] - kink)
    return x.astype(np.float32)


def run_layer_case(case, reference, seed=0):
    """Output, dx, every weight gradient (and moving statistics) against Keras."""
    rng = np.random.default_rng(seed)
    ours = minicnn_layer(case)
    theirs = keras_model(keras_layers(case, reference.keras), case.input_shape[1:],
                         reference.keras)
    weights = draw_weights(ours, rng)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = draw_input(case, rng)
    dy = rng.standard_normal(ours.compute_output_shape(x.shape)).astype(np.float32)

    ref = reference.layer_vjp(theirs, x, dy, case.training)
    y = ours.forward(x.copy(), training=case.training)
    dx = ours.backward(dy.copy())
    device = reference.device
    results = [compare("output", y, ref["output"],
                       "exact" if "output" in case.exact else "forward", device),
               compare("dx", dx, ref["dx"], "exact" if "dx" in case.exact else case.grad_kind,
                       device)]
    for key, grad in zip(ours.params, ref["grads"]):
        results.append(compare(f"d{key}", ours.grads[key], grad, case.grad_kind, device))
    if case.training:   # every weight after the call (batch norm: the moving statistics)
        for key, mine, theirs_w in zip(ours.weight_keys(), ours.get_weights(), ref["weights"]):
            results.append(compare(key, mine, theirs_w, "forward", device))
    return results


DROPOUT_CASES = [LayerCase("Dropout", {"rate": r, "seed": 3}, shape, training=True,
                           exact=("output", "dx"))
                 for r, shape in ((0.2, (4, 6, 6, 3)), (0.5, (8, 30)), (0.7, (2, 5, 5, 4)))]


def run_dropout_case(case, reference, seed=0):
    """Keras drops at random; its kept units become minicnn's injected mask."""
    rng = np.random.default_rng(seed)
    ours = minicnn_layer(case)
    theirs = keras_model(keras_layers(case, reference.keras), case.input_shape[1:],
                         reference.keras)
    x = np.abs(rng.standard_normal(case.input_shape)).astype(np.float32) + 0.1   # no zeros
    dy = rng.standard_normal(x.shape).astype(np.float32)
    ref = reference.layer_vjp(theirs, x, dy, training=True)
    keep = ref["output"] != 0
    y = ours.forward(x, training=True, mask=keep)
    dx = ours.backward(dy)
    # TensorFlow (and minicnn) multiply by the float32 constant 1 / (1 - rate): bit-identical.
    # Keras on JAX divides by 1 - rate instead, which can differ in the last bit.
    kind = "exact" if reference.device.startswith("tf") else "forward"
    return [compare("output", y, ref["output"], kind, reference.device),
            compare("dx", dx, ref["dx"], kind, reference.device)]


# -- losses and regularizers ---------------------------------------------------------
@dataclass
class LossCase:
    loss: str                       # class name in minicnn.losses and keras.losses
    kwargs: dict
    targets: str                    # "onehot", "sparse", "binary" or "real"
    prediction: str                 # "softmax", "sigmoid" or "raw" (logits / real values)
    fused: bool = False             # minicnn gets the logits behind the softmax/sigmoid
    scale: float = 2.0              # logit scale; 25 pushes probabilities past the clip
    tf_only: str = ""               # why Keras on JAX computes something else (then skipped)
    shape: tuple = (6, 5)

    @property
    def label(self):
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
        how = "fused on logits" if self.fused else f"on {self.prediction}"
        return f"{self.loss}({args}) {how}, logit scale {self.scale:g}"


# Keras on TensorFlow attaches the logits to a softmax/sigmoid output
# (``_keras_logits``, also in eager mode) and computes the loss from them, as
# minicnn does; Keras on JAX cannot set attributes on a jax.Array and computes
# the loss from the clipped probabilities, which differ once they pass the clip.
NO_LOGITS_ON_JAX = ("Keras on JAX cannot attach _keras_logits to an array; it computes "
                    "the loss from clipped probabilities")
# A float32 sigmoid can land exactly on the clip bound 1 - 1e-7. There
# tf.clip_by_value passes the whole gradient (as minicnn does), while jnp.clip
# (a max/min pair) passes half of it.
CLIP_TIE_ON_JAX = ("at a probability exactly on the clip bound jnp.clip passes half the "
                   "gradient, tf.clip_by_value (and minicnn) all of it")

LOSS_CASES = [
    LossCase("CategoricalCrossentropy", {}, "onehot", "softmax"),
    LossCase("CategoricalCrossentropy", {}, "onehot", "softmax", scale=25.0,   # clipped
             tf_only=CLIP_TIE_ON_JAX),
    LossCase("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot", "softmax"),
    LossCase("CategoricalCrossentropy", {"from_logits": True}, "onehot", "raw"),
    LossCase("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
             "onehot", "raw"),
    LossCase("CategoricalCrossentropy", {}, "onehot", "softmax", fused=True),
    LossCase("CategoricalCrossentropy", {}, "onehot", "softmax", fused=True, scale=25.0,
             tf_only=NO_LOGITS_ON_JAX),
    LossCase("SparseCategoricalCrossentropy", {}, "sparse", "softmax"),
    LossCase("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse", "raw"),
    LossCase("SparseCategoricalCrossentropy", {}, "sparse", "softmax", fused=True),
    LossCase("SparseCategoricalCrossentropy", {}, "sparse", "softmax", fused=True,
             scale=25.0, tf_only=NO_LOGITS_ON_JAX),
    LossCase("BinaryCrossentropy", {}, "binary", "sigmoid"),
    LossCase("BinaryCrossentropy", {}, "binary", "sigmoid", scale=25.0,        # clipped
             tf_only=CLIP_TIE_ON_JAX),
    LossCase("BinaryCrossentropy", {"from_logits": True}, "binary", "raw"),
    LossCase("BinaryCrossentropy", {}, "binary", "sigmoid", fused=True),
    LossCase("BinaryCrossentropy", {}, "binary", "sigmoid", fused=True, scale=25.0,
             tf_only=NO_LOGITS_ON_JAX),
    LossCase("MeanSquaredError", {}, "real", "raw"),
    LossCase("MeanSquaredError", {}, "real", "raw", shape=(3, 4, 4, 2)),
]


def _targets(kind, shape, rng):
    n, k = shape[0], shape[-1]
    if kind == "sparse":
        return rng.integers(0, k, n).astype(np.int64)
    if kind == "onehot":
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    if kind == "binary":
        return (rng.random(shape) > 0.5).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def run_loss_case(case, reference, seed=0):
    """Loss value and its gradient (w.r.t. the prediction, or the logits when fused)."""
    keras = reference.keras
    rng = np.random.default_rng(seed)
    z = (case.scale * rng.standard_normal(case.shape)).astype(np.float32)
    t = _targets(case.targets, case.shape, rng)
    activate = {"softmax": minicnn.activations.softmax,
                "sigmoid": minicnn.activations.sigmoid, "raw": lambda v: v}[case.prediction]
    ours = getattr(minicnn.losses, case.loss)(**case.kwargs)
    theirs = getattr(keras.losses, case.loss)(**case.kwargs)
    if case.fused:
        value, grad, wrt_logits = ours.value_and_gradient(t, activate(z), logits=z)
        keras_activation = getattr(keras.activations, case.prediction)
        ref_value, ref_grad = reference.value_and_grad(
            lambda zz: theirs(t, keras_activation(zz)), z)
        assert wrt_logits, "the fused path must return the gradient w.r.t. the logits"
    else:
        value, grad, _ = ours.value_and_gradient(t, activate(z))
        ref_value, ref_grad = reference.value_and_grad(lambda p: theirs(t, p), activate(z))
    device = reference.device
    return [compare("value", value, ref_value, "forward", device),
            compare("dlogits" if case.fused else "dpred", grad, ref_grad, "grad", device)]


REGULARIZER_CASES = [("L1", {"l1": 0.01}), ("L2", {"l2": 0.01}),
                     ("L1L2", {"l1": 0.01, "l2": 0.02}), ("L2", {"l2": 0.005})]


def run_regularizer_case(case, reference, seed=0):
    """Penalty and its gradient on a conv-kernel-shaped weight (kept away from 0)."""
    name, kwargs = case
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 3, 2, 4))
    w = (np.sign(w) * (np.abs(w) + 0.05)).astype(np.float32)   # |w| > 0.05: no L1 kink
    ours = getattr(minicnn.regularizers, name)(**kwargs)
    ref_value, ref_grad = reference.value_and_grad(
        getattr(reference.keras.regularizers, name)(**kwargs), w)
    device = reference.device
    return [compare("value", ours(w), ref_value, "forward", device),
            compare("dw", ours.gradient(w), ref_grad, "grad", device)]


# -- optimizers -------------------------------------------------------------------
OPTIMIZER_CASES = [
    ("SGD", {"learning_rate": 0.1}), ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("Adam", {}), ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adagrad", {}), ("Adadelta", {"learning_rate": 1.0}), ("Adamax", {}), ("Nadam", {}),
]
OPTIMIZER_SHAPES = [(3, 3, 2, 4), (4,), (50, 10), (10,)]   # conv kernel/bias, dense kernel/bias


def run_optimizer_case(case, reference, seed=0, steps=5):
    """``steps`` updates from the same weights and gradients; compare the weights."""
    name, kwargs = case
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype(np.float32) for s in OPTIMIZER_SHAPES]
    grad_steps = [[rng.standard_normal(s).astype(np.float32) for s in OPTIMIZER_SHAPES]
                  for _ in range(steps)]
    ours = [w.copy() for w in weights]
    optimizer = getattr(minicnn.optimizers, name)(**kwargs)
    for grads in grad_steps:
        optimizer.apply(grads, ours)
    theirs = reference.apply_optimizer(getattr(reference.keras.optimizers, name)(**kwargs),
                                       weights, grad_steps)
    return [compare(f"w{i} {w.shape}", a, b, "optimizer", reference.device)
            for i, (w, a, b) in enumerate(zip(weights, ours, theirs))]


# -- merging, reshaping, global pooling, advanced activations -------------------------
# The merge layers take several inputs: their cases and runner are in cases_merge.py.
from .cases_merge import MERGE_CASES  # noqa: E402

NEW_ACTIVATIONS = ("elu", "selu", "gelu", "swish", "silu", "softplus", "softsign",
                   "leaky_relu", "hard_sigmoid", "exponential")
_MOVE = ("output", "dx")       # pure data movers: bit for bit

RESHAPING_CASES = [
    LayerCase("Reshape", {"target_shape": (-1, 6)}, (2, 3, 4, 6), exact=_MOVE),
    LayerCase("Reshape", {"target_shape": (4, 3, 6)}, (2, 3, 4, 6), exact=_MOVE),
    LayerCase("Reshape", {"target_shape": (2, -1)}, (3, 10), exact=_MOVE),
    LayerCase("Permute", {"dims": (2, 1)}, (2, 5, 7), exact=_MOVE),
    LayerCase("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5), exact=_MOVE),
    LayerCase("Cropping2D", {"cropping": 1}, (2, 7, 8, 3), exact=_MOVE),
    LayerCase("Cropping2D", {"cropping": (2, 1)}, (2, 7, 8, 3), exact=_MOVE),
    LayerCase("Cropping2D", {"cropping": ((1, 2), (0, 3))}, (2, 7, 8, 3), exact=_MOVE),
    LayerCase("UpSampling2D", {}, (2, 4, 5, 3), exact=("output",)),
    LayerCase("UpSampling2D", {"size": (3, 2)}, (2, 3, 4, 2), exact=("output",)),
    LayerCase("UpSampling2D", {"interpolation": "bilinear"}, (2, 5, 6, 3)),
    LayerCase("UpSampling2D", {"size": (3, 2), "interpolation": "bilinear"}, (2, 4, 5, 2)),
    LayerCase("UpSampling2D", {"size": (1, 3), "interpolation": "bilinear"}, (1, 3, 7, 2)),
    LayerCase("UpSampling2D", {"size": 4, "interpolation": "bilinear"}, (2, 1, 2, 3)),
]

GLOBAL_POOLING_CASES = [
    LayerCase("GlobalAveragePooling2D", {}, (2, 5, 6, 3)),
    LayerCase("GlobalAveragePooling2D", {"keepdims": True}, (3, 4, 4, 2)),
    LayerCase("GlobalMaxPooling2D", {}, (2, 5, 6, 3), data="distinct", exact=_MOVE),
    LayerCase("GlobalMaxPooling2D", {"keepdims": True}, (3, 4, 4, 2), data="distinct",
              exact=_MOVE),
    LayerCase("GlobalAveragePooling1D", {}, (3, 7, 4)),
    LayerCase("GlobalAveragePooling1D", {"keepdims": True}, (2, 5, 3)),
    LayerCase("GlobalMaxPooling1D", {}, (3, 7, 4), data="distinct", exact=_MOVE),
    LayerCase("GlobalMaxPooling1D", {"keepdims": True}, (2, 5, 3), data="distinct",
              exact=_MOVE),
]

ADVANCED_ACTIVATION_CASES = [
    LayerCase("LeakyReLU", {}, (3, 4, 5, 6), data="kinks", kinks=(0.0,), exact=_MOVE),
    LayerCase("LeakyReLU", {"negative_slope": 0.1}, (4, 20), data="kinks", kinks=(0.0,),
              exact=_MOVE),
    LayerCase("ELU", {}, (3, 4, 5, 6), data="kinks", kinks=(0.0,)),
    LayerCase("ELU", {"alpha": 0.5}, (4, 20), data="kinks", kinks=(0.0,)),
    LayerCase("PReLU", {}, (3, 12), data="kinks", kinks=(0.0,)),
    LayerCase("PReLU", {"shared_axes": [1, 2]}, (2, 4, 5, 3), data="kinks", kinks=(0.0,)),
    LayerCase("PReLU", {"shared_axes": 1}, (2, 4, 5, 3), data="kinks", kinks=(0.0,)),
] + [
    LayerCase("Activation", {"activation": a}, (3, 4, 5, 6), data="kinks",
              kinks={"leaky_relu": (0.0,), "hard_sigmoid": (-3.0, 3.0)}.get(a, ()))
    for a in NEW_ACTIVATIONS
] + [LayerCase("Dense", {"units": 5, "activation": a}, (4, 7)) for a in NEW_ACTIVATIONS] + [
    LayerCase("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "activation": a},
              (2, 6, 6, 3)) for a in ("gelu", "swish", "elu", "hard_sigmoid")
]

LAYER_CASES.update({"merge": MERGE_CASES, "reshaping": RESHAPING_CASES,
                    "global_pooling": GLOBAL_POOLING_CASES,
                    "advanced_activation": ADVANCED_ACTIVATION_CASES})


# -- Conv1D and 1-D pooling, DepthwiseConv2D / SeparableConv2D, Conv2DTranspose, LRN ------
# Embedding (integer ids) and LRN (no Keras layer) have their runners in cases_conv.py.
from .cases_conv import EMBEDDING_CASES  # noqa: E402


def _case(layer, input_shape, defaults, **kwargs):
    """A LayerCase whose kwargs leave out the values equal to Keras's defaults."""
    kwargs = {k: v for k, v in kwargs.items() if defaults.get(k, object()) != v}
    return LayerCase(layer, kwargs, input_shape)


# -- Conv1D and 1-D pooling ---------------------------------------------------------
_CONV1D_DEFAULTS = {"strides": 1, "padding": "valid", "dilation_rate": 1, "use_bias": True,
                    "activation": None}


def _conv1d(kernel_size=3, length=11, channels=3, batch=2, filters=4, **kwargs):
    return _case("Conv1D", (batch, length, channels), _CONV1D_DEFAULTS,
                 filters=filters, kernel_size=kernel_size, **kwargs)


def _pool1d(cls, pool_size, strides=None, padding="valid", length=10):
    kwargs = {"pool_size": pool_size}
    if strides is not None:
        kwargs["strides"] = strides
    if padding != "valid":
        kwargs["padding"] = padding
    if cls == "MaxPooling1D":      # no ties: "the first maximum" never matters; output exact
        return LayerCase(cls, kwargs, (2, length, 3), data="distinct", exact=("output",))
    return LayerCase(cls, kwargs, (2, length, 3))


CONV1D_CASES = [
    _conv1d(1), _conv1d(3), _conv1d(5), _conv1d(11, length=11),
    _conv1d(3, strides=2), _conv1d(4, strides=3, length=13),
    _conv1d(3, padding="same"), _conv1d(4, padding="same"), _conv1d(3, strides=2, padding="same"),
    _conv1d(3, padding="causal"), _conv1d(4, strides=2, padding="causal"),
    _conv1d(3, dilation_rate=2), _conv1d(3, dilation_rate=3, padding="causal"),
    _conv1d(2, dilation_rate=2, padding="same"),
    _conv1d(3, use_bias=False), _conv1d(3, channels=1, filters=1), _conv1d(3, batch=1),
    _conv1d(3, channels=16, filters=8, padding="causal", activation="relu"),
] + [_conv1d(3, padding="same", activation=a) for a in ACTIVATIONS if a != "linear"] + [
    _pool1d(cls, *geometry) for cls in ("MaxPooling1D", "AveragePooling1D")
    for geometry in ((2,), (2, None, "valid", 9), (3, 2), (3, 2, "same"), (2, 1, "same"),
                     (4, 3, "same", 11), (3, None, "same", 7))
]

# -- DepthwiseConv2D and SeparableConv2D -------------------------------------------------
_DEPTHWISE_DEFAULTS = {"strides": 1, "padding": "valid", "dilation_rate": 1, "use_bias": True,
                       "activation": None, "depth_multiplier": 1}


def _depthwise(kernel_size=3, hw=(7, 8), channels=3, batch=2, **kwargs):
    return _case("DepthwiseConv2D", (batch, *hw, channels), _DEPTHWISE_DEFAULTS,
                 kernel_size=kernel_size, **kwargs)


def _separable(kernel_size=3, hw=(7, 8), channels=3, batch=2, filters=5, **kwargs):
    return _case("SeparableConv2D", (batch, *hw, channels), _DEPTHWISE_DEFAULTS,
                 filters=filters, kernel_size=kernel_size, **kwargs)


DEPTHWISE_SEPARABLE_CASES = [
    _depthwise(1), _depthwise(3), _depthwise((2, 3)), _depthwise(5, hw=(5, 6)),
    _depthwise(3, depth_multiplier=2), _depthwise(3, depth_multiplier=3, channels=1),
    _depthwise(3, strides=2), _depthwise(3, strides=3, padding="same"),   # TF: equal strides
    _depthwise(4, padding="same"), _depthwise(3, strides=2, padding="same", depth_multiplier=2),
    _depthwise(3, dilation_rate=2), _depthwise(3, dilation_rate=(1, 2), padding="same"),
    _depthwise(3, strides=2, dilation_rate=2, padding="same", hw=(9, 9)),   # both, as Keras 3
    _depthwise(3, use_bias=False), _depthwise(3, channels=16, depth_multiplier=2, batch=1),
    _depthwise(3, activation="relu", padding="same"),
    _separable(1), _separable(3), _separable(3, depth_multiplier=2),
    _separable((2, 3), strides=2, padding="same"), _separable(4, padding="same", filters=2),
    _separable(3, dilation_rate=2, depth_multiplier=2),
    _separable(3, strides=2, dilation_rate=(2, 1), padding="same", hw=(9, 9)),
    _separable(3, use_bias=False), _separable(3, activation="relu"),
    _separable(3, activation="softmax", padding="same", channels=8, depth_multiplier=2),
]

# -- Conv2DTranspose -----------------------------------------------------------------
_TRANSPOSE_DEFAULTS = {"strides": 1, "padding": "valid", "output_padding": None,
                       "use_bias": True, "activation": None}


def _transpose(kernel_size=3, hw=(4, 5), channels=3, batch=2, filters=4, **kwargs):
    return _case("Conv2DTranspose", (batch, *hw, channels), _TRANSPOSE_DEFAULTS,
                 filters=filters, kernel_size=kernel_size, **kwargs)


# Dilation is left out: TensorFlow's CPU kernels have no dilated Conv2DBackpropInput
# (tests/layers/test_conv_families.py checks it as the adjoint of a dilated Conv2D).
CONV_TRANSPOSE_CASES = [
    _transpose(1), _transpose(2), _transpose(3), _transpose((2, 3)), _transpose(5, hw=(2, 3)),
    _transpose(3, strides=2), _transpose(2, strides=2), _transpose(1, strides=3),
    _transpose(3, strides=(2, 1)), _transpose(4, strides=3),
    _transpose(3, padding="same"), _transpose(4, padding="same"),
    _transpose(3, strides=2, padding="same"), _transpose(2, strides=2, padding="same"),
    _transpose((2, 3), strides=(3, 2), padding="same"),
    _transpose(3, strides=2, output_padding=1), _transpose(3, strides=3, output_padding=(2, 0)),
    _transpose(3, strides=2, padding="same", output_padding=1),
    _transpose(3, strides=3, padding="same", output_padding=(0, 2)),
    _transpose(4, strides=2, padding="same", output_padding=1),
    _transpose(3, use_bias=False, strides=2), _transpose(3, channels=1, filters=1),
    _transpose(3, channels=16, filters=8, strides=2, padding="same", batch=1),
] + [_transpose(3, strides=2, padding="same", activation=a) for a in ACTIVATIONS
     if a != "linear"]



# Keras has no LRN layer: these run against tf.nn.local_response_normalization
# (cases_conv.run_lrn_case).
LRN_CASES = [
    LayerCase("LocalResponseNormalization", kwargs, shape)
    for kwargs, shape in (
        ({}, (2, 4, 5, 16)),                                            # tf.nn defaults
        ({"depth_radius": 2, "bias": 2.0, "alpha": 1e-4, "beta": 0.75}, (2, 5, 5, 12)),  # AlexNet
        ({"depth_radius": 0}, (2, 3, 3, 4)),
        ({"depth_radius": 5}, (2, 3, 3, 3)),                            # radius beyond C
        ({"depth_radius": 1, "bias": 0.5, "alpha": 0.3, "beta": 1.0}, (3, 2, 4, 7)),
        ({"depth_radius": 3, "alpha": 2.0, "beta": 0.25}, (1, 6, 6, 9)),
    )
]


LAYER_CASES.update({"conv1d": CONV1D_CASES, "depthwise_separable": DEPTHWISE_SEPARABLE_CASES,
                    "conv_transpose": CONV_TRANSPOSE_CASES, "embedding": EMBEDDING_CASES,
                    "lrn": LRN_CASES})
