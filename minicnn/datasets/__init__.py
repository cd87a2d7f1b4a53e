"""Datasets and data helpers for minicnn.

* ``mnist``           - handwritten digits, shipped with the package
                        (``mnist.load_data()`` like ``keras.datasets.mnist``),
* ``fer2013``         - the Kaggle facial-expression CSV (bring your own copy),
* ``synthetic_faces`` - procedurally drawn 48x48 faces with the same seven
                        expressions, for experiments without FER-2013,
* utilities: ``to_categorical``, ``train_val_split``, ``batches``,
  ``rgb_to_gray``, ``resize``, ``load_image``.
"""
from . import fer2013, mnist, synthetic_faces
from .utils import batches, load_image, resize, rgb_to_gray, to_categorical, train_val_split

__all__ = ["mnist", "fer2013", "synthetic_faces", "to_categorical", "train_val_split",
           "batches", "rgb_to_gray", "resize", "load_image"]
