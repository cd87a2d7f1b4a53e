"""End-to-end training throughput: minicnn ``fit`` against Keras ``fit``.

Same network, same starting weights, same optimizer, loss and batch size,
random images (the arithmetic does not depend on the pixel values). Each
round times one ``fit`` call per framework, interleaved, and the medians are
quoted. Throughput ratio = minicnn / TensorFlow: above 1 means minicnn is faster.
"""
import numpy as np

from .. import models
from ..stepclock import fit_throughput
from ..timing import interleave, summary


def _macs(layer):
    """Multiply-adds of one image's forward pass through a Conv2D or Dense layer."""
    from minicnn.layers import Conv2D, Dense
    if isinstance(layer, Conv2D):
        (oh, ow), (kh, kw) = layer.output_shape[1:3], layer.kernel_size
        return oh * ow * layer.filters * kh * kw * layer.input_shape[-1]
    if isinstance(layer, Dense):
        rows = int(np.prod(layer.input_shape[1:-1])) if len(layer.input_shape) > 2 else 1
        return rows * layer.input_shape[-1] * layer.units
    return 0


def training_mflop(model):
    """MFLOP one training image needs, the physical floor of a step: each conv and
    dense layer costs 2 * MACs forward, 2 * MACs for its weight gradient and 2 * MACs
    for its input gradient (none for the first, whose input gradient nobody needs).
    Everything else (pooling, activations, the update) is left out."""
    flops, first = 0, True
    for layer in model.layers:
        macs = _macs(layer)
        if macs:
            flops += 2 * macs * (2 if first else 3)
            first = False
    return flops / 1e6


def _steps(ips, batch, cfg):
    """Steps that fill about ``sample_s`` seconds at ``ips`` images per second."""
    return int(min(cfg["max_steps"], max(cfg["min_steps"], cfg["sample_s"] * ips / batch)))


def _on_one_core(fn):
    """fn run by minicnn on one core: one batch worker, one Numba thread (restored after)."""
    import minicnn
    import numba

    def run():
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        minicnn.set_num_threads(1)
        try:
            return fn()
        finally:
            numba.set_num_threads(before)
            minicnn.set_num_threads(None)
    return run


def measure_pair(ctx, spec, cfg, keras_device=None, one_thread=False):
    """Interleaved fit throughput of the minicnn and Keras twins of ``spec``.

    ``one_thread`` adds a third contender, minicnn on one core (one batch
    worker, one Numba thread): minicnn's speedup from all cores over one is
    the ratio of the two.
    """
    ctx.keras                                   # TF thread pools set before Keras runs
    mc, kr = models.twin(spec)
    batch, warm = spec["batch"], cfg["warm"]
    device = keras_device or ctx.cpu_device
    x, y = models.data(mc, batch * (warm + cfg["min_steps"]))
    # warm-up: Numba loads its kernels, Keras traces (and XLA-compiles) its step
    est = {"minicnn": fit_throughput(mc, x, y, batch, cfg["min_steps"], warm)}
    with device():
        est["tensorflow"] = fit_throughput(kr, x, y, batch, cfg["min_steps"], warm, True)
    steps = {k: _steps(v, batch, cfg) for k, v in est.items()}
    x, y = models.data(mc, batch * (warm + max(steps.values())))

    def run_minicnn():
        return fit_throughput(mc, x, y, batch, steps["minicnn"], warm)

    def run_keras():
        with device():
            return fit_throughput(kr, x, y, batch, steps["tensorflow"], warm, True)

    contenders = {"minicnn": run_minicnn, "tensorflow": run_keras}
    if one_thread and ctx.threads > 1:
        contenders["minicnn_1_thread"] = _on_one_core(run_minicnn)
    samples = interleave(contenders, cfg["repeats"])
    return samples, steps, kr


