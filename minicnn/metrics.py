"""Metrics: Keras 3's stateful metric objects, and "accuracy" resolved from the loss.

    model.compile(..., metrics=["acc", "top_k_categorical_accuracy",
                                minicnn.metrics.AUC(), minicnn.metrics.Precision()])

A metric object keeps running state over the batches it is shown
(``update_state(y_true, y_pred, sample_weight=None)``), reports it with
``result()`` and starts again with ``reset_state()``, as in Keras. ``fit``,
``evaluate`` and ``test_on_batch`` reset every metric at the start of an epoch
(or call), update it batch by batch and log ``result()``: an epoch's value is
computed over the whole epoch (the area under the ROC curve of all its
predictions, not a mean of per-batch areas). Like Keras 3, the metrics given
to ``compile(metrics=...)`` are updated without the sample weights (Keras
weights only its ``weighted_metrics``).

The plain functions (``categorical_accuracy``, ...) return the mean over a
batch as one float.
"""
import copy

import numpy as np

EPSILON = 1e-7


# -- per-sample values (what Keras's metric functions return) ----------------------------
def _labels(y_true):
    labels = np.asarray(y_true)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels


def _categorical_accuracy_values(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _sparse_categorical_accuracy_values(y_true, y_pred):
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return (labels.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _binary_accuracy_values(y_true, y_pred, threshold=0.5):
    t = np.asarray(y_true).reshape(y_pred.shape)
    return (t == (y_pred > threshold)).astype(np.float32).mean(axis=-1)


def _in_top_k(labels, y_pred, k):
    """TensorFlow's ``in_top_k``: the target is in the top k when fewer than k
    classes score strictly higher (ties at the boundary count as in); a
    non-finite target score is never in."""
    labels = labels.astype(np.int64)
    target = y_pred[np.arange(len(labels)), labels]
    higher = (y_pred > target[:, None]).sum(axis=-1)
    return ((higher < k) & np.isfinite(target)).astype(np.float32)


def _top_k_values(y_true, y_pred, k=5):
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def _sparse_top_k_values(y_true, y_pred, k=5):
    return _in_top_k(_labels(y_true), y_pred, k)


def _mse_values(y_true, y_pred):
    return np.square(np.asarray(y_true).reshape(y_pred.shape) - y_pred).mean(axis=-1)


def _mae_values(y_true, y_pred):
    return np.abs(np.asarray(y_true).reshape(y_pred.shape) - y_pred).mean(axis=-1)


# -- the functions: one value per sample, as keras.metrics.<name>(y_true, y_pred) ------
def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot labels), per sample."""
    return _categorical_accuracy_values(y_true, np.asarray(y_pred)).astype("float32")


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, per sample."""
    return _sparse_categorical_accuracy_values(y_true, np.asarray(y_pred)).astype("float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """The share of the last axis where (y_pred > threshold) equals y_true, per sample."""
    return _binary_accuracy_values(y_true, np.asarray(y_pred), threshold).astype("float32")


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)^2) over the last axis, per sample."""
    return _mse_values(y_true, np.asarray(y_pred))


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis, per sample."""
    return _mae_values(y_true, np.asarray(y_pred))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (one-hot) is among the k largest predictions, per sample."""
    return _top_k_values(y_true, np.asarray(y_pred), k).astype("float32")


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k largest predictions, per sample."""
    return _sparse_top_k_values(y_true, np.asarray(y_pred), k).astype("float32")


# -- metric objects ---------------------------------------------------------------------------
class Metric:
    """Base class: running state, ``update_state``, ``result``, ``reset_state``.

    ``_direction`` ("up" or "down") tells the callbacks' ``mode="auto"`` whether a
    larger value is better, as in Keras."""
    _direction = "up"
    _state = ()                    # the attribute names of the running state

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype or "float32"
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Keras's ``metric(y_true, y_pred)``: update the state, return the result."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def fresh(self):
        """A copy with its state reset (what one fit or evaluate accumulates into)."""
        other = copy.copy(self)
        other.reset_state()
        return other

    def assign_state(self, other):
        """Take ``other``'s running state (a ``fresh`` copy, after a run)."""
        for key in self._state:
            value = getattr(other, key)
            setattr(self, key, value.copy() if isinstance(value, np.ndarray) else value)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name):
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return {"a_u_c": "auc", "mean_metric_wrapper": "mean_metric_wrapper"}.get(out, out)


class Mean(Metric):
    """The (weighted) mean of the values it is given: sum(v * w) / sum(w)."""
    _state = ("total", "count")

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
            return
        w = np.broadcast_to(_expand_weight(sample_weight, values), values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


def _expand_weight(sample_weight, values):
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == values.ndim + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    return w.reshape(w.shape + (1,) * (values.ndim - w.ndim))


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred)`` (one value per sample)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"),
                         dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class CategoricalAccuracy(MeanMetricWrapper):
    """The share of samples whose argmax prediction is the one-hot label's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(_categorical_accuracy_values, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """The share of samples whose argmax prediction is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(_sparse_categorical_accuracy_values, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """The share of outputs where (y_pred > threshold) equals the 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(_binary_accuracy_values, name=name, dtype=dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Is the one-hot target among the ``k`` highest scores (ties count as in)?"""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(_top_k_values, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Is the integer target among the ``k`` highest scores (ties count as in)?"""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(_sparse_top_k_values, name=name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of (y_pred - y_true)^2 over every sample seen."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_mse_values, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of |y_pred - y_true| over every sample seen."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_mae_values, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _flat_predictions(y_true, y_pred, sample_weight):
    """Labels as 0/1 and scores, every element pooled (Keras's non-multi-label
    confusion counts), with the sample weights spread over each sample's elements."""
    y_pred = np.asarray(y_pred, dtype=np.float32)
    t = np.asarray(y_true)
    if t.size == y_pred.size:
        t = t.reshape(y_pred.shape)
    labels = (t != 0).astype(np.float32).reshape(-1)
    w = None
    if sample_weight is not None:
        w = np.broadcast_to(_expand_weight(sample_weight, y_pred), y_pred.shape)
        w = w.astype(np.float32).reshape(-1)
    return labels, y_pred, w


class _ConfusionMetric(Metric):
    """True/false positives (and negatives) at fixed thresholds: ``y_pred >
    threshold`` is a positive, a nonzero label a positive label."""
    _state = ("true_positives", "false_positives", "false_negatives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = [0.5 if top_k is None else -np.inf] if thresholds is None else (
            list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray))
            else [thresholds])
        self.top_k, self.class_id = top_k, class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n, np.float32)
        self.false_positives = np.zeros(n, np.float32)
        self.false_negatives = np.zeros(n, np.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float32)
        y_true = np.asarray(y_true)
        if y_true.size == y_pred.size:
            y_true = y_true.reshape(y_pred.shape)
        if self.top_k is not None:
            order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :self.top_k]
            keep = np.zeros(y_pred.shape, bool)
            np.put_along_axis(keep, order, True, axis=-1)
            y_pred = np.where(keep, y_pred, np.float32(-np.inf))
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        labels, scores, w = _flat_predictions(y_true, y_pred, sample_weight)
        scores = scores.reshape(-1)
        weights = np.ones_like(labels) if w is None else w
        thresholds = np.asarray(self.thresholds, np.float32)[:, None]
        positive = scores[None, :] > thresholds
        self.true_positives += (positive * (labels * weights)).sum(axis=1, dtype=np.float32)
        self.false_positives += (positive * ((1 - labels) * weights)).sum(axis=1,
                                                                            dtype=np.float32)
        self.false_negatives += (~positive * (labels * weights)).sum(axis=1, dtype=np.float32)

    def _finish(self, values):
        return float(values[0]) if len(values) == 1 else [float(v) for v in values]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return np.where(b == 0, np.float32(0), a / np.where(b == 0, np.float32(1), b))


