"""Keras's function-style losses: one loss value per sample, ``loss(y_true, y_pred)``.

    per_sample = minicnn.losses.sparse_categorical_crossentropy(labels, probs)   # (N,)

as ``keras.losses.sparse_categorical_crossentropy`` returns them (no mean over
the batch: the ``Loss`` classes and ``compile`` take that). They are written
with ``minicnn.ops``, so inside a ``GradientTape`` (a custom training loop, as
the chapters write one) their gradient flows back to the model; outside one
they return a NumPy array.
"""
import numpy as np

from . import ops
from .tape import Tensor, as_value

EPSILON = 1e-7      # keras.config.epsilon()


def _result(value, y_pred):
    """A Tensor when y_pred is one (on a tape), else the array."""
    return value if isinstance(y_pred, Tensor) else as_value(value)


def _log_probabilities(y_pred, from_logits, axis):
    """log p along ``axis``: log_softmax of logits, or the log of the probabilities
    renormalized and clipped to [eps, 1 - eps] (Keras's rule)."""
    if from_logits:
        shifted = ops.subtract(y_pred, np.max(as_value(y_pred), axis=axis, keepdims=True))
        return shifted - ops.log(ops.sum(ops.exp(shifted), axis=axis, keepdims=True))
    q = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    return ops.log(ops.clip(q, EPSILON, 1 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum_k t_k log p_k per sample; t one-hot (label smoothing mixes in 1/K)."""
    t = np.asarray(as_value(y_true), dtype=as_value(y_pred).dtype)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[axis]
    return _result(-ops.sum(t * _log_probabilities(y_pred, from_logits, axis), axis=axis),
                   y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """-log p[label] per sample; integer labels (N,) or (N, 1)."""
    labels = np.asarray(as_value(y_true)).astype(np.int64).reshape(as_value(y_pred).shape[:-1])
    one_hot = np.eye(as_value(y_pred).shape[-1], dtype=as_value(y_pred).dtype)[labels]
    return categorical_crossentropy(one_hot, y_pred, from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-(t log p + (1 - t) log(1 - p)), averaged over the last axis."""
    t = np.asarray(as_value(y_true), dtype=as_value(y_pred).dtype).reshape(as_value(y_pred).shape)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:          # TensorFlow's stable form: max(z, 0) - z t + log(1 + e^-|z|)
        z = y_pred
        elements = ops.relu(z) - z * t + ops.log(1.0 + ops.exp(-ops.abs(z)))
    else:
        p = ops.clip(y_pred, EPSILON, 1 - EPSILON)
        elements = -(t * ops.log(p) + (1 - t) * ops.log(1.0 - p))
    return _result(ops.mean(elements, axis=axis), y_pred)


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis."""
    return _result(ops.mean(ops.square(ops.subtract(y_pred, as_value(y_true))), axis=-1),
                   y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    return _result(ops.mean(ops.abs(ops.subtract(y_pred, as_value(y_true))), axis=-1), y_pred)


mse, mae = mean_squared_error, mean_absolute_error
