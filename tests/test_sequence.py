"""pad_sequences against Keras's, every padding/truncating choice."""
import numpy as np
import pytest

from minicnn.preprocessing.sequence import pad_sequences

keras = pytest.importorskip("keras")

SEQUENCES = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [], [11]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4, 7])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    ours = pad_sequences(SEQUENCES, **kwargs)
    theirs = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_float_values_and_errors():
    out = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=0.25)
    np.testing.assert_array_equal(out, [[0.5, 1.5], [0.25, 2.5]])
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="non-iterable at index 1"):
        pad_sequences([[1], 2])
