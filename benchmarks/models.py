"""The zoo networks of ``shared/SEEDS.md``, built twice: in minicnn and in Keras.

Each entry of ``ZOO`` describes one network once, as a list of layer specs
``(kind, kwargs)``; ``build_minicnn`` and ``build_keras`` turn that list into
a model of either framework, so the two are the same network by construction.
``twin(name)`` returns both, compiled with the same optimizer and loss, with
the Keras weights copied from the minicnn model.

Choices (SEEDS.md leaves them open):

* classic LeNet-5 takes 28x28 MNIST images, so its first conv pads 'same'
  (LeCun's 32x32 input is MNIST padded by 2); tanh and 2x2 average pooling as
  in the 1998 paper; RMSprop; batch 64.
* TF-chapter LeNet-5 runs at batch 128 (as in the chapter), RMSprop(1e-3, rho=0.9),
  logits out and a from-logits loss.
* the emotion net runs at batch 128, Adam(1e-3), L2 1e-2 on every weight and
  bias written as tf.nn.l2_loss (sum(w^2)/2), that is Keras L2(0.005).
"""
import numpy as np

# (kind, kwargs) per layer; "input" gives the image shape without the batch axis.
ZOO = {
    "mnist_convnet": {
        "title": "Keras MNIST convnet", "batch": 64, "classes": 10,
        "optimizer": ("rmsprop", {"learning_rate": 1e-3}), "from_logits": False,
        "layers": [
            ("input", {"shape": (28, 28, 1)}),
            ("conv", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
            ("maxpool", {"pool_size": 2}),
            ("conv", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
            ("maxpool", {"pool_size": 2}),
            ("conv", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
            ("flatten", {}),
            ("dense", {"units": 64, "activation": "relu"}),
            ("dense", {"units": 10, "activation": "softmax"}),
        ]},
    "lenet5_classic": {
        "title": "classic LeNet-5", "batch": 64, "classes": 10,
        "optimizer": ("rmsprop", {"learning_rate": 1e-3}), "from_logits": False,
        "layers": [
            ("input", {"shape": (28, 28, 1)}),
            ("conv", {"filters": 6, "kernel_size": 5, "padding": "same", "activation": "tanh"}),
            ("avgpool", {"pool_size": 2}),
            ("conv", {"filters": 16, "kernel_size": 5, "activation": "tanh"}),
            ("avgpool", {"pool_size": 2}),
            ("flatten", {}),
            ("dense", {"units": 120, "activation": "tanh"}),
            ("dense", {"units": 84, "activation": "tanh"}),
            ("dense", {"units": 10, "activation": "softmax"}),
        ]},
    "lenet5_tf": {
        "title": "TF-chapter LeNet-5", "batch": 128, "classes": 10,
        "optimizer": ("rmsprop", {"learning_rate": 1e-3, "rho": 0.9}), "from_logits": True,
        "layers": [
            ("input", {"shape": (28, 28, 1)}),
            ("conv", {"filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"}),
            ("maxpool", {"pool_size": 2, "padding": "same"}),
            ("dropout", {"rate": 0.2}),
            ("conv", {"filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"}),
            ("maxpool", {"pool_size": 2, "padding": "same"}),
            ("dropout", {"rate": 0.2}),
            ("conv", {"filters": 128, "kernel_size": 3, "padding": "same", "activation": "relu"}),
            ("maxpool", {"pool_size": 2, "padding": "same"}),
            ("dropout", {"rate": 0.2}),
            ("flatten", {}),                                   # 4*4*128 = 2048
            ("dense", {"units": 625, "activation": "relu"}),
            ("dropout", {"rate": 0.5}),
            ("dense", {"units": 10}),
        ]},
    "emotion": {
        "title": "emotion net (48x48, 7 classes)", "batch": 128, "classes": 7,
        "optimizer": ("adam", {"learning_rate": 1e-3}), "from_logits": True, "l2": 0.005,
        "layers": [
            ("input", {"shape": (48, 48, 1)}),
            ("conv", {"filters": 32, "kernel_size": 5, "padding": "same", "activation": "relu"}),
            ("maxpool", {"pool_size": 2}),
            ("conv", {"filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"}),
            ("maxpool", {"pool_size": 2}),
            ("flatten", {}),                                   # 12*12*64 = 9216
            ("dense", {"units": 256, "activation": "relu"}),
            ("dropout", {"rate": 0.5}),
            ("dense", {"units": 7}),
        ]},
}

# One conv stack for the scaling section: its input size is a parameter.
SCALING_STACK = [
    ("conv", {"filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"}),
    ("maxpool", {"pool_size": 2}),
    ("conv", {"filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"}),
    ("maxpool", {"pool_size": 2}),
    ("flatten", {}),
    ("dense", {"units": 10, "activation": "softmax"}),
]


def scaling_spec(size):
    """A zoo-style entry for the scaling conv stack on size x size x 1 images."""
    return {"title": f"conv stack {size}x{size}", "batch": 64, "classes": 10,
            "optimizer": ("rmsprop", {"learning_rate": 1e-3}), "from_logits": False,
            "layers": [("input", {"shape": (size, size, 1)})] + SCALING_STACK}


def _layer(module, kind, kw, l2):
    """One layer of either framework; ``module`` is minicnn.layers or keras.layers."""
    reg = {}
    if l2 and kind in ("conv", "dense"):
        regs = module.__name__.startswith("keras") and _keras_l2 or _minicnn_l2
        reg = {"kernel_regularizer": regs(l2), "bias_regularizer": regs(l2)}
    if kind == "input":
        return module.Input(shape=kw["shape"])
    if kind == "conv":
        return module.Conv2D(**kw, **reg)
    if kind == "dense":
        return module.Dense(**kw, **reg)
    return {"maxpool": module.MaxPooling2D, "avgpool": module.AveragePooling2D,
            "flatten": module.Flatten, "dropout": module.Dropout}[kind](**kw)


def _keras_l2(factor):
    import keras
    return keras.regularizers.L2(factor)


def _minicnn_l2(factor):
    import minicnn
    return minicnn.regularizers.L2(factor)


def _loss_name(spec):
    return "sparse_categorical_crossentropy"


def build_minicnn(spec):
    """The minicnn Sequential of a zoo entry, compiled."""
    import minicnn
    from minicnn import layers, losses, optimizers
    model = minicnn.Sequential([_layer(layers, kind, kw, spec.get("l2"))
                                for kind, kw in spec["layers"]])
    name, kw = spec["optimizer"]
    opt = {"rmsprop": optimizers.RMSprop, "adam": optimizers.Adam}[name](**kw)
    model.compile(optimizer=opt,
                  loss=losses.SparseCategoricalCrossentropy(from_logits=spec["from_logits"]))
    return model


def build_keras(spec):
    """The Keras Sequential of a zoo entry, compiled (Keras defaults otherwise)."""
    import keras
    model = keras.Sequential([_layer(keras.layers, kind, kw, spec.get("l2"))
                              for kind, kw in spec["layers"]])
    name, kw = spec["optimizer"]
    opt = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[name](**kw)
    model.compile(optimizer=opt,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=spec["from_logits"]))
    return model


def twin(spec, seed=0):
    """``(minicnn_model, keras_model)``: the same network, the same starting weights."""
    import minicnn
    minicnn.set_random_seed(seed)
    mc = build_minicnn(spec)
    kr = build_keras(spec)
    kr.set_weights(mc.get_weights())
    return mc, kr


def data(spec, n, seed=0):
    """``n`` random float32 images in [0, 1) and integer labels for a zoo entry."""
    rng = np.random.default_rng(seed)
    shape = spec["layers"][0][1]["shape"]
    x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, spec["classes"], size=n).astype(np.int64)
    return x, y
