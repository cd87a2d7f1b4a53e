"""``keras.utils.image_dataset_from_directory``: a folder of class sub-folders
-> batches of (images, labels) for ``fit``.

    photos/                      train, val = minicnn.utils.image_dataset_from_directory(
      cats/ a.png b.jpg ...          "photos", image_size=(64, 64), batch_size=32,
      dogs/ c.png ...                validation_split=0.2, subset="both", seed=1)
                                 model.fit(train, epochs=5, validation_data=val)

Keras's rules (keras/src/utils/image_dataset_utils.py and dataset_utils.py):
class names are the sorted sub-folder names (hidden ones skipped), files are
walked in sorted order per class (.bmp .gif .jpeg .jpg .png, any case), the
list is shuffled once with ``np.random.RandomState(seed)`` (paths and labels
alike), and a ``validation_split`` keeps the last ``int(split * n)`` files for
validation and the rest for training, so the same seed gives complementary
subsets. Images are decoded with Pillow (converted to RGB, RGBA or L like
Keras's own Pillow path) and resized as ``tf.image.resize`` does (bilinear or
nearest, half-pixel centres), float32 in [0, 255]. Labels: "int" (int32),
"categorical" (one-hot float32), "binary" (float32 (n, 1)), or None (images only).

The dataset object has ``len()`` batches, ``ds[i]``, one epoch per ``iter()``,
``class_names`` and ``file_paths``; with ``shuffle`` each epoch visits the
files in a new order drawn from the seed (``on_epoch_end`` moves to the next
epoch's order). Files are read batch by batch, as needed.
"""
import os

import numpy as np

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def _index_directory(directory, labels, class_names, shuffle, seed, follow_links,
                     verbose=True):
    """Keras's ``index_directory``: (file paths, labels or None, class names)."""
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(f"The `class_names` passed did not match the names of the "
                                 f"subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError("`class_names` can only be passed with labels=\"inferred\"")
    class_indices = {name: i for i, name in enumerate(subdirs)}
    filenames, found = [], []
    for subdir in subdirs:
        folder = os.path.join(directory, subdir)
        dirname = os.path.basename(folder)
        walk = sorted(os.walk(folder, followlinks=follow_links), key=lambda t: t[0])
        for root, _, files in walk:
            for fname in sorted(files):
                if fname.lower().endswith(ALLOWLIST_FORMATS):
                    found.append(class_indices[dirname])
                    filenames.append(os.path.join(
                        dirname, os.path.relpath(os.path.join(root, fname), folder)))
    if labels == "inferred":
        labels = np.array(found, dtype="int32")
    elif labels is None:
        subdirs = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files "
                             f"in the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        subdirs = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if not verbose:
        pass
    elif labels is None:
        print(f"Found {len(filenames)} files.")
    else:
        print(f"Found {len(filenames)} files belonging to {len(subdirs)} classes.")
    paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, subdirs


def _split(paths, labels, validation_split, subset):
    """Keras's ``get_training_or_validation_split``: the last int(split * n) validate."""
    if not validation_split:
        return paths, labels
    num_val = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - num_val} files for training.")
        part = slice(None, -num_val)
    else:
        print(f"Using {num_val} files for validation.")
        part = slice(-num_val, None)
    return paths[part], (None if labels is None else labels[part])


def load_image_file(path, image_size, color_mode="rgb", interpolation="bilinear",
                    crop_to_aspect_ratio=False):
    """One file -> float32 (height, width, channels), as the dataset reads it. A file
    Pillow cannot decode raises a ValueError naming it."""
    from PIL import Image

    from .layers.preprocessing import _CropResize, aspect_crop_box
    try:
        with Image.open(path) as img:
            img.load()
            mode = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}[color_mode]
            if not (color_mode == "grayscale" and img.mode in ("L", "I;16", "I")) \
                    and img.mode != mode:
                img = img.convert(mode)
            x = np.array(img, dtype=np.float32)
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"image_dataset_from_directory: cannot decode {path} as an image "
                         f"({err})") from err
    if x.ndim == 2:
        x = x[:, :, None]
    h, w = x.shape[:2]
    box = aspect_crop_box(h, w, *image_size) if crop_to_aspect_ratio else (0, 0, h, w)
    return _CropResize(box, image_size, interpolation).forward(x[None])[0]


