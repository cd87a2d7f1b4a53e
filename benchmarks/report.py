"""Turn the results dict into the Markdown report, the target checklist and the charts."""
import json
import os

from .sections import SECTIONS

TITLES = {"matmul": "Matmul peak", "training": "1. Training throughput (`fit`)",
          "inference": "2. Inference", "layers": "3. Per-layer time",
          "scaling": "4. Scaling", "memory": "5a. Peak memory",
          "startup": "5b. Numba start-up", "profile": "Where minicnn's training time goes"}


def targets(sections):
    """Every target of the issue that this run measured: value, goal, met."""
    out = []

    def add(what, value, goal, met, fmt="{:.2f}"):
        out.append({"target": what, "value": value, "goal": goal, "met": bool(met),
                    "shown": fmt.format(value)})

    for row in sections.get("training", {}).get("rows", []):
        add(f"training throughput ratio, {row['title']}", row["ratio"], ">= 1.0 (milestone 0.8)",
            row["ratio"] >= 1.0)
        if "core_speedup" in row:
            add(f"training, all cores / one core, {row['title']}", row["core_speedup"],
                ">= 1.7x", row["core_speedup"] >= 1.7, "{:.2f}x")
    for row in sections.get("inference", {}).get("rows", []):
        add(f"batch-1 latency ratio (minicnn/TF time), {row['title']}", row["latency_ratio"],
            "<= 1.0", row["latency_ratio"] <= 1.0)
        add(f"batch-{row['big_batch']} inference throughput ratio, {row['title']}",
            row["throughput_ratio"], ">= 1.0", row["throughput_ratio"] >= 1.0)
    from .sections.layers import describe
    for row in sections.get("layers", {}).get("rows", []):
        if "peak_fraction" in row:
            add(f"conv forward, % of matmul peak: {describe(row)} on "
                f"{'x'.join(map(str, row['input']))}",
                100 * row["peak_fraction"]["numba"], ">= 50 %",
                row["peak_fraction"]["numba"] >= 0.5, "{:.0f} %")
    if "memory" in sections:
        r = sections["memory"]
        add(f"peak memory ratio (minicnn/TF), {r['model']} training", r["ratio"], "<= 0.5",
            r["ratio"] <= 0.5)
    if "startup" in sections:
        r = sections["startup"]
        add("first trained batch after import, cold Numba cache (s)", r["cold_first_batch_s"],
            "<= 10 s", r["cold_first_batch_s"] <= 10)
        add("first trained batch after import, warm Numba cache (s)", r["warm_first_batch_s"],
            "<= 1.5 s", r["warm_first_batch_s"] <= 1.5)
    return out


def _env_lines(env):
    m = env["machine"]
    lines = [f"- date: {env['date']}; machine: {m['cpu']}, {m['cores']} cores, {m['platform']}; "
             f"Python {m['python']}, NumPy {env['numpy']}"]
    if "load_average" in env:
        lines.append(f"- load average at the start (other jobs share the machine): "
                     f"{', '.join(f'{v:.1f}' for v in env['load_average'])}")
    mc = env["minicnn"]
    rev = env.get("revision")
    if rev:
        lines.append(f"- checkout {rev['commit']}" + (" with uncommitted changes under minicnn/"
                                                      if rev["minicnn_modified"] else ""))
    lines.append(f"- minicnn {mc['version']}, backend {mc['backend']}: Numba {mc['numba']['version']} "
                 f"with {mc['numba']['num_threads']} threads ({mc['numba']['threading_layer']} "
                 f"layer); BLAS limited to {mc['blas_threads_in_fit']} thread(s) inside `fit`; "
                 f"thread environment: " + (", ".join(f"{k}={v}" for k, v in
                                                    mc["numba"].get("env", {}).items() if v)
                                            or "none set"))
    blas = "; ".join(f"{p['internal_api']} {p.get('version') or ''} ({p['prefix']}): "
                     f"{p['num_threads']} threads" for p in env["blas"])
    lines.append(f"- thread pools seen by threadpoolctl (defaults): {blas}")
    if "tensorflow" in env:
        t = env["tensorflow"]
        lines.append(f"- TensorFlow {t['version']} / Keras {t['keras']}: intra-op threads "
                     f"{t['intra_op_threads']}, inter-op threads {t['inter_op_threads']} "
                     f"(0 = TF's default), oneDNN {t['onednn']}, Keras `fit` jit_compile "
                     f"{t['keras_fit_jit_compile']}, GPUs seen: {t['gpus'] or 'none'}")
    return lines


