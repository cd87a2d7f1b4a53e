"""Losses with the Keras 3 definitions, each with its gradient.

Every loss reduces to the mean over the batch ("sum_over_batch_size") and
offers ``value_and_gradient(y_true, y_pred, logits=None)``. When the model's
last layer is a softmax (or sigmoid) and the loss a cross-entropy on
probabilities, the model passes that layer's ``logits``; the loss is then
computed from the logits without clipping and the gradient is taken with
respect to the logits, ``(softmax(z) - t) / N``. That is what Keras does
(it remembers the logits behind a softmax output), and it is both exact and
numerically safe.
"""
import numpy as np

from .activations import sigmoid, softmax

EPSILON = 1e-7      # keras.config.epsilon()


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class Loss:
    key = name = "loss"
    fusable_activation = None     # the activation whose logits this loss can use

    def __init__(self, name=None):
        self.name = name or self.name

    def __call__(self, y_true, y_pred):
        return self.value_and_gradient(y_true, y_pred)[0]

    def value_and_gradient(self, y_true, y_pred, logits=None):
        """Return ``(loss, grad, wrt_logits)``: grad is dL/dlogits when wrt_logits."""
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


class CategoricalCrossentropy(Loss):
    """-sum(t * log p) per sample, averaged over the batch; t one-hot (N, K)."""
    key = name = "categorical_crossentropy"
    fusable_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None):
        super().__init__(name)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"{type(self).__name__}: label_smoothing must be in [0, 1], "
                             f"received {label_smoothing!r}")
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def _targets(self, y_true, y_pred):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        if t.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: y_true of shape {t.shape} does not match "
                             f"y_pred of shape {y_pred.shape} (one-hot labels expected; use "
                             f"SparseCategoricalCrossentropy for integer labels)")
        if self.label_smoothing:
            k = t.shape[-1]
            t = t * (1 - self.label_smoothing) + self.label_smoothing / k
        return t

    def value_and_gradient(self, y_true, y_pred, logits=None):
        t = self._targets(y_true, y_pred)
        n = y_pred.shape[0]
        if self.from_logits or logits is not None:
            z = y_pred if self.from_logits else logits
            loss = -(t * _log_softmax(z)).sum(axis=-1).mean()
            grad = (softmax(z) * t.sum(axis=-1, keepdims=True) - t) / n   # dL/dz
            return float(loss), grad.astype(y_pred.dtype, copy=False), True
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total                                     # rows renormalized
        qc = np.clip(q, EPSILON, 1 - EPSILON)
        loss = -(t * np.log(qc)).sum(axis=-1).mean()
        dq = np.where((q >= EPSILON) & (q <= 1 - EPSILON), -t / qc, 0) / n
        grad = (dq - (dq * q).sum(axis=-1, keepdims=True)) / total  # through the renormalization
        return float(loss), grad.astype(y_pred.dtype, copy=False), False

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer labels (N,) or (N, 1)."""
    key = name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, name=None):
        super().__init__(from_logits=from_logits, name=name)

    def _targets(self, y_true, y_pred):
        labels = np.asarray(y_true)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        k = y_pred.shape[-1]
        if labels.shape != y_pred.shape[:1]:
            raise ValueError(f"{type(self).__name__}: expected integer labels of shape "
                             f"({y_pred.shape[0]},), received shape {labels.shape}")
        if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
            raise ValueError(f"{type(self).__name__}: labels must be whole numbers")
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"{type(self).__name__}: labels must be in [0, {k - 1}], "
                             f"received values from {labels.min()} to {labels.max()}")
        t = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        t[np.arange(len(labels)), labels.astype(np.int64)] = 1
        return t

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class BinaryCrossentropy(Loss):
    """-(t log p + (1 - t) log(1 - p)) averaged over the last axis, then the batch."""
    key = name = "binary_crossentropy"
    fusable_activation = "sigmoid"

    def __init__(self, from_logits=False, name=None):
        super().__init__(name)
        self.from_logits = bool(from_logits)

    def value_and_gradient(self, y_true, y_pred, logits=None):
        t = np.asarray(y_true, dtype=y_pred.dtype).reshape(y_pred.shape)
        count = y_pred.size                    # mean over last axis, then over the batch
        if self.from_logits or logits is not None:
            z = y_pred if self.from_logits else logits
            # TensorFlow's stable form: max(z, 0) - z t + log(1 + e^-|z|)
            loss = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()
            grad = (sigmoid(z) - t) / count
            return float(loss), grad.astype(y_pred.dtype, copy=False), True
        pc = np.clip(y_pred, EPSILON, 1 - EPSILON)
        loss = -(t * np.log(pc) + (1 - t) * np.log(1 - pc)).mean()
        inside = (y_pred >= EPSILON) & (y_pred <= 1 - EPSILON)
        grad = np.where(inside, (pc - t) / (pc * (1 - pc)), 0) / count
        return float(loss), grad.astype(y_pred.dtype, copy=False), False

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2) over the last axis, then the batch."""
    key = name = "mean_squared_error"

    def value_and_gradient(self, y_true, y_pred, logits=None):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        if t.shape != y_pred.shape:
            raise ValueError(f"MeanSquaredError: y_true of shape {t.shape} does not match "
                             f"y_pred of shape {y_pred.shape}")
        diff = y_pred - t
        return float(np.square(diff).mean()), (2 * diff / diff.size).astype(y_pred.dtype), False


LOSSES = {cls.key: cls for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy,
                                    BinaryCrossentropy, MeanSquaredError)}
ALIASES = {"mse": "mean_squared_error", "MeanSquaredError": "mean_squared_error",
           "CategoricalCrossentropy": "categorical_crossentropy",
           "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
           "BinaryCrossentropy": "binary_crossentropy"}


def get(identifier):
    """A loss instance from an instance, a Keras name, or a ``serialize`` dict."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        cls = LOSSES[ALIASES.get(identifier["class_name"], identifier["class_name"])]
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, str):
        key = ALIASES.get(identifier, identifier.lower())
        if key in LOSSES:
            return LOSSES[key]()
    raise ValueError(f"unknown loss {identifier!r}; expected a Loss or one of "
                     f"{sorted(LOSSES) + ['mse']}")


def serialize(loss):
    return {"class_name": type(loss).key, "config": loss.get_config()}
