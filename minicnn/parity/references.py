"""Reference devices: Keras 3 on TensorFlow (CPU, GPU) or on JAX (GPU).

A reference computes with Keras what a minicnn case computes: a layer's
output and its vector-Jacobian product, a scalar and its gradient, optimizer
steps and training steps. Every method takes and returns NumPy arrays.

Keras chooses its backend once, when it is first imported, from the
``KERAS_BACKEND`` variable, so one process serves either the TensorFlow
devices or the JAX ones. ``MINICNN_REFERENCE`` picks:

=====================  ===============================================
MINICNN_REFERENCE      devices this process compares with
=====================  ===============================================
unset / ``tf``         tf-cpu, and tf-gpu when TensorFlow sees a GPU
``jax`` / ``jax-gpu``  jax-gpu (Keras 3 on JAX, for GPU machines
                       that have JAX with CUDA but no TensorFlow)
``jax-cpu``            jax-cpu as well: runs the JAX code path on a
                       machine without a GPU
=====================  ===============================================

When it is unset and TensorFlow is missing but JAX is installed, ``jax`` is
chosen. GPUs run with TF32 off and deterministic ops (docs/keras_semantics.md
"Comparing against TensorFlow").
TensorFlow, Keras and JAX are imported here, inside functions, only when a
comparison runs: the minicnn engine never imports them.
"""
import functools
import importlib.util
import os

import numpy as np

DEVICES = ("tf-cpu", "tf-gpu", "jax-gpu", "jax-cpu")


def _installed(module):
    return importlib.util.find_spec(module) is not None


def mode():
    """"tf", "jax" or "none": which Keras backend this process compares with."""
    value = os.environ.get("MINICNN_REFERENCE", "").strip().lower()
    if value in ("", "auto"):
        if _installed("tensorflow"):
            return "tf"
        return "jax" if _installed("jax") else "none"
    if value in ("tf", "tensorflow", "tf-cpu", "tf-gpu"):
        return "tf"
    if value in ("jax", "jax-gpu", "jax-cpu"):
        return "jax"
    raise ValueError(f"MINICNN_REFERENCE must be 'tf', 'jax' or 'jax-cpu', received {value!r}")


def listed_devices():
    """The devices a suite or report parametrizes over (present or not)."""
    extra = ("jax-cpu",) if os.environ.get("MINICNN_REFERENCE", "").lower() == "jax-cpu" else ()
    return ("tf-cpu", "tf-gpu", "jax-gpu") + extra


@functools.lru_cache(maxsize=None)
def _backend_modules():
    """Import Keras on the backend ``mode()`` names, configured for parity runs."""
    which = mode()
    if which == "none":
        raise ImportError("neither tensorflow nor jax is installed")
    wanted = "tensorflow" if which == "tf" else "jax"
    os.environ["KERAS_BACKEND"] = wanted
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")     # see _check_tensorflow_conv
    if which == "jax":
        # XLA on GPU: reproducible reductions, and no preallocation of most of the memory.
        os.environ.setdefault("XLA_FLAGS", "--xla_gpu_deterministic_ops=true")
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        import jax
        jax.config.update("jax_default_matmul_precision", "highest")   # no TF32
        backend_module = jax
    else:
        import tensorflow as tf
        tf.config.experimental.enable_tensor_float_32_execution(False)
        if tf.config.list_physical_devices("GPU"):
            # Process-wide and only needed on GPUs: CPU runs (and the other tests
            # sharing this process) keep TensorFlow's default, faster tf.data.
            tf.config.experimental.enable_op_determinism()
        _check_tensorflow_conv(tf)
        backend_module = tf
    import keras
    if keras.backend.backend() != wanted:
        raise RuntimeError(f"Keras was already imported with the {keras.backend.backend()!r} "
                           f"backend; MINICNN_REFERENCE={which!r} needs {wanted!r}. Run the "
                           f"parity suite in its own process.")
    return backend_module, keras


def _check_tensorflow_conv(tf):
    """Refuse a TensorFlow whose oneDNN kernels get a strided convolution wrong.

    TensorFlow 2.21 (tensorflow-cpu, oneDNN on, the default) returns garbage
    (values near 1e29) for this 1x2 kernel with strides (1, 2) and one channel,
    and has crashed in ``conv2d_backprop_filter`` on similar geometries found
    by the property tests. With ``TF_ENABLE_ONEDNN_OPTS=0`` (Eigen kernels) it
    is right. The variable must be set before TensorFlow is imported.
    """
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3, 1) / 10
    k = np.array([1.0, -2.0], dtype=np.float32).reshape(1, 2, 1, 1)
    got = tf.nn.conv2d(x, k, strides=(1, 1, 2, 1), padding="VALID").numpy()
    want = x[:, :, 0:1] * 1.0 - 2.0 * x[:, :, 1:2]          # (2, 2, 1, 1): one window per row
    if not np.allclose(got, want, rtol=1e-6, atol=1e-6):
        raise RuntimeError(
            "this TensorFlow computes a strided Conv2D wrongly with its oneDNN kernels "
            f"(tf.nn.conv2d gave {got.ravel()}, expected {want.ravel()}); set "
            "TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow is imported")


