"""Keras twins of the minicnn layers that Keras does not have, for ``to_keras``.

Keras has no local response normalization layer (AlexNet's), so a model with
one could not leave minicnn. ``lrn_class(keras)`` returns a Keras layer named
``LocalResponseNormalization`` that computes what ``tf.nn.lrn`` computes, in
``keras.ops`` so that it runs on every Keras backend; it is registered for
Keras's saving (package ``minicnn``), so a ``.keras`` file holding it loads
again, here or in Keras after ``import minicnn.keras_layers`` and a call of
``lrn_class(keras)``. Keras is imported by the caller, never here.
"""
_CLASSES = {}


def lrn_class(keras):
    """The Keras ``LocalResponseNormalization`` layer class (made once per process)."""
    if "lrn" in _CLASSES:
        return _CLASSES["lrn"]
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="minicnn")
    class LocalResponseNormalization(keras.layers.Layer):
        """y = x / (bias + alpha * sum of x^2 over channels c-r..c+r) ** beta."""

        def __init__(self, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, **kwargs):
            super().__init__(**kwargs)
            self.depth_radius, self.bias = int(depth_radius), float(bias)
            self.alpha, self.beta = float(alpha), float(beta)

        def call(self, x):
            r, channels = self.depth_radius, x.shape[-1]
            squares = ops.pad(ops.square(x), [[0, 0]] * (len(x.shape) - 1) + [[r, r]])
            window = sum(squares[..., i:i + channels] for i in range(2 * r + 1))
            return x / ops.power(self.bias + self.alpha * window, self.beta)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "depth_radius": self.depth_radius,
                    "bias": self.bias, "alpha": self.alpha, "beta": self.beta}

    _CLASSES["lrn"] = LocalResponseNormalization
    return LocalResponseNormalization


def keras_class(keras, name):
    """The Keras class for a minicnn layer class name: ``keras.layers.<name>``, or the
    twin written here; None when there is neither."""
    if name == "LocalResponseNormalization":
        return lrn_class(keras)
    return getattr(keras.layers, name, None)


def register(keras):
    """Make every twin known to Keras's loader (before ``keras.models.load_model``)."""
    lrn_class(keras)