def run(ctx, peak_gflops=None):
    cfg = ctx.cfg["training"]
    rows = []
    for name, spec in ctx.zoo("training"):
        ctx.log(f"  training {name} (batch {spec['batch']})")
        samples, steps, kr = measure_pair(ctx, spec, cfg, one_thread=cfg.get("one_thread", True))
        jit = getattr(kr, "jit_compile", None)
        row = {"model": name, "title": spec["title"], "batch": spec["batch"],
               "optimizer": spec["optimizer"][0], "from_logits": spec["from_logits"],
               "steps": steps,
               "minicnn_ips": summary(samples["minicnn"]),
               "tensorflow_ips": summary(samples["tensorflow"])}
        row["ratio"] = row["minicnn_ips"]["median"] / row["tensorflow_ips"]["median"]
        row["mflop_per_image"] = training_mflop(models.twin(spec)[0])
        row["gflops"] = {k: row[f"{k}_ips"]["median"] * row["mflop_per_image"] / 1e3
                         for k in ("minicnn", "tensorflow")}
        if peak_gflops:
            row["peak_fraction"] = {k: v / peak_gflops for k, v in row["gflops"].items()}
        if "minicnn_1_thread" in samples:
            row["minicnn_1_thread_ips"] = summary(samples["minicnn_1_thread"])
            row["core_speedup"] = (row["minicnn_ips"]["median"]
                                   / row["minicnn_1_thread_ips"]["median"])
        if ctx.gpus():   # reported apart: the CPU comparison is the target
            gpu_samples, _, _ = measure_pair(ctx, spec, cfg,
                                          keras_device=lambda: ctx.tf.device("/GPU:0"))
            row["tensorflow_gpu_ips"] = summary(gpu_samples["tensorflow"])
        rows.append(row)
    return {"rows": rows, "warm_steps": cfg["warm"], "repeats": cfg["repeats"],
            "keras_jit_compile": jit if rows else None, "peak_gflops": peak_gflops}


def markdown(r):
    lines = ["| model | batch | optimizer | minicnn img/s | TF img/s | ratio (throughput, "
             "minicnn / TF; >1 = minicnn faster) | minicnn, one core img/s | all cores / "
             "one core |",
             "|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        one = row.get("minicnn_1_thread_ips")
        lines.append(f"| {row['title']} | {row['batch']} | {row['optimizer']} | "
                     f"{row['minicnn_ips']['median']:,.0f} | {row['tensorflow_ips']['median']:,.0f}"
                     f" | **{row['ratio']:.2f}** | "
                     + (f"{one['median']:,.0f} | {row['core_speedup']:.2f}x |" if one else "- | - |"))
    gpu = [row for row in r["rows"] if "tensorflow_gpu_ips" in row]
    if gpu:
        lines += ["", "TensorFlow on the GPU (not part of the targets):", "",
                  "| model | TF GPU img/s |", "|---|---|"]
        lines += [f"| {row['title']} | {row['tensorflow_gpu_ips']['median']:,.0f} |" for row in gpu]
    lines += ["", f"Medians of {r['repeats']} interleaved rounds; each round one `fit` call per "
              f"framework, timed from the end of batch {r['warm_steps']} to the last batch. "
              f"The one-core column (not part of the ratio: TF keeps its threads) is minicnn with "
              f"one batch worker and one Numba thread, interleaved in the same rounds; the "
              f"last column is minicnn's speedup from all cores over one."]
    if not any("gflops" in row for row in r["rows"]):
        return lines
    lines += ["", "Arithmetic done per second (conv and dense layers only: 2 FLOP per multiply-add, "
                  "forward, weight gradient and input gradient but the first layer's):", "",
              "| model | MFLOP per training image | minicnn GFLOP/s | TF GFLOP/s |"
              + (" minicnn, % of the matmul peak | TF, % of the matmul peak |"
                 if r.get("peak_gflops") else ""),
              "|---|---|---|---|" + ("---|---|" if r.get("peak_gflops") else "")]
    for row in (row for row in r["rows"] if "gflops" in row):
        line = (f"| {row['title']} | {row['mflop_per_image']:.1f} | {row['gflops']['minicnn']:.0f}"
                f" | {row['gflops']['tensorflow']:.0f} |")
        if "peak_fraction" in row:
            line += (f" {100 * row['peak_fraction']['minicnn']:.0f} % | "
                     f"{100 * row['peak_fraction']['tensorflow']:.0f} % |")
        lines.append(line)
    if r.get("peak_gflops"):
        lines.append(f"\nThe peak: float32 `np.matmul` 2048x2048 on all cores in the same run, "
                     f"{r['peak_gflops']:.0f} GFLOP/s.")
    return lines
