"""The "accuracy" metric, resolved the way Keras resolves it from the loss."""
import numpy as np


def categorical_accuracy(y_true, y_pred):
    return float(np.mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    labels = np.asarray(y_true).reshape(-1)
    return float(np.mean(labels == np.argmax(y_pred, axis=-1)))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    t = np.asarray(y_true).reshape(y_pred.shape)
    return float(np.mean(t == (y_pred > threshold)))


def mean_squared_error(y_true, y_pred):
    return float(np.mean((np.asarray(y_true).reshape(y_pred.shape) - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred):
    return float(np.mean(np.abs(np.asarray(y_true).reshape(y_pred.shape) - y_pred)))


def resolve(metric, loss):
    """Map a metric name to ``(name, function)``; "accuracy" depends on the loss."""
    if metric in ("accuracy", "acc"):
        if loss.key == "sparse_categorical_crossentropy":
            return "accuracy", sparse_categorical_accuracy
        if loss.key == "binary_crossentropy":
            return "accuracy", binary_accuracy
        return "accuracy", categorical_accuracy
    table = {"categorical_accuracy": categorical_accuracy,
             "sparse_categorical_accuracy": sparse_categorical_accuracy,
             "binary_accuracy": binary_accuracy,
             "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
             "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error}
    if metric in table:
        return metric, table[metric]
    raise ValueError(f"unknown metric {metric!r}; expected 'accuracy' or one of {sorted(table)}")