def markdown(results):
    from . import sections as pkg
    lines = [f"# minicnn against TensorFlow ({results['config']['mode']} run)", ""]
    lines += _env_lines(results["environment"])
    lines += [f"- run time: {results['run_seconds']:.0f} s", ""]
    checks = results.get("targets", [])
    if checks:
        lines += ["## Targets", "", "| target | this run | goal | met |", "|---|---|---|---|"]
        lines += [f"| {t['target']} | {t['shown']} | {t['goal']} | {'yes' if t['met'] else 'no'} |"
                  for t in checks]
        lines.append("")
    for name in SECTIONS:
        if name in results["sections"]:
            module = __import__(f"{pkg.__name__}.{name}", fromlist=["markdown"])
            result = results["sections"][name]
            lines += [f"## {TITLES[name]}", ""]
            if "seconds" in result:
                load = result.get("load_1min", [float("nan")] * 2)
                lines += [f"_{result['seconds']:.0f} s; 1-minute load average {load[0]:.1f} at "
                          f"the start, {load[1]:.1f} at the end_", ""]
            lines += module.markdown(result) + [""]
    if results.get("charts"):
        lines += ["## Charts", ""] + [f"![{c}]({c})" for c in results["charts"]] + [""]
    return "\n".join(lines)


def plot_summary(results, path):
    """Bar chart of the training and inference ratios, with the target lines."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    s = results["sections"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    train = s.get("training", {}).get("rows", [])
    axes[0].bar([r["model"] for r in train], [r["ratio"] for r in train], color="tab:blue")
    axes[0].axhline(1.0, color="k", lw=1)
    axes[0].axhline(0.7, color="gray", lw=1, ls="--")
    axes[0].set_title("training throughput, minicnn / TF (>1 = minicnn faster)")
    inf = s.get("inference", {}).get("rows", [])
    names = [r["model"] for r in inf]
    xs = range(len(inf))
    axes[1].bar([i - 0.2 for i in xs], [1 / r["latency_ratio"] for r in inf], 0.4,
                label="batch 1: TF time / minicnn time")
    axes[1].bar([i + 0.2 for i in xs], [r["throughput_ratio"] for r in inf], 0.4,
                label="big batch: minicnn / TF img/s")
    axes[1].set_xticks(list(xs), names)
    axes[1].axhline(1.0, color="k", lw=1)
    axes[1].set_title("inference speed ratio (>1 = minicnn faster)")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20)
        ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results, out_dir):
    """results.json, results.md and the PNG charts into out_dir; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    charts = []
    s = results["sections"]
    if "scaling" in s:
        from .sections.scaling import plot
        plot(s["scaling"], os.path.join(out_dir, "scaling.png"))
        charts.append("scaling.png")
    if "training" in s or "inference" in s:
        plot_summary(results, os.path.join(out_dir, "ratios.png"))
        charts.append("ratios.png")
    results["charts"] = charts
    results["targets"] = targets(s)
    paths = {"json": os.path.join(out_dir, "results.json"),
             "markdown": os.path.join(out_dir, "results.md")}
    with open(paths["json"], "w") as f:
        json.dump(results, f, indent=1, default=str)
    with open(paths["markdown"], "w") as f:
        f.write(markdown(results))
    paths["charts"] = [os.path.join(out_dir, c) for c in charts]
    return paths
