"""The two convolution-family layers ``cases.run_layer_case`` cannot run.

The grids of Conv1D and 1-D pooling, DepthwiseConv2D / SeparableConv2D,
Conv2DTranspose and LRN are in ``cases.py`` (CONV1D_CASES, ...). Embedding
takes integer ids and LRN has no Keras layer, so each has its own runner here:

* ``run_embedding_case``: output and d(embeddings) against ``keras.layers.Embedding``
  (its gradient is a sparse IndexedSlices on TensorFlow, made dense here);
* ``run_lrn_case``: output and dx against ``tf.nn.local_response_normalization``
  through ``tf.GradientTape`` (TensorFlow only).
"""
from dataclasses import dataclass

import numpy as np

from minicnn import layers as L

from .compare import compare


# -- Embedding -----------------------------------------------------------------------
@dataclass
class EmbeddingCase:
    input_dim: int
    output_dim: int
    ids_shape: tuple
    dtype: str = "int32"
    layer = "Embedding"             # what ``cases.LAYER_CASES`` coverage reads

    @property
    def label(self):
        return (f"Embedding({self.input_dim}, {self.output_dim}) on "
                f"{'x'.join(map(str, self.ids_shape))} {self.dtype} ids")


EMBEDDING_CASES = [
    EmbeddingCase(10, 4, (3, 7)),                    # 21 ids from 10 rows: repeats add up
    EmbeddingCase(50, 8, (4, 5), "int64"),
    EmbeddingCase(3, 2, (2, 20)),                    # every row used many times
    EmbeddingCase(1000, 16, (2, 6)),
    EmbeddingCase(7, 3, (5,)),                       # ids (N,) -> (N, 3)
    EmbeddingCase(6, 5, (2, 3, 4), "int64"),         # any shape of ids
]


def run_embedding_case(case, reference, seed=0):
    """The looked-up vectors (copies: exact) and d(embeddings) against Keras."""
    rng = np.random.default_rng(seed)
    table = (0.2 * rng.standard_normal((case.input_dim, case.output_dim))).astype(np.float32)
    ids = rng.integers(0, case.input_dim, case.ids_shape).astype(case.dtype)
    dy = rng.standard_normal((*case.ids_shape, case.output_dim)).astype(np.float32)

    ours = L.Embedding(case.input_dim, case.output_dim, dtype="float32", weights=[table])
    y = ours.forward(ids)
    if ours.backward(dy) is not None:
        raise AssertionError("Embedding.backward must return None (integer ids)")

    keras = reference.keras
    theirs = keras.layers.Embedding(case.input_dim, case.output_dim)
    theirs.build(case.ids_shape)
    theirs.set_weights([table])
    if reference.device.startswith("tf"):
        tf = reference.backend_module
        with reference.placement():
            with tf.GradientTape() as tape:
                out = theirs(tf.constant(ids))
            grad = tape.gradient(out, theirs.trainable_variables, output_gradients=tf.constant(dy))
            ref_y, ref_grad = out.numpy(), tf.convert_to_tensor(grad[0]).numpy()  # IndexedSlices
    else:   # Keras's Embedding.call is ops.take(embeddings, ids, axis=0)
        ops = keras.ops
        ref_y = np.asarray(theirs(ids))
        _, ref_grad = reference.value_and_grad(
            lambda e: ops.sum(ops.take(e, ids, axis=0) * dy), table)
    device = reference.device
    return [compare("output", y, ref_y, "exact", device),
            compare("dembeddings", ours.grads["embeddings"], ref_grad, "grad", device)]


# -- local response normalization ---------------------------------------------------------
LRN_TF_ONLY = ("Keras has no LRN layer; the reference is tf.nn.local_response_normalization, "
               "which only TensorFlow has")

def run_lrn_case(case, reference, seed=0):
    """Output and dx against ``tf.nn.local_response_normalization`` (TensorFlow only)."""
    if not reference.device.startswith("tf"):
        raise RuntimeError(LRN_TF_ONLY)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.input_shape).astype(np.float32)
    dy = rng.standard_normal(case.input_shape).astype(np.float32)
    ours = L.LocalResponseNormalization(**case.kwargs, dtype="float32")
    ours.build((None, *case.input_shape[1:]))
    y = ours.forward(x.copy())
    dx = ours.backward(dy.copy())
    tf = reference.backend_module
    with reference.placement():
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            yt = tf.nn.local_response_normalization(xt, **case.kwargs)
        ref_dx = tape.gradient(yt, xt, output_gradients=tf.constant(dy))
    device = reference.device
    return [compare("output", y, yt.numpy(), "forward", device),
            compare("dx", dx, ref_dx.numpy(), "grad", device)]