class ImageDataset:
    """Batches of (images, labels) read from files; see the module docstring. It has
    what ``fit`` reads from a ``PyDataset`` (``len``, ``ds[i]``, ``on_epoch_end``)."""

    def __init__(self, file_paths, labels, label_mode, class_names, batch_size, image_size,
                 color_mode, interpolation, crop_to_aspect_ratio, shuffle, seed):
        self.file_paths = list(file_paths)
        self.labels = labels
        self.label_mode = label_mode
        self.class_names = class_names
        self.batch_size = batch_size
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.shuffle = shuffle
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._order = None
        self.on_epoch_end()

    def on_epoch_end(self):
        """Draw the next epoch's order (with ``shuffle``)."""
        n = len(self.file_paths)
        self._order = self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def _labels(self, rows):
        y = self.labels[rows]
        if self.label_mode == "int":
            return y.astype("int32")
        if self.label_mode == "binary":
            return y.astype("float32").reshape(-1, 1)
        one_hot = np.zeros((len(rows), len(self.class_names)), dtype="float32")
        one_hot[np.arange(len(rows)), y] = 1
        return one_hot

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a dataset of {len(self)} batches")
        size = 1 if self.batch_size is None else self.batch_size
        rows = self._order[index * size:(index + 1) * size]
        x = np.stack([load_image_file(self.file_paths[i], self.image_size, self.color_mode,
                                      self.interpolation, self.crop_to_aspect_ratio)
                      for i in rows])
        if self.batch_size is None:                       # unbatched: one image per item
            x = x[0]
        if self.label_mode is None:
            return x
        y = self._labels(rows)
        return x, (y[0] if self.batch_size is None else y)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_begin(self):
        """Called by ``fit`` at the start of every epoch (nothing to do)."""


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """A dataset of image batches from ``directory/<class>/<files>`` (Keras's
    arguments and rules; see the module docstring). ``subset="both"`` returns
    (training, validation)."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the "
                         f"same size as the number of image files in the target directory, "
                         f"\"inferred\" or None. Received: labels={labels}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if labels is None or label_mode is None:
        labels = label_mode = None
    if color_mode not in _CHANNELS:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"image_dataset_from_directory: minicnn supports interpolation="
                         f"'bilinear' or 'nearest', received interpolation={interpolation!r}")
    if pad_to_aspect_ratio:
        raise ValueError("image_dataset_from_directory: minicnn does not support "
                         "pad_to_aspect_ratio=True")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"minicnn supports data_format='channels_last' only, received "
                         f"data_format={data_format!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, to make sure that there is no overlap "
                         "between the training and validation subset.")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = _index_directory(directory, labels, class_names, shuffle,
                                                  seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def dataset(part_paths, part_labels, part_shuffle, what="images"):
        if not part_paths:
            raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                             f"{ALLOWLIST_FORMATS}")
        return ImageDataset(part_paths, part_labels, label_mode, class_names, batch_size,
                            image_size, color_mode, interpolation, crop_to_aspect_ratio,
                            part_shuffle, seed)
    if subset == "both":
        train = _split(paths, labels, validation_split, "training")
        val = _split(paths, labels, validation_split, "validation")
        return [dataset(*train, shuffle, "training images"),
                dataset(*val, False, "validation images")]
    paths, labels = _split(paths, labels, validation_split, subset)
    return dataset(paths, labels, shuffle)


__all__ = ["image_dataset_from_directory", "ImageDataset", "load_image_file"]
