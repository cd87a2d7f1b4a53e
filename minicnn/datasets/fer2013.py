"""FER-2013 facial expressions (Kaggle), 48x48 grayscale faces in 7 classes.

The data is not shipped with minicnn (its licence does not allow it); download
it from Kaggle and point ``load_data`` at it. Two layouts are understood:

1. ``fer2013.csv`` (the "Challenges in Representation Learning: Facial
   Expression Recognition" release, 35,887 rows)::

       emotion,pixels,Usage
       0,70 80 82 72 58 ... (2,304 numbers),Training

   ``Usage`` is Training (28,709 rows), PublicTest (3,589) or PrivateTest
   (3,589). ``load_data`` returns Training as the training set and
   PublicTest + PrivateTest, in file order, as the test set. Use
   ``read_csv`` to get the Usage column and split differently (for example
   PublicTest as validation).

2. The older two-file layout: ``train.csv`` with header ``Emotion,Pixels`` and
   ``test.csv`` with header ``Pixels`` (no labels; then ``y_test`` is None).

Labels (the order of ``CLASS_NAMES``): 0 angry, 1 disgust, 2 fear, 3 happy,
4 sad, 5 surprise, 6 neutral. Images come back as uint8 arrays (N, 48, 48),
labels as uint8 arrays (N,).
"""
import os
import warnings

import numpy as np

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
IMAGE_SIZE = 48
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE                     # 2304
USAGES = ("Training", "PublicTest", "PrivateTest")


def load_data(path):
    """Load FER-2013 as ``(x_train, y_train), (x_test, y_test)``.

    ``path`` may be the Kaggle ``fer2013.csv``, a directory containing it (or
    containing ``train.csv`` and ``test.csv``), or the path of an old-style
    ``train.csv`` (its sibling ``test.csv`` is read too). In the Kaggle
    layout the test set is PublicTest followed by PrivateTest rows in file
    order; in the old layout ``y_test`` is None when ``test.csv`` has no labels.

    Raises ``FileNotFoundError`` for missing files and ``ValueError`` naming
    the file and line number for a malformed row, and naming the file when it
    is not UTF-8 text or holds no training rows.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        kaggle = os.path.join(path, "fer2013.csv")
        if os.path.isfile(kaggle):
            return _split_by_usage(kaggle)
        train = os.path.join(path, "train.csv")
        if os.path.isfile(train):
            return _load_two_files(train)
        raise FileNotFoundError(f"fer2013: directory {path} contains neither "
                                "fer2013.csv nor train.csv")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fer2013: no such file: {path}")
    if "usage" in _header(path):
        return _split_by_usage(path)
    return _load_two_files(path)


def read_csv(path):
    """Read one FER CSV file into ``(x, y, usage)``.

    ``x`` is uint8 (N, 48, 48); ``y`` uint8 (N,) or None when the file has no
    emotion column; ``usage`` an array of strings or None when the file has no
    Usage column. Column names are matched case-insensitively; the pixel
    column is required.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fer2013: no such file: {path}")
    rows, labels, usages = [], [], []
    number = 1
    with _open_text(path) as f, warnings.catch_warnings():
        # np.fromstring warns when it stops at a token it cannot read; make that an error
        warnings.simplefilter("error", DeprecationWarning)
        try:
            names = _parse_header(path, f.readline())
            i_pix, i_emo, i_use = (_column(names, c) for c in ("pixels", "emotion", "usage"))
            for number, line in enumerate(f, start=2):      # 1-based; the header is line 1
                if not line.strip():
                    continue                                # blank line (e.g. at the end)
                fields = [field.strip().strip('"') for field in line.split(",")]
                if len(fields) != len(names):
                    _fail(path, number, f"expected {len(names)} comma-separated fields "
                                        f"({','.join(names)}), received {len(fields)}")
                rows.append(_parse_pixels(path, number, fields[i_pix]))
                if i_emo is not None:
                    labels.append(_parse_label(path, number, fields[i_emo]))
                if i_use is not None:
                    if fields[i_use] not in USAGES:
                        _fail(path, number, f"Usage must be one of {USAGES}, "
                                            f"received {_quote(fields[i_use])}")
                    usages.append(fields[i_use])
        except UnicodeDecodeError as err:
            raise _not_text(path, err, number) from None

    x = np.array(rows, dtype=np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)  # (N, 2304) -> (N, 48, 48)
    y = np.array(labels, dtype=np.uint8) if i_emo is not None else None
    usage = np.array(usages) if i_use is not None else None
    return x, y, usage


