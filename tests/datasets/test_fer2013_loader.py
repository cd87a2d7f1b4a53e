"""FER-2013 CSV loader: both layouts, splits, and line-numbered errors."""
import re

import numpy as np
import pytest

from minicnn.datasets import fer2013


def _faces(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 48, 48)).astype(np.uint8), rng.integers(0, 7, n)


def _pixels(img):
    return " ".join(str(v) for v in img.ravel())


def _write_kaggle(path, x, y, usage, extra_lines=()):
    lines = ["emotion,pixels,Usage"]
    lines += [f"{label},{_pixels(img)},{use}" for img, label, use in zip(x, y, usage)]
    lines += list(extra_lines)
    path.write_text("\n".join(lines) + "\n")


def test_class_names():
    assert fer2013.CLASS_NAMES == ("angry", "disgust", "fear", "happy",
                                   "sad", "surprise", "neutral")


def test_kaggle_csv_split_by_usage(tmp_path):
    x, y = _faces(9)
    usage = ["Training", "PublicTest", "Training", "PrivateTest", "Training",
             "PublicTest", "Training", "PrivateTest", "Training"]
    path = tmp_path / "fer2013.csv"
    _write_kaggle(path, x, y, usage)
    (x_train, y_train), (x_test, y_test) = fer2013.load_data(path)
    train = np.array([u == "Training" for u in usage])
    assert x_train.shape == (5, 48, 48) and x_train.dtype == np.uint8
    assert x_test.shape == (4, 48, 48) and y_test.dtype == np.uint8
    assert np.array_equal(x_train, x[train]) and np.array_equal(y_train, y[train])
    assert np.array_equal(x_test, x[~train]) and np.array_equal(y_test, y[~train])
    # the same file found through its directory
    (a, b), (c, d) = fer2013.load_data(tmp_path)
    assert np.array_equal(a, x_train) and np.array_equal(d, y_test)
    # read_csv keeps the Usage column
    xa, ya, usage_read = fer2013.read_csv(path)
    assert usage_read.tolist() == usage and np.array_equal(xa, x)


def test_pixel_order_is_row_major(tmp_path):
    img = np.arange(2304).reshape(48, 48) % 256
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n3," + _pixels(img) + ",Training\n")
    (x_train, y_train), (x_test, y_test) = fer2013.load_data(path)
    assert x_train[0, 0, :3].tolist() == [0, 1, 2]
    assert x_train[0, 1, 0] == 48 and x_train[0, 47, 47] == 2303 % 256
    assert y_train.tolist() == [3] and x_test.shape == (0, 48, 48)


def test_windows_line_endings_and_quotes(tmp_path):
    x, y = _faces(2)
    path = tmp_path / "fer2013.csv"
    text = "emotion,pixels,Usage\r\n" + "".join(
        f'{label},"{_pixels(img)}",Training\r\n' for img, label in zip(x, y))
    path.write_bytes(text.encode())
    (x_train, y_train), _ = fer2013.load_data(path)
    assert np.array_equal(x_train, x) and np.array_equal(y_train, y)


def test_old_two_file_layout(tmp_path):
    x, y = _faces(6, seed=1)
    xt, _ = _faces(3, seed=2)
    (tmp_path / "train.csv").write_text(
        "Emotion,Pixels\n" + "".join(f"{c},{_pixels(i)}\n" for i, c in zip(x, y)))
    (tmp_path / "test.csv").write_text("Pixels\n" + "".join(f"{_pixels(i)}\n" for i in xt))
    for source in (tmp_path, tmp_path / "train.csv"):
        (x_train, y_train), (x_test, y_test) = fer2013.load_data(source)
        assert np.array_equal(x_train, x) and np.array_equal(y_train, y)
        assert np.array_equal(x_test, xt) and x_test.shape == (3, 48, 48)
        assert y_test is None


def test_old_layout_needs_test_file(tmp_path):
    x, y = _faces(1)
    (tmp_path / "train.csv").write_text(f"Emotion,Pixels\n{y[0]},{_pixels(x[0])}\n")
    with pytest.raises(FileNotFoundError, match="test.csv"):
        fer2013.load_data(tmp_path / "train.csv")


def _bad_row_message(tmp_path, row, line_offset=0):
    x, y = _faces(3)
    good = [f"{label},{_pixels(img)},Training" for img, label in zip(x, y)]
    path = tmp_path / "fer2013.csv"
    _write_kaggle(path, [], [], [], good[:2] + [""] * line_offset + [row] + good[2:])
    with pytest.raises(ValueError) as err:
        fer2013.load_data(path)
    return str(err.value), str(path)


def test_short_pixel_list_names_file_and_line(tmp_path):
    img = np.zeros(2303, dtype=int)
    message, path = _bad_row_message(tmp_path, "2," + _pixels(img) + ",Training")
    assert message == f"fer2013: {path} line 4: expected 2304 pixels, received 2303"


def test_blank_lines_still_count(tmp_path):
    img = np.zeros(2305, dtype=int)
    message, _ = _bad_row_message(tmp_path, "2," + _pixels(img) + ",Training", line_offset=2)
    assert re.search(r"line 6: expected 2304 pixels, received 2305$", message)


