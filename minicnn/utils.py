"""Keras's ``keras.utils`` namespace: the helpers a training script reaches for.

    minicnn.utils.set_random_seed(0)               # every draw minicnn makes
    y = minicnn.utils.to_categorical(labels, 10)   # (N,) ints -> (N, 10) one-hot

The implementations live where they belong (``backend`` owns the random
generator, ``datasets.utils`` the label helpers); this module only gathers them
under the names Keras users expect.
"""
from .backend import set_random_seed
from .datasets.utils import to_categorical

__all__ = ["set_random_seed", "to_categorical"]
