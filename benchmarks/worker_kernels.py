"""Time what a batch worker runs on its one core: whole-matrix vs blocked convolutions.

    python -m benchmarks.worker_kernels              # the zoo's convs at a worker's share
    python -m benchmarks.worker_kernels --rounds 9

A worker of a split batch runs every kernel on one core. For each convolution
of the zoo (input shape as one of two workers sees it: half the source batch),
forward + backward (``need_dx`` as in the network) is timed with the whole cols
matrix (``BLOCKED_FROM_BYTES`` out of reach) and block by block (the default
rule), alternating in one process; then Dropout's fused kernel against its
NumPy twin. Medians in ms (benchmarks/NOTES.md, 7 and 9).
"""
import argparse
import time

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from minicnn.kernels import jit, reference

def conv_cases():
    """``{label: (x shape, kernel shape, window, need_dx)}``: each distinct conv of the
    benchmark's four networks, at half the source batch (one of two workers)."""
    from . import models
    cases = {}
    for name, spec in models.ZOO.items():
        model = models.build_minicnn(spec)
        first = True
        for layer in model.layers:
            if type(layer).__name__ != "Conv2D":
                continue
            shape = (spec["batch"] // 2, *layer.input_shape[1:])
            label = (f"{name}: {layer.filters} {layer.kernel_size[0]}x{layer.kernel_size[1]} "
                     f"on {'x'.join(map(str, shape))}")
            cases.setdefault(label, (shape, layer.params["kernel"].shape, layer.window(),
                                     not first))
            first = False
    return cases


def _median_ms(fn, calls=3):
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def _conv_step(x, kernel, bias, window, need_dx, blocked_from):
    workspace = {}

    def step():
        jit.BLOCKED_FROM_BYTES = blocked_from
        _, cache = jit.conv2d_forward(x, kernel, bias, window, True, workspace)
        dz = np.ones((x.shape[0], *window.output_hw, kernel.shape[-1]), x.dtype)
        jit.conv2d_backward(dz, cache, need_dx)
    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    default = jit.BLOCKED_FROM_BYTES
    jit.one_thread(True)
    with threadpool_limits(limits=1, user_api="blas"):
        print("| convolution (one worker's rows) | cols MiB | whole cols, fwd+bwd | blocked, fwd+bwd |")
        print("|---|---|---|---|")
        for label, (shape, kshape, window, need_dx) in conv_cases().items():
            x = rng.standard_normal(shape).astype(np.float32)
            kernel = rng.standard_normal(kshape).astype(np.float32) * 0.1
            bias = np.zeros(kshape[-1], np.float32)
            cols_mib = shape[0] * np.prod(window.output_hw) * np.prod(kshape[:3]) * 4 / 2 ** 20
            runs = {"whole": _conv_step(x, kernel, bias, window, need_dx, 1 << 62),
                    "blocked": _conv_step(x, kernel, bias, window, need_dx, 0)}
            samples = {k: [] for k in runs}
            for _ in range(args.rounds):
                for key, fn in runs.items():
                    samples[key].append(_median_ms(fn))
            jit.BLOCKED_FROM_BYTES = default
            rule = " (the rule blocks it)" if jit._blocked(x, kernel, window) else ""
            print(f"| {label}{rule} | {cols_mib:.1f} | {np.median(samples['whole']):.2f} ms | "
                  f"{np.median(samples['blocked']):.2f} ms |")
        print()
        print("| Dropout(0.5) forward on | NumPy twin (draw, where, product) | fused kernel |")
        print("|---|---|---|")
        threshold = int(np.ceil(0.5 * 2 ** 32))
        for shape in ((64, 14, 14, 32), (64, 7, 7, 64), (64, 625)):
            x = rng.standard_normal(shape).astype(np.float32)
            cells = {name: [] for name in ("numpy", "numba")}
            for _ in range(args.rounds):
                for name, twin in (("numpy", reference), ("numba", jit)):
                    cells[name].append(_median_ms(lambda: twin.dropout_apply(x, 7, 0, threshold, 2.0)))
            print(f"| {'x'.join(map(str, shape))} | {np.median(cells['numpy']):.2f} ms | "
                  f"{np.median(cells['numba']):.2f} ms |")
    jit.one_thread(False)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


if __name__ == "__main__":
    main()