def test_non_integer_pixel(tmp_path):
    tokens = ["7"] * 2304
    tokens[10] = "12.5"
    message, _ = _bad_row_message(tmp_path, "1," + " ".join(tokens) + ",Training")
    assert message.endswith("line 4: pixel 11 is not an integer: '12.5'")
    tokens[10] = "x"
    message, _ = _bad_row_message(tmp_path, "1," + " ".join(tokens) + ",Training")
    assert message.endswith("line 4: pixel 11 is not an integer: 'x'")


def test_pixel_out_of_range(tmp_path):
    tokens = ["7"] * 2304
    tokens[0] = "256"
    message, _ = _bad_row_message(tmp_path, "1," + " ".join(tokens) + ",Training")
    assert message.endswith("line 4: pixel 1 is out of range 0..255: 256")
    tokens[0] = "-1"
    message, _ = _bad_row_message(tmp_path, "1," + " ".join(tokens) + ",Training")
    assert message.endswith("line 4: pixel 1 is out of range 0..255: -1")


def test_bad_label_and_usage(tmp_path):
    pixels = " ".join(["0"] * 2304)
    message, _ = _bad_row_message(tmp_path, f"7,{pixels},Training")
    assert message.endswith("line 4: emotion must be in 0..6, received 7")
    message, _ = _bad_row_message(tmp_path, f"happy,{pixels},Training")
    assert message.endswith("line 4: emotion must be an integer 0..6, received 'happy'")
    message, _ = _bad_row_message(tmp_path, f"3,{pixels},Validation")
    assert "line 4: Usage must be one of" in message
    message, _ = _bad_row_message(tmp_path, f"3,{pixels}")
    assert message.endswith("line 4: expected 3 comma-separated fields "
                            "(emotion,pixels,usage), received 2")


def test_bad_header_and_missing_file(tmp_path):
    path = tmp_path / "faces.csv"
    path.write_text("label,image\n0,1 2 3\n")
    with pytest.raises(ValueError, match=r"faces.csv line 1: expected a header"):
        fer2013.load_data(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        fer2013.load_data(tmp_path / "absent.csv")
    with pytest.raises(FileNotFoundError, match="neither fer2013.csv nor train.csv"):
        fer2013.load_data(tmp_path)


# ---------------------------------------------------------------------------
# issue 11, defect 11: messages for hostile files
# ---------------------------------------------------------------------------
HUGE = 10_000_000


@pytest.mark.parametrize("text", [
    "x" * HUGE,                                                 # one line, no header at all
    "emotion,pixels,Usage\n0," + "9" * HUGE + ",Training\n",    # one giant pixel token
    "emotion,pixels,Usage\n0," + "1 " * 2304 + ",T" + "r" * HUGE + "\n",   # giant Usage
    "emotion,pixels,Usage\n" + "7" * HUGE + "," + "1 " * 2304 + ",Training\n",  # giant label
], ids=["header", "pixel", "usage", "label"])
def test_a_giant_line_is_not_echoed_whole(tmp_path, text):
    path = tmp_path / "huge.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        fer2013.load_data(path)
    message = str(info.value)
    assert str(path) in message and len(message) < 400, message[:400]
    assert "characters)" in message                 # says how long the cut text was


@pytest.mark.parametrize("content", [
    "emotion,pixels,Usage\n0,".encode() + "caf\xe9 ".encode("latin-1") * 5 + b",Training\n",
    bytes(range(256)) * 40,                          # binary
    b"\xff\xfe" + "emotion,pixels,Usage\n".encode("utf-16-le"),
], ids=["latin-1", "binary", "utf-16"])
def test_a_file_that_is_not_utf8_text_names_the_file(tmp_path, content):
    path = tmp_path / "faces.csv"
    path.write_bytes(content)
    for load in (fer2013.load_data, fer2013.read_csv):
        with pytest.raises(ValueError, match=r"faces\.csv is not a UTF-8 text CSV file"):
            load(path)


def test_a_byte_order_mark_is_skipped(tmp_path):
    x, y = _faces(2)
    path = tmp_path / "fer2013.csv"
    _write_kaggle(path, x, y, ["Training", "PublicTest"])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())       # as spreadsheets export it
    (x_train, y_train), (x_test, _) = fer2013.load_data(path)
    assert np.array_equal(x_train, x[:1]) and np.array_equal(x_test, x[1:])


def test_a_kaggle_csv_without_training_rows_raises(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n")
    with pytest.raises(ValueError, match=r"fer2013\.csv has no Training rows \(0 rows"):
        fer2013.load_data(path)
    x, y = _faces(3)
    _write_kaggle(path, x, y, ["PublicTest", "PrivateTest", "PublicTest"])
    with pytest.raises(ValueError, match=r"no Training rows \(3 rows in all, 3 of them test"):
        fer2013.load_data(path)


def test_an_old_train_csv_without_rows_raises(tmp_path):
    (tmp_path / "train.csv").write_text("Emotion,Pixels\n")
    (tmp_path / "test.csv").write_text("Pixels\n")
    with pytest.raises(ValueError, match=r"train\.csv has a header but no rows"):
        fer2013.load_data(tmp_path)


def test_a_csv_with_only_training_rows_gives_an_empty_test_set(tmp_path):
    x, y = _faces(2)
    path = tmp_path / "fer2013.csv"
    _write_kaggle(path, x, y, ["Training", "Training"])
    (x_train, _), (x_test, y_test) = fer2013.load_data(path)
    assert len(x_train) == 2 and x_test.shape == (0, 48, 48) and len(y_test) == 0
