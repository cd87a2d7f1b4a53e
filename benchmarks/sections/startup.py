"""Numba start-up: seconds from ``import minicnn`` to the first trained batch.

Cold: a fresh, empty ``NUMBA_CACHE_DIR``, so every kernel compiles. Warm: the
same directory again, so every kernel loads from disk. Each run is a fresh
interpreter (``benchmarks/startup_probe.py``); the interpreter's own start is
reported apart (``process_s`` is the wall time the parent saw).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def probe(model, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.startup_probe", "--model", model],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"start-up probe failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def run(ctx):
    cfg = ctx.cfg["startup"]
    cold, warm = [], []
    for _ in range(cfg["cold_runs"]):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
            ctx.log("  start-up, cold Numba cache")
            cold.append(probe(cfg["model"], cache))
            if not warm:                  # warm runs reuse the cache this cold run filled
                for _ in range(cfg["warm_runs"]):
                    ctx.log("  start-up, warm Numba cache")
                    warm.append(probe(cfg["model"], cache))
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    return {"model": cfg["model"], "cold": cold, "warm": warm,
            "cold_first_batch_s": med(cold, "first_batch_s"),
            "warm_first_batch_s": med(warm, "first_batch_s"),
            "cold_import_s": med(cold, "import_s"), "warm_import_s": med(warm, "import_s")}


def markdown(r):
    return [f"Model `{r['model']}`, seconds from `import minicnn` to the end of the first "
            f"`fit` batch (median of {len(r['cold'])} cold, {len(r['warm'])} warm runs):", "",
            "| Numba cache | import | first trained batch | whole process |", "|---|---|---|---|",
            f"| cold (empty) | {r['cold_import_s']:.2f} | **{r['cold_first_batch_s']:.2f}** | "
            f"{statistics.median(c['process_s'] for c in r['cold']):.2f} |",
            f"| warm | {r['warm_import_s']:.2f} | **{r['warm_first_batch_s']:.2f}** | "
            f"{statistics.median(c['process_s'] for c in r['warm']):.2f} |"]
