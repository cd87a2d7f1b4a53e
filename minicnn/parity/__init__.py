"""minicnn against tf.keras: the comparison grid behind ``tests/parity`` and the report.

    python -m minicnn.parity --quick                 # a short grid on every device present
    python -m minicnn.parity --device tf-gpu         # the full grid on TensorFlow's GPU
    MINICNN_REFERENCE=jax python -m minicnn.parity   # Keras 3 on JAX (GPU machines without TF)

* ``compare``    - the tolerance table and the one comparison function;
* ``references`` - Keras on a device (TensorFlow CPU/GPU, JAX GPU), imported lazily;
* ``cases``      - the layer, loss, regularizer and optimizer grid and its runners;
* ``models``     - the source networks (docs/source_networks.md), gradients and
                   training steps;
* ``report``     - the Markdown table.

This subpackage is a tool: it imports TensorFlow, Keras or JAX inside
functions when a comparison runs. The engine (``import minicnn``) never does.
"""
from .compare import TOLERANCES, Comparison, compare, tolerance  # noqa: F401
