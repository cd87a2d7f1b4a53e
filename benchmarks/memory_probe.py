"""Peak resident memory of one training run, in a fresh process.

    python -m benchmarks.memory_probe --framework minicnn --model mnist_convnet \
        --images 60000 --steps 60
    python -m benchmarks.memory_probe --framework tensorflow --keras-model twin.keras ...

Trains the zoo model with ``fit`` on ``images`` random images for ``steps``
batches and prints one JSON line: resident memory (MiB) after the imports,
after the data exist, and the process peak, which includes
the imports and the data, as a user's training script would.

The peak is ``VmHWM`` of /proc/self/status (the high-water mark of this
process image), not ``ru_maxrss``: Linux carries ``ru_maxrss`` over from the
parent through fork and exec, so a probe started by a big parent would report
the parent's peak.
"""
import argparse
import json
import os
import sys


def rss_mib():
    """Resident memory now, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib():
    """Peak resident memory of this process image (VmHWM, Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024                   # kB -> MiB
    raise RuntimeError("no VmHWM in /proc/self/status: the memory probe needs Linux")


def data(shape, classes, n, seed=0):
    """n random float32 images of ``shape`` and integer labels (as ``models.data``)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, classes, size=n).astype(np.int64)
    return x, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--framework", choices=("minicnn", "tensorflow"), required=True)
    parser.add_argument("--model", default="mnist_convnet")
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--keras-model", help="the Keras twin saved as .keras (TensorFlow only)")
    args = parser.parse_args(argv)
    out = {"framework": args.framework, "model": args.model, "images": args.images,
           "steps": args.steps, "rss_start_mib": rss_mib()}
    from benchmarks import models, stepclock      # models imports numpy only
    spec = dict(models.ZOO[args.model])
    batch = args.batch or spec["batch"]
    if args.framework == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        import keras
        if not args.keras_model:
            parser.error("--framework tensorflow needs --keras-model (a saved .keras twin), "
                         "so that this process never imports minicnn")
        model = keras.models.load_model(args.keras_model)
        clock = stepclock.keras_clock(1, stop_after=args.steps)
    else:
        import numba
        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
        model = models.build_minicnn(spec)
        clock = stepclock.minicnn_clock(1, stop_after=args.steps)
    out["rss_after_import_mib"] = rss_mib()
    x, y = data(model.input_shape[1:], model.output_shape[-1], args.images)
    out["rss_after_data_mib"] = rss_mib()
    out["data_mib"] = (x.nbytes + y.nbytes) / 2**20
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[clock])
    out["batches"] = clock.batches
    out["rss_end_mib"] = rss_mib()
    out["peak_rss_mib"] = peak_mib()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
