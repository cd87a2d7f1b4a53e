"""Embedding: a lookup table from integer ids to learned vectors.

For ids (N, T) (or any shape) of integers in [0, input_dim) and the table
E (input_dim, output_dim):

    y[n, t] = E[ids[n, t]]                     # (N, T, output_dim)

Going back, each row of dy is added onto the table row it was read from (a
scatter-add; an id used twice receives both gradients):

    dE = zeros (input_dim, output_dim);  dE[ids[i]] += dy[i]   for every position i

The ids are integers, so there is no gradient to pass further down:
``backward`` returns None.
"""
import numpy as np

from .. import kernels
from .base import Layer, check_keras_only, positive_int


class Embedding(Layer):
    """Keras's Embedding. ``mask_zero=True``, ``lora_rank`` and ``quantization_config``
    are Keras features minicnn does not have (a ValueError says so); ``weights``
    sets the table at construction, as in Keras."""

    takes_integer_input = True      # a model starting with it is fed token ids

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        kwargs.pop("input_length", None)          # deprecated in Keras 3, ignored there too
        super().__init__(**kwargs)
        owner = self.owner
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{owner}: {name} must be a positive int, "
                                 f"received {name}={value!r}")
        self.input_dim = positive_int(owner, "input_dim", input_dim)
        self.output_dim = positive_int(owner, "output_dim", output_dim)
        self.mask_zero = check_keras_only(owner, "mask_zero", mask_zero, (False,))
        self.lora_rank = check_keras_only(owner, "lora_rank", lora_rank, (None,))
        self.lora_alpha = lora_alpha
        self.quantization_config = check_keras_only(owner, "quantization_config",
                                                     quantization_config, (None,))
        self.set_weight_options(embeddings_initializer=embeddings_initializer,
                                embeddings_regularizer=embeddings_regularizer,
                                embeddings_constraint=embeddings_constraint)
        if weights is not None:                   # Keras: build now, then set the table
            self.build((None, None))
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape):
        if not self.built:
            self.add_weight("embeddings", (self.input_dim, self.output_dim),
                            self.embeddings_initializer, self.embeddings_regularizer,
                            self.embeddings_constraint)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def check_input(self, x, rank=None):
        """Integer ids in [0, input_dim) (the base check wants floats)."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self.owner} expects a numpy array of integer ids, "
                            f"received {type(x).__name__}")
        if x.dtype.kind not in "iu":
            raise TypeError(f"{self.owner} expects integer ids (int32 or int64), "
                            f"received dtype {x.dtype}")
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            bad = x[(x < 0) | (x >= self.input_dim)]
            raise ValueError(f"{self.owner}: ids must be in [0, {self.input_dim}) "
                             f"(input_dim={self.input_dim}), received {bad.size} id(s) "
                             f"outside, e.g. {int(bad.flat[0])}")
        return x

    def forward(self, x, training=False):
        ids = self.check_input(x)
        self.cache = {"ids": ids.reshape(-1)}                   # (N*T,)
        return self.params["embeddings"][ids]                   # (N, T, output_dim)

    def backward(self, dy, from_logits=False, compute_dx=True):
        rows = dy.reshape(-1, self.output_dim)                  # (N*T, output_dim)
        self.grads["embeddings"] = kernels.scatter_add_rows(    # (input_dim, output_dim)
            self.cache["ids"], rows, self.input_dim)
        return None                                             # integer ids: no gradient

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero,
                "activity_regularizer": self.activity_regularizer,
                "quantization_config": self.quantization_config}
