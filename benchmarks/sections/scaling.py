"""Scaling: training throughput of one conv stack against batch size and image size.

The stack (``models.SCALING_STACK``): two 3x3 'same' convs (32 and 64
filters) with ReLU and 2x2 max pooling, then a softmax Dense. Cost per image
should stay flat as the batch grows once the per-step overhead is paid, and
grow with the pixel count as the image grows; the chart shows both.
"""
from .. import models
from .training import measure_pair


def _point(ctx, spec, cfg):
    samples, steps, _ = measure_pair(ctx, spec, cfg)
    med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    return {"minicnn_ips": med["minicnn"], "tensorflow_ips": med["tensorflow"],
            "ratio": med["minicnn"] / med["tensorflow"], "steps": steps}


def run(ctx):
    cfg = ctx.cfg["scaling"]
    by_batch, by_size = [], []
    for batch in cfg["batches"]:
        ctx.log(f"  scaling batch {batch}")
        spec = dict(models.scaling_spec(28), batch=batch)
        by_batch.append({"batch": batch, "size": 28, **_point(ctx, spec, cfg)})
    for size in cfg["sizes"]:
        ctx.log(f"  scaling image {size}x{size}")
        spec = dict(models.scaling_spec(size), batch=cfg["size_batch"])
        by_size.append({"batch": cfg["size_batch"], "size": size, **_point(ctx, spec, cfg)})
    return {"by_batch": by_batch, "by_size": by_size, "repeats": cfg["repeats"]}


def markdown(r):
    lines = ["Training throughput of the conv stack (img/s, medians); ratio = minicnn / TF "
             "(>1 = minicnn faster).", "",
             "| batch | image | minicnn img/s | TF img/s | ratio |", "|---|---|---|---|---|"]
    for p in r["by_batch"] + [None] + r["by_size"]:
        if p is None:
            lines.append("| | | | | |")
            continue
        lines.append(f"| {p['batch']} | {p['size']}x{p['size']} | {p['minicnn_ips']:,.0f} | "
                     f"{p['tensorflow_ips']:,.0f} | {p['ratio']:.2f} |")
    return lines


def plot(r, path):
    """Two panels: img/s against batch size and against image size, both frameworks."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, points, key, label in ((axes[0], r["by_batch"], "batch", "batch size (28x28 images)"),
                                   (axes[1], r["by_size"], "size", "image side (pixels)")):
        xs = [p[key] for p in points]
        ax.plot(xs, [p["minicnn_ips"] for p in points], "o-", label="minicnn")
        ax.plot(xs, [p["tensorflow_ips"] for p in points], "s-", label="TensorFlow")
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("training images / s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[0].set_title("throughput against batch size")
    axes[1].set_title(f"throughput against image size (batch {r['by_size'][0]['batch']})"
                      if r["by_size"] else "throughput against image size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
