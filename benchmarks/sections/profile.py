"""Where minicnn's training time goes: per layer, and per Python function.

For every zoo model, a few ``fit`` steps run twice:

1. with every layer's ``forward`` and ``backward`` and the optimizer's
   ``apply`` wrapped in a timer, giving a per-layer table (ms per step);
   "other" is the rest of the step (loss, finite checks, batch slicing).
   The batch runs whole on one batch worker (``minicnn.set_num_threads(1)``),
   so the layer times add up to the step: once with all Numba threads and
   once with one, the second being what each worker of a split batch does
   (on its share of the rows);
2. under ``cProfile`` with the batch split as ``fit`` splits it, giving the
   functions with the most own time in the calling thread (worker 0; a Numba
   kernel shows as one function: its time is all "own"). The full cProfile
   listing is written to ``profile_<model>.txt`` beside the results.
"""
import cProfile
import io
import os
import pstats

import minicnn

from .. import models
from ..stepclock import minicnn_clock
from ..timing import clock


class _Timers:
    """Wraps a method on one object so that each call adds its seconds to a total."""

    def __init__(self):
        self.totals = {}

    def wrap(self, obj, method, key):
        inner = getattr(obj, method)

        def timed(*args, **kwargs):
            start = clock()
            try:
                return inner(*args, **kwargs)
            finally:
                self.totals[key] = self.totals.get(key, 0.0) + clock() - start
        setattr(obj, method, timed)          # an instance attribute shadows the class method
        return inner

    @staticmethod
    def unwrap(obj, method):
        obj.__dict__.pop(method, None)


def layer_breakdown(model, x, y, batch, steps):
    """ms per step spent in each layer's forward and backward, the optimizer, and the rest."""
    timers = _Timers()
    for layer in model.layers:
        timers.wrap(layer, "forward", (layer.name, "forward"))
        timers.wrap(layer, "backward", (layer.name, "backward"))
    timers.wrap(model.optimizer, "apply", ("optimizer", "apply"))
    cb = minicnn_clock(1)
    cb_tick = cb.on_batch_end

    def on_batch_end(batch, logs=None):      # forget the first (warm) batch's times
        cb_tick(batch, logs)
        if cb.batches == 1:
            timers.totals.clear()
    cb.on_batch_end = on_batch_end
    n = batch * (steps + 1)
    try:
        model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0, callbacks=[cb])
    finally:
        for layer in model.layers:
            timers.unwrap(layer, "forward")
            timers.unwrap(layer, "backward")
        timers.unwrap(model.optimizer, "apply")
    step_ms = (cb.t_end - cb.t_start) / steps * 1e3
    per = {k: v / steps * 1e3 for k, v in timers.totals.items()}
    rows = []
    for layer in model.layers:
        fwd, bwd = per.get((layer.name, "forward"), 0.0), per.get((layer.name, "backward"), 0.0)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output": list(layer.output_shape[1:]), "forward_ms": fwd,
                     "backward_ms": bwd})
    opt = per.get(("optimizer", "apply"), 0.0)
    accounted = sum(r["forward_ms"] + r["backward_ms"] for r in rows) + opt
    return {"step_ms": step_ms, "layers": rows, "optimizer_ms": opt,
            "other_ms": max(step_ms - accounted, 0.0)}


