"""Training curves and the confusion matrix."""
import numpy as np

from ._display import finish, new_figure


def plot_history(history, save=None):
    """Loss and metric curves per epoch, training and validation side by side.

    ``history``: the ``History`` that ``fit`` returns, or its ``.history``
    dict (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).
    One panel per quantity; the validation curve (``val_`` + name) is drawn
    dashed in the same panel when it exists. Returns the Figure.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"plot_history expects a History or a non-empty dict of lists, "
                         f"received {type(history).__name__}")
    names = [k for k in logs if not k.startswith("val_")]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
    fig = new_figure(4.2 * len(names), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names):
        for key, style, label in ((name, "o-", "training"), ("val_" + name, "s--", "validation")):
            if key in logs:
                values = np.asarray(logs[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, style, label=label, markersize=4)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return finish(fig, save)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts (classes, classes): row = true class, column = predicted class.

    ``y_pred`` may be labels (N,) or scores (N, classes), which are argmax-ed;
    ``y_true`` may be labels or one-hot rows.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2:
        num_classes = num_classes or y_pred.shape[1]
        y_pred = y_pred.argmax(axis=1)
    if y_true.ndim == 2:
        y_true = y_true.argmax(axis=1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred need the same number of samples, received "
                         f"shapes {y_true.shape} and {y_pred.shape}")
    y_true, y_pred = y_true.astype(int), y_pred.astype(int)
    num_classes = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)                    # one count per (true, pred)
    return counts


def plot_confusion_matrix(y_true, y_pred, class_names=None, normalize=False, save=None):
    """Draw ``confusion_matrix`` with the counts (or row fractions) written in.

    ``normalize=True`` divides each row by its total, so the diagonal is the
    recall of each class. The title gives the overall accuracy.
    """
    n = len(class_names) if class_names is not None else None
    counts = confusion_matrix(y_true, y_pred, n)
    k = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(c) for c in range(k)]
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    fig = new_figure(1.0 + 0.55 * k, 0.8 + 0.5 * k)
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8)
    high = values.max() / 2
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(counts[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] > high else "black")
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.3f})", fontsize=10)
    return finish(fig, save)