# --------------------------------------------------------------------------
# the two layouts
# --------------------------------------------------------------------------
def _split_by_usage(path):
    x, y, usage = read_csv(path)
    if y is None or usage is None:
        raise ValueError(f"fer2013: {path} needs the columns emotion, pixels and Usage")
    train = usage == "Training"
    if not train.any():
        raise ValueError(f"fer2013: {path} has no Training rows ({len(usage)} rows in all, "
                         f"{len(usage) - int(train.sum())} of them test rows); there is "
                         f"nothing to train on")
    return (x[train], y[train]), (x[~train], y[~train])


def _load_two_files(train_path):
    x_train, y_train, _ = read_csv(train_path)
    if y_train is None:
        raise ValueError(f"fer2013: {train_path} has no Emotion column, "
                         "so it cannot be a training file")
    if len(y_train) == 0:
        raise ValueError(f"fer2013: {train_path} has a header but no rows; there is "
                         f"nothing to train on")
    test_path = os.path.join(os.path.dirname(train_path), "test.csv")
    if os.path.abspath(test_path) == os.path.abspath(train_path) or not os.path.isfile(test_path):
        raise FileNotFoundError(f"fer2013: expected the test file {test_path} next to "
                                f"{train_path}")
    x_test, y_test, _ = read_csv(test_path)
    return (x_train, y_train), (x_test, y_test)


# --------------------------------------------------------------------------
# parsing helpers
# --------------------------------------------------------------------------
def _fail(path, line_number, message):
    raise ValueError(f"fer2013: {path} line {line_number}: {message}")


def _open_text(path):
    # utf-8-sig: a byte-order mark (spreadsheet exports) is skipped, not read as a name
    return open(path, "r", encoding="utf-8-sig", newline=None)


def _not_text(path, err, line_number):
    """The error for a file that is not UTF-8 text (Latin-1, binary, ...)."""
    return ValueError(f"fer2013: {path} is not a UTF-8 text CSV file: byte "
                      f"0x{err.object[err.start]:02x} near line {line_number} cannot be "
                      f"decoded ({err.reason}); expected the Kaggle fer2013.csv")


def _header(path):
    with _open_text(path) as f:
        try:
            return _parse_header(path, f.readline())
        except UnicodeDecodeError as err:
            raise _not_text(path, err, 1) from None


def _parse_header(path, line):
    """Lower-cased column names of the header line; a 'pixels' column is required."""
    names = [name.strip().strip('"').lower() for name in line.strip().split(",")]
    if "pixels" not in names:
        _fail(path, 1, "expected a header with a 'pixels' column such as "
                       f"'emotion,pixels,Usage' or 'Emotion,Pixels', received "
                       f"{_quote(line.strip())}")
    return names


def _quote(text, limit=60):
    """``repr(text)``, cut to ``limit`` characters so one bad field cannot flood the error."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def _column(names, name):
    return names.index(name) if name in names else None


def _parse_label(path, line_number, text):
    try:
        label = int(text)
    except ValueError:
        _fail(path, line_number, f"emotion must be an integer 0..6, received {_quote(text)}")
    if not 0 <= label < len(CLASS_NAMES):
        _fail(path, line_number, f"emotion must be in 0..6, received {label}")
    return label


def _parse_pixels(path, line_number, text):
    """Turn a string of 2304 space-separated ints 0..255 into a uint8 (2304,) array.

    Fast path: ``np.fromstring`` parses the row in C. If the row is malformed
    ``_explain_bad_pixels`` re-reads it token by token to say what is wrong.
    """
    try:
        values = np.fromstring(text, dtype=np.int64, sep=" ")
    except (ValueError, DeprecationWarning):
        values = None
    if (values is None or values.size != N_PIXELS
            or values.min() < 0 or values.max() > 255):
        _explain_bad_pixels(path, line_number, text)
    return values.astype(np.uint8)


def _explain_bad_pixels(path, line_number, text):
    tokens = text.split()
    for position, token in enumerate(tokens, start=1):
        try:
            value = int(token)
        except ValueError:
            _fail(path, line_number, f"pixel {position} is not an integer: {_quote(token)}")
        if not 0 <= value <= 255:
            _fail(path, line_number, f"pixel {position} is out of range 0..255: {value}")
    if len(tokens) != N_PIXELS:
        _fail(path, line_number, f"expected {N_PIXELS} pixels, received {len(tokens)}")
    _fail(path, line_number, "cannot parse the pixel list")   # pragma: no cover
