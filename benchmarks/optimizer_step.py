"""Time one optimizer update on a zoo network's weights: NumPy rule vs fused kernel.

    python -m benchmarks.optimizer_step   # Adam on the emotion net, RMSprop on LeNet-5 (TF)
    python -m benchmarks.optimizer_step --rounds 20

Each round times ``optimizer.apply(grads, weights)`` once with the NumPy twins
(``set_backend("numpy")``, the rule as it was before the fused kernels), once
with the fused kernel on one Numba thread and once on every thread,
alternating in one process; the medians are printed in ms
(benchmarks/NOTES.md, 6).
"""
import argparse
import time

import numba
import numpy as np

import minicnn
from minicnn import optimizers, zoo
from minicnn.kernels import jit

CASES = (("emotion_net", "Adam"), ("lenet5_tf", "RMSprop"))


def _timer(model_name, optimizer_name, backend, threads):
    model = getattr(zoo, model_name)()
    weights = [w.copy() for w in model.trainable_weights]
    r = np.random.default_rng(0)
    grads = [r.standard_normal(w.shape).astype(w.dtype) * 1e-3 for w in weights]
    opt = optimizers.get(optimizer_name)

    def once():
        minicnn.set_backend(backend)
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            start = time.perf_counter()
            opt.apply(grads, weights)
            return time.perf_counter() - start
        finally:
            jit.restore_threads()            # the kernels learn the count anew next time
            numba.set_num_threads(before)
            minicnn.set_backend("numba")
    once()                                   # compile, create the slots
    return sum(w.size for w in weights), once


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    all_threads = numba.get_num_threads()
    contenders = {"NumPy rule": ("numpy", 1), "fused, 1 thread": ("numba", 1),
                  f"fused, {all_threads} threads": ("numba", all_threads)}
    print("| model (parameters) | optimizer | " + " | ".join(contenders) + " |")
    print("|---|---|" + "---|" * len(contenders))
    for model_name, optimizer_name in CASES:
        timers = {}
        for label, (backend, threads) in contenders.items():
            size, timers[label] = _timer(model_name, optimizer_name, backend, threads)
        samples = {label: [] for label in contenders}
        for _ in range(args.rounds):
            for label, once in timers.items():
                samples[label].append(once())
        cells = " | ".join(f"{np.median(s) * 1e3:.2f} ms" for s in samples.values())
        print(f"| {model_name} ({size:,}) | {optimizer_name} | {cells} |")


if __name__ == "__main__":
    main()
