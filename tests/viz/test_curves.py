"""plot_history and the confusion matrix."""
import numpy as np
import pytest

from minicnn import viz
from minicnn.callbacks import History

from .conftest import assert_not_blank


def test_plot_history_draws_training_and_validation():
    history = History()
    history.history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.6, 0.8, 0.9],
                       "val_loss": [0.9, 0.6, 0.5], "val_accuracy": [0.65, 0.75, 0.8]}
    fig = viz.plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    train, val = fig.axes[0].lines
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), [1.0, 0.5, 0.3])
    np.testing.assert_array_equal(val.get_ydata(), [0.9, 0.6, 0.5])
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["training",
                                                                             "validation"]
    assert_not_blank(fig)
    only_train = viz.plot_history({"loss": [2.0, 1.0]})
    assert len(only_train.axes) == 1 and len(only_train.axes[0].lines) == 1
    with pytest.raises(ValueError, match="non-empty dict"):
        viz.plot_history({})


def test_confusion_matrix_counts():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 2, 0]
    np.testing.assert_array_equal(viz.confusion_matrix(y_true, y_pred),
                                  [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    scores = np.eye(4)[[0, 1, 1, 2, 2, 0]]                   # probabilities, 4 classes
    counts = viz.confusion_matrix(np.eye(4)[y_true], scores)
    assert counts.shape == (4, 4) and counts.sum() == 6 and np.trace(counts) == 4
    with pytest.raises(ValueError, match="same number of samples"):
        viz.confusion_matrix([0, 1], [0])


def test_plot_confusion_matrix(tmp_path):
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 2, 0]
    fig = viz.plot_confusion_matrix(y_true, y_pred, ["cat", "dog", "owl"],
                                    save=tmp_path / "cm.png")
    ax = fig.axes[0]
    assert ax.get_title() == "confusion matrix (accuracy 0.667)"
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "0", "1", "0", "1", "0", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    assert (tmp_path / "cm.png").stat().st_size > 1000
    assert_not_blank(fig)
    rows = viz.plot_confusion_matrix(y_true, y_pred, normalize=True).axes[0]
    assert [t.get_text() for t in rows.texts][6:] == ["0.33", "0.00", "0.67"]
