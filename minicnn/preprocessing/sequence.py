"""``keras.preprocessing.sequence`` / ``keras.utils.pad_sequences``: equal-length
sequences of word ids, as the chapters' Conv1D text model reads them."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """A list of sequences -> an array (len(sequences), maxlen).

    Shorter sequences are filled with ``value`` before (``padding="pre"``, the
    default) or after ("post"); longer ones lose their first (``truncating=
    "pre"``) or last ("post") items. ``maxlen`` defaults to the longest."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating must be 'pre' or 'post', received "
                         f"padding={padding!r}, truncating={truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be iterable, received {sequences!r}")
    lengths = []
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables; found a "
                             f"non-iterable at index {i}: {s!r}")
        lengths.append(len(s))
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out


__all__ = ["pad_sequences"]
