"""Time from ``import minicnn`` to the first trained batch, in a fresh process.

    NUMBA_CACHE_DIR=/tmp/empty python -m benchmarks.startup_probe --model mnist_convnet

Prints one JSON line: seconds for the import and for import + build + compile
+ one ``fit`` batch. With an empty ``NUMBA_CACHE_DIR`` Numba compiles every
kernel the model needs (cold); run again with the same directory and it loads
them from disk (warm). ``--model dense_probe`` trains a small Dense net that
needs no Numba kernel (used by the tests).
"""
import time

_T0 = time.perf_counter()       # before anything of minicnn is imported

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mnist_convnet")
    args = parser.parse_args(argv)
    import minicnn
    t_import = time.perf_counter() - _T0
    from benchmarks import models
    if args.model == "dense_probe":
        model = minicnn.Sequential([minicnn.layers.Input((28, 28, 1)), minicnn.layers.Flatten(),
                                    minicnn.layers.Dense(10, activation="softmax")])
        model.compile("rmsprop", "sparse_categorical_crossentropy")
        spec = {"batch": 8}
    else:
        spec = models.ZOO[args.model]
        model = models.build_minicnn(spec)
    x, y = models.data(model, spec["batch"])
    model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0)
    t_first = time.perf_counter() - _T0
    import numba
    print(json.dumps({"model": args.model, "import_s": t_import, "first_batch_s": t_first,
                      "minicnn": minicnn.__version__, "numba_threads": numba.get_num_threads()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