class Precision(_ConfusionMetric):
    """TP / (TP + FP) over everything seen (0 when nothing was predicted positive)."""

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_positives))


class Recall(_ConfusionMetric):
    """TP / (TP + FN) over everything seen (0 when there was no positive label)."""

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC (or precision-recall) curve of a binary problem, from
    confusion counts at ``num_thresholds`` thresholds (Keras's default 200,
    evenly spaced in [0, 1] plus -eps and 1+eps) summed with Keras's
    "interpolation" (trapezoids for ROC, Davis & Goadrich for PR), "minoring"
    or "majoring" rule. Every element of y_pred counts as one prediction."""
    _state = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if multi_label or num_labels is not None or label_weights is not None:
            raise ValueError("minicnn's AUC handles binary problems only (multi_label=False, "
                             "no num_labels or label_weights)")
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: '
                             f"['ROC', 'PR']")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}".'
                             f" Expected one of: ['interpolation', 'minoring', 'majoring']")
        self._init_thresholds = thresholds
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(float(t) for t in thresholds)
            grid = np.array([0.0] + inner + [1.0])
            self._evenly = bool(len(grid) > 2 and np.allclose(
                grid, np.linspace(0, 1, len(grid)), atol=EPSILON))   # Keras's test
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.from_logits = False, bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        for key in self._state:
            setattr(self, key, np.zeros(self.num_thresholds, np.float32))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float32)
        if self.from_logits:
            y_pred = (1 / (1 + np.exp(-y_pred))).astype(np.float32)
        labels, scores, w = _flat_predictions(y_true, y_pred, sample_weight)
        scores = scores.reshape(-1)
        weights = np.ones_like(labels) if w is None else w
        true_labels, false_labels = labels * weights, (1 - labels) * weights
        n = self.num_thresholds
        if self._evenly:        # Keras's bucketed update (thresholds with epsilon ends)
            clipped = np.clip(scores, np.float32(0), np.float32(1))
            buckets = np.maximum(np.ceil(clipped * (np.float32(n) - 1)) - 1, 0).astype(np.int64)
            tp = np.bincount(buckets, true_labels, minlength=n)[::-1].cumsum()[::-1]
            fp = np.bincount(buckets, false_labels, minlength=n)[::-1].cumsum()[::-1]
        else:
            positive = scores[None, :] > self._thresholds.astype(np.float32)[:, None]
            tp = (positive * true_labels).sum(axis=1)
            fp = (positive * false_labels).sum(axis=1)
        tp, fp = tp.astype(np.float32), fp.astype(np.float32)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += np.float32(false_labels.sum(dtype=np.float32)) - fp
        self.false_negatives += np.float32(true_labels.sum(dtype=np.float32)) - tp

    def _interpolate_pr_auc(self):
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where((p[:n - 1] > 0) & (p[1:] > 0),
                             _divide_no_nan(p[:n - 1], np.maximum(p[1:], 0)), np.float32(1))
        terms = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                               np.maximum(tp[1:] + fn[1:], 0))
        return float(terms.sum(dtype=np.float32))

    def result(self):
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / np.float32(2)
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:n - 1], y[1:])
        else:
            heights = np.maximum(y[:n - 1], y[1:])
        return float(((x[:n - 1] - x[1:]) * heights).sum(dtype=np.float32))

    def get_config(self):
        return {"num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "name": self.name,
                "dtype": self.dtype, "thresholds": self._init_thresholds,
                "multi_label": False, "from_logits": self.from_logits}


# -- compile's metrics -------------------------------------------------------------------
_CLASSES = {cls.__name__: cls for cls in (
    Mean, CategoricalAccuracy, SparseCategoricalAccuracy, BinaryAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, Precision, Recall, AUC)}

# Strings compile accepts (Keras's function names, and its classes' snake-case names).
_NAMES = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC,
}


def get(identifier):
    """A metric object from a name ("auc", "AUC", "top_k_categorical_accuracy"), a
    metric class, an instance, or a plain function ``fn(y_true, y_pred)`` -> one
    value per sample (wrapped in ``MeanMetricWrapper``)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"unknown metric {identifier!r}; expected 'accuracy' (or 'acc'), a "
                     f"minicnn.metrics.Metric or one of {sorted(_NAMES)}")


