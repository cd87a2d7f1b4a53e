"""Run the minicnn-against-TensorFlow benchmarks and write the report.

    python benchmarks/run.py                  # full run (about 5 min on 2 cores: 311 s last time)
    python benchmarks/run.py --quick          # < 2 min, fewer and shorter samples
    python benchmarks/run.py --only training --only memory
    python -m benchmarks --quick --out /tmp/bench
    python benchmarks/run.py --render benchmarks/results   # redraw from results.json

A full run without ``--only`` writes ``benchmarks/results/`` (committed);
anything else writes ``runs/benchmarks/`` unless ``--out`` says otherwise.
Outputs: ``results.json`` (every sample summary), ``results.md`` (the tables,
also printed), ``scaling.png`` and ``ratios.png``, ``profile_<model>.txt``.
"""
import argparse
import os
import sys
import time

if __package__ in (None, ""):           # run as a script: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from benchmarks import config, environment, report  # noqa: E402
from benchmarks.context import Context  # noqa: E402
from benchmarks.sections import SECTIONS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def run_sections(ctx, names, out_dir):
    """Run the named sections in the standard order; returns ``{name: result}``."""
    import importlib
    results = {}
    names = [n for n in SECTIONS if n in names]
    if ("layers" in names or "training" in names) and "matmul" not in names:
        names.insert(0, "matmul")           # conv rows and training are quoted against the peak
    for name in names:
        ctx.log(f"[{name}]")
        start, load = time.perf_counter(), os.getloadavg()[0]
        module = importlib.import_module(f"benchmarks.sections.{name}")
        if name in ("layers", "training"):
            result = module.run(ctx, results["matmul"]["gflops_default_threads"])
        elif name == "profile":
            result = module.run(ctx, out_dir)
        else:
            result = module.run(ctx)
        result["seconds"] = time.perf_counter() - start
        result["load_1min"] = [load, os.getloadavg()[0]]      # at the start and the end
        results[name] = result
        ctx.log(f"[{name}] {result['seconds']:.0f} s")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="minicnn against TensorFlow benchmarks")
    parser.add_argument("--quick", action="store_true", help="short run (< 2 minutes)")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)   # for tests
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--threads", type=int, default=None,
                        help="Numba threads and TF intra-op threads (default: all cores)")
    parser.add_argument("--tf-inter-op", type=int, default=0,
                        help="TF inter-op threads (default 0: TensorFlow chooses)")
    parser.add_argument("--render", metavar="DIR",
                        help="measure nothing: rewrite results.md and the charts from "
                             "DIR/results.json")
    args = parser.parse_args(argv)
    if args.render:
        import json
        with open(os.path.join(args.render, "results.json")) as f:
            results = json.load(f)
        report.write(results, args.render)
        print(report.markdown(results))
        return 0
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    cfg = config.MODES[mode]
    names = args.only or list(SECTIONS)
    out_dir = args.out or (os.path.join(HERE, "results") if mode == "full" and not args.only
                           else os.path.join(os.path.dirname(HERE), "runs", "benchmarks"))
    os.makedirs(out_dir, exist_ok=True)
    start = time.perf_counter()
    load = os.getloadavg()
    ctx = Context(cfg, threads=args.threads, tf_inter_op=args.tf_inter_op)
    sections = run_sections(ctx, names, out_dir)
    env = environment.describe(ctx._tf, sections.get("training", {}).get("keras_jit_compile"))
    env["load_average"] = load
    results = {"config": cfg, "environment": env, "sections": sections,
               "run_seconds": time.perf_counter() - start}
    paths = report.write(results, out_dir)
    print(report.markdown(results))
    ctx.log(f"wrote {paths['json']}, {paths['markdown']}, " + ", ".join(paths["charts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
