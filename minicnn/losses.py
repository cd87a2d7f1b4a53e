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

from .activations import sigmoid as _sigmoid, softmax as _softmax
from .loss_functions import (binary_crossentropy, categorical_crossentropy,  # noqa: F401
                             mae, mean_absolute_error, mean_squared_error, mse,
                             sparse_categorical_crossentropy)

EPSILON = 1e-7      # keras.config.epsilon()


def _sample_weights(sample_weight, y_pred):
    """``sample_weight`` as a float array (N, 1, ..., 1) that broadcasts over one
    sample's loss values and gradient rows; None stays None."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=y_pred.dtype)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != y_pred.shape[:1]:
        raise ValueError(f"sample_weight must have one value per sample, shape "
                         f"({y_pred.shape[0]},), received shape {w.shape}")
    return w.reshape(-1, *([1] * (y_pred.ndim - 1)))


def _weighted(values, grad, w):
    """Keras's ``reduce_weighted_values`` with "sum_over_batch_size": the loss is
    sum(values * w) / values.size (the number of values, not the sum of the
    weights); ``grad`` (already divided by that count) is scaled row by row.
    ``values`` holds one value per sample (or per sample and position)."""
    w_values = w.reshape(w.shape[:1] + (1,) * (values.ndim - 1))
    loss = (values * w_values).mean()
    return float(loss), (grad * w).astype(grad.dtype, copy=False)


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class Loss:
    """Base class: ``loss(y_true, y_pred)`` is the mean over the batch;
    ``value_and_gradient(y_true, y_pred, logits, sample_weight)`` gives the loss and
    dL/dy_pred (or dL/dlogits) that ``fit`` backpropagates."""
    key = name = "loss"
    fusable_activation = None     # the activation whose logits this loss can use

    def __init__(self, name=None):
        self.name = name or self.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.value_and_gradient(y_true, y_pred, sample_weight=sample_weight)[0]

    def value_and_gradient(self, y_true, y_pred, logits=None, sample_weight=None):
        """Return ``(loss, grad, wrt_logits)``: grad is dL/dlogits when wrt_logits.

        ``sample_weight`` (N,): the loss is mean_i(w_i * loss_i), Keras's
        "sum_over_batch_size" (divided by N, not by the sum of the weights), and
        the gradient is that of the weighted loss."""
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

    def value_and_gradient(self, y_true, y_pred, logits=None, sample_weight=None):
        t = self._targets(y_true, y_pred)
        w = _sample_weights(sample_weight, y_pred)
        n = y_pred.size // y_pred.shape[-1]              # one loss value per sample (and position)
        if self.from_logits or logits is not None:
            z = y_pred if self.from_logits else logits
            values = -(t * _log_softmax(z)).sum(axis=-1)
            grad = (_softmax(z) * t.sum(axis=-1, keepdims=True) - t) / n   # dL/dz
            grad = grad.astype(y_pred.dtype, copy=False)
            if w is not None:
                return (*_weighted(values, grad, w), True)
            return float(values.mean()), grad, True
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total                                     # rows renormalized
        qc = np.clip(q, EPSILON, 1 - EPSILON)
        values = -(t * np.log(qc)).sum(axis=-1)
        dq = np.where((q >= EPSILON) & (q <= 1 - EPSILON), -t / qc, 0) / n
        grad = (dq - (dq * q).sum(axis=-1, keepdims=True)) / total  # through the renormalization
        grad = grad.astype(y_pred.dtype, copy=False)
        if w is not None:
            return (*_weighted(values, grad, w), False)
        return float(values.mean()), grad, False

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

    def value_and_gradient(self, y_true, y_pred, logits=None, sample_weight=None):
        t = np.asarray(y_true, dtype=y_pred.dtype).reshape(y_pred.shape)
        w = _sample_weights(sample_weight, y_pred)
        count = y_pred.size                    # mean over last axis, then over the batch
        if self.from_logits or logits is not None:
            z = y_pred if self.from_logits else logits
            # TensorFlow's stable form: max(z, 0) - z t + log(1 + e^-|z|)
            elements = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            grad = ((_sigmoid(z) - t) / count).astype(y_pred.dtype, copy=False)
            wrt_logits = True
        else:
            pc = np.clip(y_pred, EPSILON, 1 - EPSILON)
            elements = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
            inside = (y_pred >= EPSILON) & (y_pred <= 1 - EPSILON)
            grad = np.where(inside, (pc - t) / (pc * (1 - pc)), 0) / count
            grad, wrt_logits = grad.astype(y_pred.dtype, copy=False), False
        if w is not None:
            return (*_weighted(elements.mean(axis=-1), grad, w), wrt_logits)
        return float(elements.mean()), grad, wrt_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2) over the last axis, then the batch."""
    key = name = "mean_squared_error"

    def value_and_gradient(self, y_true, y_pred, logits=None, sample_weight=None):
        t = np.asarray(y_true, dtype=y_pred.dtype)
        if t.shape != y_pred.shape:
            raise ValueError(f"MeanSquaredError: y_true of shape {t.shape} does not match "
                             f"y_pred of shape {y_pred.shape}")
        w = _sample_weights(sample_weight, y_pred)
        diff = y_pred - t
        grad = (2 * diff / diff.size).astype(y_pred.dtype)
        if w is not None:
            return (*_weighted(np.square(diff).mean(axis=-1), grad, w), False)
        return float(np.square(diff).mean()), grad, False


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
    """A loss as ``{"class_name": its Keras name, "config": loss.get_config()}``."""
    return {"class_name": type(loss).key, "config": loss.get_config()}
