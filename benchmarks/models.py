"""The zoo networks, in minicnn (``minicnn.zoo``) and their Keras twins.

The minicnn side is the zoo of ``minicnn/zoo.py``; ``keras_twin`` rebuilds
any minicnn Sequential layer by layer in Keras from the layers' configs
(minicnn's configs use Keras's names), so the two are the same network by
construction, and copies the weights across.

What each benchmark entry trains (``ZOO``):

* Keras MNIST convnet: batch 64, RMSprop(1e-3), softmax + sparse cross-entropy;
* classic LeNet-5 (the zoo's ``lenet5``: ReLU and max pooling, 2-pixel zero
  padding to 32x32): batch 64 as in the issue's reference figure, Adam(1e-3)
  as in the zoo's recipe;
* TF-chapter LeNet-5: batch 128 as in the chapter, RMSprop(1e-3, rho 0.9),
  logits and a from-logits loss (the chapter's softmax_cross_entropy_with_logits);
* emotion net: batch 128, Adam(1e-3), L2(0.005) on every weight and bias,
  logits and a from-logits loss.
"""
import numpy as np

ZOO = {
    "mnist_convnet": {"title": "Keras MNIST convnet", "builder": "keras_mnist_convnet",
                      "kwargs": {}, "batch": 64, "from_logits": False,
                      "optimizer": ("RMSprop", {"learning_rate": 1e-3})},
    "lenet5_classic": {"title": "classic LeNet-5", "builder": "lenet5", "kwargs": {},
                       "batch": 64, "from_logits": False,
                       "optimizer": ("Adam", {"learning_rate": 1e-3})},
    "lenet5_tf": {"title": "TF-chapter LeNet-5", "builder": "lenet5_tf",
                  "kwargs": {"logits": True}, "batch": 128, "from_logits": True,
                  "optimizer": ("RMSprop", {"learning_rate": 1e-3, "rho": 0.9})},
    "emotion": {"title": "emotion net (48x48, 7 classes)", "builder": "emotion_net",
                "kwargs": {"logits": True}, "batch": 128, "from_logits": True,
                "optimizer": ("Adam", {"learning_rate": 1e-3})},
}


def scaling_spec(size, batch=64):
    """The scaling section's conv stack on size x size x 1 images."""
    return {"title": f"conv stack {size}x{size}", "builder": "scaling_stack",
            "kwargs": {"size": size}, "batch": batch, "from_logits": False,
            "optimizer": ("RMSprop", {"learning_rate": 1e-3})}


def scaling_stack(size):
    """Two 3x3 'same' convs (32, 64) with ReLU and 2x2 max pooling, then Dense 10."""
    import minicnn
    from minicnn import layers
    return minicnn.Sequential([
        layers.Input((size, size, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),   # (size, size, 32)
        layers.MaxPooling2D(2),                                     # (size/2, size/2, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),                                     # (size/4, size/4, 64)
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ], name=f"conv_stack_{size}")


def build_minicnn(spec):
    """The minicnn model of an entry, compiled with its optimizer and loss."""
    from minicnn import losses, optimizers, zoo
    if spec["builder"] == "scaling_stack":
        model = scaling_stack(**spec["kwargs"])
    else:
        model = zoo.build(spec["builder"], **spec["kwargs"])
    name, kw = spec["optimizer"]
    model.compile(optimizer=getattr(optimizers, name)(**kw),
                  loss=losses.SparseCategoricalCrossentropy(from_logits=spec["from_logits"]))
    return model


# config keys that only concern start values, bookkeeping or constraints
_SKIP = {"name", "trainable", "dtype", "kernel_initializer", "bias_initializer",
         "beta_initializer", "gamma_initializer", "moving_mean_initializer",
         "moving_variance_initializer", "kernel_constraint", "bias_constraint",
         "beta_constraint", "gamma_constraint", "input_shape"}


def keras_layer(layer):
    """The Keras layer with the same hyper-parameters as a minicnn layer (no weights)."""
    import keras
    config = {k: v for k, v in layer.get_config().items() if k not in _SKIP}
    for key in [k for k in config if k.endswith("_regularizer")]:
        config[key] = keras.regularizers.get(config[key]) if config[key] else None
    cls = getattr(keras.layers, type(layer).__name__)
    return cls(**config)


def keras_twin(mc, spec):
    """A compiled Keras Sequential equal to minicnn model ``mc``, with its weights."""
    import keras
    kr = keras.Sequential([keras.Input(shape=mc.input_shape[1:])]
                          + [keras_layer(layer) for layer in mc.layers])
    kr.set_weights(mc.get_weights())
    name, kw = spec["optimizer"]
    kr.compile(optimizer=getattr(keras.optimizers, name)(**kw),
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=spec["from_logits"]))
    return kr


def twin(spec, seed=0):
    """``(minicnn_model, keras_model)``: the same network, the same starting weights."""
    import minicnn
    minicnn.set_random_seed(seed)
    mc = build_minicnn(spec)
    return mc, keras_twin(mc, spec)


def data(spec_or_model, n, seed=0):
    """``n`` random float32 images in [0, 1) and integer labels for an entry (or model)."""
    model = spec_or_model if hasattr(spec_or_model, "layers") else build_minicnn(spec_or_model)
    rng = np.random.default_rng(seed)
    x = rng.random((n, *model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], size=n).astype(np.int64)
    return x, y
