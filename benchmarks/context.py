"""What every section receives: the mode's settings, thread counts, TensorFlow.

TensorFlow is imported once, lazily, with its thread pools set before any op
runs (TensorFlow refuses to change them afterwards): intra-op threads equal
to the Numba threads minicnn trains with, so both frameworks get the same
cores.
"""
import os
import sys

from . import models


class Context:
    def __init__(self, cfg, threads=None, tf_inter_op=0, log=None):
        self.cfg = cfg
        self.threads = threads or os.cpu_count()
        self.tf_inter_op = tf_inter_op
        self._tf = None
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        # minicnn before Numba's thread pool starts: its import sets the OpenMP
        # wait policy, which the pool reads once (started first, the 2026-11-29
        # 09:07 run measured minicnn training 7x slower beside TensorFlow).
        import minicnn  # noqa: F401
        import numba
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))

    def log(self, msg):
        self._log(msg)

    @property
    def tf(self):
        """The tensorflow module, configured on first use."""
        if self._tf is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import tensorflow as tf
            try:
                tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                tf.config.threading.set_inter_op_parallelism_threads(self.tf_inter_op)
            except RuntimeError as exc:   # TensorFlow already ran an op in this process
                self.log(f"note: TensorFlow thread pools already fixed ({exc})")
            tf.get_logger().setLevel("ERROR")       # no retracing chatter in the report
            self._tf = tf
        return self._tf

    @property
    def keras(self):
        """keras, imported after TensorFlow's thread pools are set."""
        self.tf
        import keras
        return keras

    def cpu_device(self):
        """``with ctx.cpu_device():`` keeps TensorFlow on the CPU even if it sees a GPU."""
        return self.tf.device("/CPU:0")

    def gpus(self):
        return self.tf.config.list_physical_devices("GPU")

    # -- the zoo, resized for the tiny mode ------------------------------------------
    def zoo(self, section):
        """``[(name, spec)]`` for the models a section covers in this mode."""
        wanted = self.cfg[section].get("models")
        names = list(models.ZOO) if wanted is None else wanted
        return [(name, self.spec(name)) for name in names]

    def spec(self, name):
        spec = dict(models.ZOO[name])
        if "batch_override" in self.cfg:
            spec["batch"] = self.cfg["batch_override"]
        return spec
