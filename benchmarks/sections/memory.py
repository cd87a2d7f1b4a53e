"""Peak resident memory of a training run, each framework in its own process.

Each probe process imports its framework, makes the data (as many random
images as MNIST's training set in the full run), trains a fixed number of
batches with ``fit`` and reports its peak resident set (``VmHWM``).
Ratio = minicnn peak / TF peak (below 1 means minicnn uses less).
"""
import json
import os
import subprocess
import sys
import tempfile

from .. import models
from .startup import REPO


def probe(framework, model, images, steps, threads, batch=None, keras_model=None):
    """Run ``benchmarks/memory_probe.py`` in a fresh interpreter; its JSON as a dict."""
    cmd = [sys.executable, "-m", "benchmarks.memory_probe", "--framework", framework,
           "--model", model, "--images", str(images), "--steps", str(steps),
           "--threads", str(threads)]
    if batch:
        cmd += ["--batch", str(batch)]
    if keras_model:
        cmd += ["--keras-model", keras_model]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe ({framework}) failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(ctx):
    cfg = ctx.cfg["memory"]
    batch = ctx.cfg.get("batch_override")
    out = {}
    ctx.keras
    _, kr = models.twin(ctx.spec(cfg["model"]))
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        twin_path = os.path.join(tmp, "twin.keras")     # the TF probe never imports minicnn
        kr.save(twin_path)
        for fw in ("minicnn", "tensorflow"):
            ctx.log(f"  memory {fw}")
            out[fw] = probe(fw, cfg["model"], cfg["images"], cfg["steps"], ctx.threads, batch,
                            twin_path if fw == "tensorflow" else None)
    out["ratio"] = out["minicnn"]["peak_rss_mib"] / out["tensorflow"]["peak_rss_mib"]
    out["model"], out["images"], out["steps"] = cfg["model"], cfg["images"], cfg["steps"]
    return out


def markdown(r):
    lines = [f"Training `{r['model']}` with `fit` on {r['images']:,} random images for "
             f"{r['steps']} batches, one fresh process per framework (MiB).", "",
             "| framework | after import | after data | peak RSS | peak - data ready |",
             "|---|---|---|---|---|"]
    for fw in ("minicnn", "tensorflow"):
        p = r[fw]
        lines.append(f"| {fw} | {p['rss_after_import_mib']:.0f} | {p['rss_after_data_mib']:.0f} | "
                     f"{p['peak_rss_mib']:.0f} | {p['peak_rss_mib'] - p['rss_after_data_mib']:.0f} |")
    lines += ["", f"Peak ratio (minicnn / TF; <1 = minicnn uses less): **{r['ratio']:.2f}**"]
    return lines
