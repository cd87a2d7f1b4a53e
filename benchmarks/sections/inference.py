"""Inference: batch-1 latency and big-batch throughput.

minicnn: ``model.predict_on_batch(x)`` (the batch split across the cores
when large enough, as ``predict`` does) inside ``backend.compute_threads()``.
TensorFlow: a ``tf.function`` of the Keras model (``training=False``), not
``predict``, so neither side pays a data pipeline. Both take a NumPy array and
hand back a NumPy array.
Latency ratio = minicnn time / TF time (below 1 means minicnn is faster);
throughput ratio = minicnn / TF (above 1 means minicnn is faster).
"""
import minicnn

from .. import models
from ..timing import calls_for, interleave, summary, time_calls
from .training import _on_one_core


def _keras_fn(ctx, kr, shape):
    tf = ctx.tf
    spec = tf.TensorSpec(shape=shape, dtype=tf.float32)
    fn = tf.function(lambda x: kr(x, training=False), input_signature=[spec])
    return lambda x: fn(x).numpy()


def measure(ctx, mc, kr, x, cfg):
    """Seconds per call for each framework on batch x (interleaved samples).

    A third contender, minicnn on one core (one batch worker, one Numba
    thread), shows what the other cores add (not part of the ratio).
    """
    with ctx.cpu_device():
        keras_call = _keras_fn(ctx, kr, x.shape)
        contenders = {"minicnn": lambda: mc.predict_on_batch(x),
                      "tensorflow": lambda: keras_call(x)}
        with minicnn.backend.compute_threads():
            calls = {k: calls_for(fn, cfg["sample_s"]) for k, fn in contenders.items()}
            timed = {k: (lambda k=k: time_calls(contenders[k], calls[k])) for k in contenders}
            if ctx.threads > 1:
                timed["minicnn_1_thread"] = _on_one_core(timed["minicnn"])
            samples = interleave(timed, cfg["repeats"])
    return samples


def run(ctx):
    cfg = ctx.cfg["inference"]
    rows = []
    for name, spec in ctx.zoo("inference"):
        ctx.log(f"  inference {name}")
        ctx.keras
        mc, kr = models.twin(spec)
        x, _ = models.data(mc, cfg["big_batch"])
        one = measure(ctx, mc, kr, x[:1], cfg)
        big = measure(ctx, mc, kr, x, cfg)
        lat = {k: summary([s * 1e3 for s in v]) for k, v in one.items()}          # ms
        ips = {k: summary([len(x) / s for s in v]) for k, v in big.items()}       # img/s
        rows.append({"model": name, "title": spec["title"], "big_batch": len(x),
                     "latency_ms": lat, "throughput_ips": ips,
                     "latency_ratio": lat["minicnn"]["median"] / lat["tensorflow"]["median"],
                     "throughput_ratio": ips["minicnn"]["median"] / ips["tensorflow"]["median"]})
    return {"rows": rows, "repeats": cfg["repeats"]}


def markdown(r):
    big = r["rows"][0]["big_batch"] if r["rows"] else 256
    lines = [f"| model | batch-1 minicnn ms | batch-1 TF ms | latency ratio (minicnn time / "
             f"TF time; <1 = minicnn faster) | batch-{big} minicnn img/s | batch-{big} TF img/s | "
             f"throughput ratio (minicnn / TF; >1 = minicnn faster) | minicnn on one core: "
             f"batch-1 ms, batch-{big} img/s |", "|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        lat, ips = row["latency_ms"], row["throughput_ips"]
        one = (f"{lat['minicnn_1_thread']['median']:.2f}, "
               f"{ips['minicnn_1_thread']['median']:,.0f}" if "minicnn_1_thread" in lat else "-")
        lines.append(f"| {row['title']} | {lat['minicnn']['median']:.2f} | "
                     f"{lat['tensorflow']['median']:.2f} | **{row['latency_ratio']:.2f}** | "
                     f"{ips['minicnn']['median']:,.0f} | {ips['tensorflow']['median']:,.0f} | "
                     f"**{row['throughput_ratio']:.2f}** | {one} |")
    lines += ["", f"minicnn `model.predict_on_batch` in `compute_threads()` against a `tf.function` of "
              f"the Keras model; medians of {r['repeats']} interleaved samples. The last column "
              f"(not part of the ratios) is minicnn on one core (one batch worker, one Numba thread)."]
    return lines