def resolve(metric, loss):
    """``(name, metric object)`` for compile. "accuracy" / "acc" become the accuracy
    that fits the loss (sparse, binary or categorical) and keep the name given,
    as Keras names them; a string names its metric by that string, an object by
    its ``name``."""
    if isinstance(metric, str) and metric in ("accuracy", "acc"):
        cls = {"sparse_categorical_crossentropy": SparseCategoricalAccuracy,
               "binary_crossentropy": BinaryAccuracy}.get(loss.key, CategoricalAccuracy)
        return metric, cls(name=metric)
    obj = get(metric)
    if isinstance(metric, str):
        obj.name = metric
    return obj.name, obj


def direction(model, name):
    """"up", "down" or None: whether a larger value of the logged metric ``name``
    (without its ``val_`` or output prefix) is better, from the model's metrics."""
    if name == "loss" or name.endswith("_loss"):
        return "down"
    entries = list(getattr(model, "metrics", None) or []) + \
        list(getattr(model, "weighted_metrics", None) or [])
    outputs = getattr(model, "output_metrics", None) if len(
        getattr(model, "outputs", [])) > 1 else None
    names = getattr(model, "output_names", None) if outputs else None
    for name_, obj in entries:
        if name_ == name:
            return getattr(obj, "_direction", None)
    if outputs:
        for output, metrics in zip(names, outputs):
            for name_, obj in metrics:
                if f"{output}_{name_}" == name:
                    return getattr(obj, "_direction", None)
    return None