def cprofile_top(model, x, y, batch, steps, top, text_path=None):
    """The ``top`` functions by own time over ``steps`` fit steps."""
    n = batch * steps
    prof = cProfile.Profile()
    prof.enable()
    model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (path, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append({"function": func, "where": f"{_short(path)}:{line}", "calls": nc,
                     "own_ms_per_step": tt / steps * 1e3, "cum_ms_per_step": ct / steps * 1e3,
                     "own_share": tt / total if total else 0.0})
    rows.sort(key=lambda r: -r["own_ms_per_step"])
    if text_path:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(40)
        with open(text_path, "w") as f:
            f.write(buf.getvalue())
    return {"total_ms_per_step": total / steps * 1e3, "top": rows[:top]}


def _short(path):
    for marker in ("minicnn/", "numpy/", "benchmarks/", "site-packages/"):
        if marker in path:
            return path[path.index(marker):]
    return os.path.basename(path) if "/" in path else path


def run(ctx, out_dir=None):
    cfg = ctx.cfg["profile"]
    results = []
    for name, spec in ctx.zoo("profile"):
        ctx.log(f"  profile {name}")
        minicnn.set_random_seed(0)
        model = models.build_minicnn(spec)
        batch = spec["batch"]
        x, y = models.data(model, batch * (cfg["steps"] + 1))
        model.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)     # kernels loaded
        minicnn.set_num_threads(1)                # the batch whole: layer times add up
        try:
            breakdown = layer_breakdown(model, x, y, batch, cfg["steps"])
            if ctx.threads > 1:       # the same step on one Numba thread: no barrier waits
                import numba
                before = numba.get_num_threads()
                numba.set_num_threads(1)
                try:
                    breakdown["one_thread"] = layer_breakdown(model, x, y, batch, cfg["steps"])
                finally:
                    numba.set_num_threads(before)
        finally:
            minicnn.set_num_threads(None)
        path = os.path.join(out_dir, f"profile_{name}.txt") if out_dir else None
        prof = cprofile_top(model, x, y, batch, cfg["steps"], cfg["top"], path)
        results.append({"model": name, "title": spec["title"], "batch": batch,
                        "steps": cfg["steps"], "breakdown": breakdown, "cprofile": prof,
                        "listing": os.path.basename(path) if path else None})
    return {"models": results}


def markdown(r):
    lines = []
    for m in r["models"]:
        b = m["breakdown"]
        one = b.get("one_thread")
        head = (f"#### {m['title']} (batch {m['batch']}, run whole on one batch worker): "
                f"{b['step_ms']:.1f} ms per step")
        if one:
            head += f" ({one['step_ms']:.1f} ms on one Numba thread)"
        lines += [head, "",
                  "| layer | output | forward ms | backward ms | share of step | "
                  "1 thread: forward ms | 1 thread: backward ms |",
                  "|---|---|---|---|---|---|---|"]
        for i, row in enumerate(b["layers"]):
            share = (row["forward_ms"] + row["backward_ms"]) / b["step_ms"]
            solo = (f"{one['layers'][i]['forward_ms']:.2f} | {one['layers'][i]['backward_ms']:.2f}"
                    if one else "- | -")
            lines.append(f"| {row['layer']} ({row['type']}) | {'x'.join(map(str, row['output']))} "
                         f"| {row['forward_ms']:.2f} | {row['backward_ms']:.2f} | {100 * share:.0f} % "
                         f"| {solo} |")
        for key, label in (("optimizer_ms", "optimizer update"),
                           ("other_ms", "other (loss, checks, batching)")):
            lines.append(f"| {label} | | {b[key]:.2f} | | {100 * b[key] / b['step_ms']:.0f} % | "
                         f"{one[key] if one else float('nan'):.2f} | |")
        lines += ["", f"cProfile of `fit` with the batch split across the workers, functions "
                      f"by own time in worker 0 ({m['cprofile']['total_ms_per_step']:.1f} ms"
                      f" per step under the profiler"
                      + (f"; full listing `{m['listing']}`" if m["listing"] else "") + "):", "",
                  "| function | where | calls | own ms/step | cum ms/step | own share |",
                  "|---|---|---|---|---|---|"]
        for row in m["cprofile"]["top"]:
            lines.append(f"| `{row['function']}` | {row['where']} | {row['calls']} | "
                         f"{row['own_ms_per_step']:.2f} | {row['cum_ms_per_step']:.2f} | "
                         f"{100 * row['own_share']:.0f} % |")
        lines.append("")
    return lines