@functools.lru_cache(maxsize=None)
def availability(device):
    """``(True, "")`` if ``device`` can run in this process, else ``(False, reason)``."""
    if device not in DEVICES:
        raise ValueError(f"unknown reference device {device!r}; expected one of {DEVICES}")
    which = mode()
    framework = "tf" if device.startswith("tf") else "jax"
    if which == "none":
        return False, "neither tensorflow nor jax is installed (pip install -e '.[test]')"
    if framework == which and not _installed("tensorflow" if which == "tf" else "jax"):
        return False, f"MINICNN_REFERENCE asks for {which} but it is not installed"
    if framework != which:
        if framework == "jax":
            if not _installed("jax"):
                return False, "jax is not installed (Keras 3 on JAX is the GPU reference " \
                              "for machines without TensorFlow)"
            return False, ("Keras on JAX needs its own process: run "
                           "MINICNN_REFERENCE=jax pytest tests/parity")
        return False, "this process compares with Keras on JAX (MINICNN_REFERENCE=jax)"
    if device == "jax-cpu" and os.environ.get("MINICNN_REFERENCE", "").lower() != "jax-cpu":
        return False, "jax-cpu runs only with MINICNN_REFERENCE=jax-cpu"
    backend_module, _ = _backend_modules()
    if device == "tf-gpu" and not backend_module.config.list_physical_devices("GPU"):
        return False, "TensorFlow sees no GPU"
    if device == "jax-gpu":
        try:
            backend_module.devices("gpu")
        except RuntimeError:
            return False, "JAX has no GPU backend"
    return True, ""


def get(device):
    """The ``Reference`` for ``device``; raises with the reason if it is absent."""
    ok, reason = availability(device)
    if not ok:
        raise RuntimeError(f"reference device {device!r} is not available: {reason}")
    return _make(device)


@functools.lru_cache(maxsize=None)
def _make(device):
    return (TFReference if device.startswith("tf") else JaxReference)(device)


class Reference:
    """Keras on one device. Subclasses write the framework-specific parts."""

    def __init__(self, device):
        self.device = device
        self.backend_module, self.keras = _backend_modules()

    def train_on_batch(self, model, x, t, steps):
        """Run ``steps`` ``train_on_batch`` calls on a compiled model; return its weights."""
        with self.placement():
            for _ in range(steps):
                model.train_on_batch(x, t)
        return [np.asarray(w) for w in model.get_weights()]

    def apply_optimizer(self, optimizer, weights, grad_steps):
        """Apply a Keras optimizer to copies of ``weights`` once per gradient list."""
        keras = self.keras
        with self.placement():
            variables = [keras.Variable(w) for w in weights]
            for grads in grad_steps:
                optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], variables)
            return [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in variables]


class TFReference(Reference):
    """Keras 3 on TensorFlow; gradients from ``tf.GradientTape``."""

    def placement(self):
        return self.backend_module.device("/GPU:0" if self.device == "tf-gpu" else "/CPU:0")

    def layer_vjp(self, model, x, dy, training):
        """Output, dx and weight gradients for upstream ``dy``; all weights after the call."""
        tf = self.backend_module
        with self.placement():
            xt, dyt = tf.constant(x), tf.constant(dy)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = model(xt, training=training)
            grads = tape.gradient(y, [xt] + model.trainable_variables, output_gradients=dyt)
        return {"output": y.numpy(), "dx": grads[0].numpy(),
                "grads": [g.numpy() for g in grads[1:]],
                "weights": [w for w in model.get_weights()]}

    def value_and_grad(self, fn, array):
        """``fn(tensor) -> scalar`` at ``array``: (value, d value / d array)."""
        tf = self.backend_module
        with self.placement():
            xt = tf.constant(array)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                value = fn(xt)
            grad = tape.gradient(value, xt)
        return float(value.numpy()), grad.numpy()

    def model_loss_and_grads(self, model, loss, x, t, training=False):
        """Loss (regularization included) and its gradient for every trainable weight."""
        tf = self.backend_module
        with self.placement():
            with tf.GradientTape() as tape:
                out = model(tf.constant(x), training=training)
                value = loss(tf.constant(t), out) + sum(model.losses)
            grads = tape.gradient(value, model.trainable_variables)
        # an Embedding's gradient comes as IndexedSlices: made dense here
        return float(value.numpy()), [tf.convert_to_tensor(g).numpy() for g in grads]


class JaxReference(Reference):
    """Keras 3 on JAX; gradients from ``jax.vjp`` over ``stateless_call``."""

    def placement(self):
        jax = self.backend_module
        return jax.default_device(jax.devices("gpu" if self.device == "jax-gpu" else "cpu")[0])

    def layer_vjp(self, model, x, dy, training):
        jax = self.backend_module
        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def call(trainable, x):
            y, state = model.stateless_call(trainable, frozen, x, training=training)
            return y, state

        with self.placement():
            y, vjp, state = jax.vjp(call, trainable, jax.numpy.asarray(x), has_aux=True)
            dweights, dx = vjp(jax.numpy.asarray(dy))
        updated = {id(v): s for v, s in zip(model.non_trainable_variables, state)}
        return {"output": np.asarray(y), "dx": np.asarray(dx),
                "grads": [np.asarray(g) for g in dweights],
                "weights": [np.asarray(updated.get(id(v), v.value)) for v in model.weights]}

    def value_and_grad(self, fn, array):
        jax = self.backend_module
        with self.placement():
            value, grad = jax.value_and_grad(fn)(jax.numpy.asarray(array))
        return float(value), np.asarray(grad)

    def model_loss_and_grads(self, model, loss, x, t, training=False):
        jax = self.backend_module
        frozen = [v.value for v in model.non_trainable_variables]

        def total(trainable):
            out, _, penalties = model.stateless_call(trainable, frozen, x, training=training,
                                                     return_losses=True)
            return loss(t, out) + sum(penalties)

        with self.placement():
            value, grads = jax.value_and_grad(total)([v.value for v in model.trainable_variables])
        return float(value), [np.asarray(g) for g in grads]

