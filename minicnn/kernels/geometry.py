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
import functools
from dataclasses import dataclass


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
    return tuple(tuple(p) for p in padding)


@dataclass(frozen=True)
class Window:
    """Where a sliding window goes over an H x W image: all a conv or pool kernel needs.

    size      (kh, kw)                    taps of the window
    strides   (sh, sw)                    cells moved between windows
    dilation  (dh, dw)                    cells between taps (1 = adjacent)
    padding   ((top, bottom), (left, right))  zero (or -inf) cells added around the image
    input_hw  (H, W)
    output_hw (OH, OW)                    windows along each axis

    Build one with ``window(...)``; ``Conv2D.window(hw)`` and
    ``Pooling2D.window(hw)`` return the one a layer uses for an input size.
    """
    size: tuple
    strides: tuple
    dilation: tuple
    padding: tuple
    input_hw: tuple
    output_hw: tuple

    @property
    def pads(self):
        """The padding flattened to ``(top, bottom, left, right)``."""
        (pt, pb), (pl, pr) = self.padding
        return pt, pb, pl, pr


def window(input_hw, size, strides=(1, 1), dilation=(1, 1), padding="valid", owner="window"):
    """The ``Window`` of a kernel ``size`` over an image of ``input_hw``.

    ``padding`` is "valid", "same" or ``((top, bottom), (left, right))``.
    Raises ValueError, naming ``owner``, when not one window fits. Windows are
    values, so the ones already built are handed out again (layers ask on
    every forward).
    """
    return _window(tuple(int(n) for n in input_hw), tuple(size), tuple(strides),
                   tuple(dilation), padding if isinstance(padding, str) else
                   tuple(tuple(p) for p in padding), owner)


@functools.lru_cache(maxsize=4096)
def _window(input_hw, size, strides, dilation, padding, owner):
    pairs = resolve_padding(padding, input_hw, size, strides, dilation)
    out = tuple(output_size(n, k, s, d, before, after) for n, k, s, d, (before, after)
                in zip(input_hw, size, strides, dilation, pairs))
    if min(out) < 1:
        raise ValueError(f"{owner}: a {size[0]}x{size[1]} window with dilation {dilation} "
                         f"does not fit input {input_hw[0]}x{input_hw[1]} with padding "
                         f"{padding!r}")
    return Window(size, strides, dilation, pairs, input_hw, out)
