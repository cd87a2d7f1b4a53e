"""Output sizes and padding amounts, the arithmetic every conv and pool shares.

For one spatial axis of size ``n``, a window of ``k`` taps spaced ``d`` apart
(dilation), moved ``s`` cells at a time (stride):

* the window spans ``d * (k - 1) + 1`` cells (its *effective* size),
* ``"valid"``: no padding, ``out = (n - eff) // s + 1``,
* ``"same"``:  ``out = ceil(n / s)``; TensorFlow pads
  ``total = max((out - 1) * s + eff - n, 0)`` cells, ``total // 2`` before and
  the rest after, so an even total is split evenly and an odd one puts the
  extra cell at the bottom / right.
* explicit padding ``(before, after)``: ``out = (n + before + after - eff) // s + 1``,
  the textbook ``(n + 2p - f) / s + 1``.
"""


def effective_size(k, d):
    """Cells covered by a window of k taps with dilation d."""
    return d * (k - 1) + 1


def same_padding(n, k, s, d=1):
    """TensorFlow's "same" padding for one axis: (before, after)."""
    out = -(-n // s)  # ceil(n / s)
    total = max((out - 1) * s + effective_size(k, d) - n, 0)
    return total // 2, total - total // 2


def output_size(n, k, s, d, pad_before, pad_after):
    """Output cells along one axis once the padding is known."""
    return (n + pad_before + pad_after - effective_size(k, d)) // s + 1


def output_hw(h, w, kh, kw, sh, sw, dh, dw, pads):
    """(OH, OW) of a window sliding over an H x W image; pads is (top, bottom, left, right)."""
    pt, pb, pl, pr = pads
    return output_size(h, kh, sh, dh, pt, pb), output_size(w, kw, sw, dw, pl, pr)


def resolve_padding(padding, hw, kernel, strides, dilation=(1, 1)):
    """Turn a padding spec into ``((top, bottom), (left, right))`` for one input size.

    ``padding`` is "valid", "same" or already a ``((t, b), (l, r))`` pair
    (layers normalize ints and pairs to that form when they are built).
    """
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return tuple(same_padding(n, k, s, d)
                     for n, k, s, d in zip(hw, kernel, strides, dilation))
    return padding


def conv_geometry(hw, kernel, strides, dilation, padding):
    """Everything a conv/pool kernel needs: ``(pads, (out_h, out_w))``.

    ``pads`` is ``(top, bottom, left, right)``.
    """
    (pt, pb), (pl, pr) = resolve_padding(padding, hw, kernel, strides, dilation)
    oh = output_size(hw[0], kernel[0], strides[0], dilation[0], pt, pb)
    ow = output_size(hw[1], kernel[1], strides[1], dilation[1], pl, pr)
    return (pt, pb, pl, pr), (oh, ow)
