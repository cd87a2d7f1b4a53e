"""Per-layer forward and forward+backward time, for the shapes the zoo uses.

Three contenders per layer: minicnn with its Numba kernels (inside
``compute_threads``, as in ``fit``), minicnn with the NumPy twins
(``set_backend("numpy")``, BLAS at its default threads), and the Keras layer
in a ``tf.function`` (backward: a GradientTape giving dx and every weight
gradient, as minicnn's backward does). Dense and batch-norm layers run the
same NumPy code on both minicnn backends, so only the Numba column is timed.
Ratio = minicnn (Numba) time / TF time: below 1 means minicnn is faster.
For conv layers, forward GFLOP/s = 2*N*OH*OW*kh*kw*C*F / time, and the
fraction of the matmul peak measured in the same run.
"""
import numpy as np

import minicnn
from minicnn import layers as mlayers

from ..timing import calls_for, interleave, summary, time_calls

_MEASURED = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Dense")


def cases(ctx):
    """Unique (layer type, hyper-parameters, input shape) of the zoo's conv, pool and dense layers."""
    from .. import models
    found = {}
    for name, spec in ctx.zoo("layers"):
        mc = models.build_minicnn(spec)
        for layer in mc.layers:
            kind = type(layer).__name__
            if kind not in _MEASURED:
                continue
            config = {k: v for k, v in layer.get_config().items() if k not in models._SKIP}
            shape = (spec["batch"], *layer.input_shape[1:])
            key = (kind, repr(sorted(config.items())), shape)
            found.setdefault(key, {"kind": kind, "layer": layer, "config": config,
                                   "shape": shape, "models": []})
            found[key]["models"].append(name)
    out = list(found.values())[:ctx.cfg["layers"].get("max_cases")]
    if ctx.cfg["layers"].get("extra_batchnorm", True):
        # none of the zoo nets has one; measure it at the first conv output of the MNIST net
        bn = mlayers.BatchNormalization()
        batch = ctx.spec("mnist_convnet")["batch"]
        out.append({"kind": "BatchNormalization", "layer": bn, "config": {},
                    "shape": (batch, 26, 26, 32),
                    "models": ["(not in the zoo: MNIST conv-1 output)"]})
    return out


def conv_flops(case, out_shape):
    """Forward multiply-adds x 2 of a conv case: 2 * N*OH*OW * kh*kw*C * F."""
    kh, kw = case["config"]["kernel_size"]
    n, oh, ow, f = out_shape
    return 2.0 * n * oh * ow * kh * kw * case["shape"][-1] * f


def _layer_pair(ctx, case):
    """A fresh minicnn layer like the zoo's, and its Keras twin with the same weights."""
    from ..models import keras_layer
    ctx.keras
    template = case["layer"]
    config = {k: v for k, v in template.get_config().items() if k != "name"}
    ml = type(template).from_config(config)
    ml.build((None, *case["shape"][1:]))
    kl = keras_layer(ml)
    kl.build((None, *case["shape"][1:]))
    if ml.get_weights():
        kl.set_weights(ml.get_weights())
    return ml, kl


def _tf_fns(ctx, kl, x, dy):
    tf = ctx.tf

    @tf.function
    def fwd(x):
        return kl(x, training=True)

    @tf.function
    def fwd_bwd(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            s = tf.reduce_sum(kl(x, training=True) * dy)
        return tape.gradient(s, [x, *kl.trainable_variables])

    xt, dyt = tf.constant(x), tf.constant(dy)
    return (lambda: fwd(xt).numpy()), (lambda: fwd_bwd(xt, dyt)[0].numpy())


def _minicnn_fns(ml, x, dy):
    def fwd():
        return ml.forward(x, training=True)

    def fwd_bwd():
        ml.forward(x, training=True)
        return ml.backward(dy)
    return fwd, fwd_bwd


def _sampler(fn, target_s, backend):
    """A sample function: seconds per call of fn, on the given minicnn backend.

    The backend in force before is put back after every sample, so the run
    leaves minicnn's global setting as it found it.
    """
    def timed(calls):
        before = minicnn.backend.backend()
        minicnn.set_backend(backend)
        try:
            if backend == "numba":
                with minicnn.backend.compute_threads():
                    return calls(fn)
            return calls(fn)
        finally:
            minicnn.set_backend(before)

    n_calls = timed(lambda f: calls_for(f, target_s))
    return lambda: timed(lambda f: time_calls(f, n_calls))


def measure_case(ctx, case, cfg):
    rng = np.random.default_rng(0)
    ml, kl = _layer_pair(ctx, case)
    x = rng.standard_normal(case["shape"]).astype(np.float32)
    out_shape = ml.compute_output_shape(x.shape)
    dy = rng.standard_normal(out_shape).astype(np.float32)
    with ctx.cpu_device():
        tf_fwd, tf_fb = _tf_fns(ctx, kl, x, dy)
        mc_fwd, mc_fb = _minicnn_fns(ml, x, dy)
        twins = cfg["numpy_twins"] and case["kind"] not in ("Dense", "BatchNormalization")
        result = {}
        for mode, mc_fn, tf_fn in (("forward", mc_fwd, tf_fwd), ("forward_backward", mc_fb, tf_fb)):
            contenders = {"numba": _sampler(mc_fn, cfg["sample_s"], "numba")}
            if twins:
                contenders["numpy"] = _sampler(mc_fn, cfg["sample_s"], "numpy")
            contenders["tensorflow"] = _sampler(tf_fn, cfg["sample_s"], "numba")
            samples = interleave(contenders, cfg["repeats"])
            ms = {k: summary([s * 1e3 for s in v]) for k, v in samples.items()}
            result[mode] = {"ms": ms, "ratio": ms["numba"]["median"] / ms["tensorflow"]["median"]}
    row = {"layer": case["kind"], "config": case["config"], "input": list(case["shape"]),
           "output": list(out_shape), "models": case["models"], **result}
    if case["kind"] == "Conv2D":
        flops = conv_flops(case, out_shape)
        row["forward_gflop"] = flops / 1e9
        row["gflops"] = {k: flops / (v["median"] * 1e-3) / 1e9
                         for k, v in result["forward"]["ms"].items()}
    return row


def run(ctx, peak_gflops=None):
    cfg = ctx.cfg["layers"]
    rows = []
    for case in cases(ctx):
        ctx.log(f"  layer {case['kind']} {case['shape']}")
        row = measure_case(ctx, case, cfg)
        if peak_gflops and "gflops" in row:
            row["peak_fraction"] = {k: v / peak_gflops for k, v in row["gflops"].items()}
        rows.append(row)
    return {"rows": rows, "repeats": cfg["repeats"], "peak_gflops": peak_gflops}


def describe(row):
    """"Conv2D 32 3x3 valid relu" and the like, for the tables."""
    c = row["config"]
    if row["layer"] == "Conv2D":
        kh, kw = c["kernel_size"]
        return f"Conv2D {c['filters']} {kh}x{kw} {c['padding']} {c['activation']}"
    if row["layer"] == "Dense":
        return f"Dense {c['units']} {c['activation']}"
    if "pool_size" in c:
        return f"{row['layer']} {c['pool_size'][0]}x{c['pool_size'][1]} {c['padding']}"
    return row["layer"]


def markdown(r):
    def cell(ms, key):
        return f"{ms[key]['median']:.2f}" if key in ms else "-"
    lines = ["Times in ms (medians); ratio = minicnn Numba time / TF time (<1 = minicnn faster); "
             "GFLOP/s and % of the matmul peak for the conv forward pass.", "",
             "| layer | input (NHWC) | fwd Numba | fwd NumPy | fwd TF | fwd ratio | "
             "fwd+bwd Numba | fwd+bwd NumPy | fwd+bwd TF | fwd+bwd ratio | "
             "GFLOP/s Numba (TF) | % peak Numba (TF) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        f, fb = row["forward"]["ms"], row["forward_backward"]["ms"]
        g = row.get("gflops")
        gcell = f"{g['numba']:.1f} ({g['tensorflow']:.1f})" if g else "-"
        p = row.get("peak_fraction")
        pcell = f"{100 * p['numba']:.0f} % ({100 * p['tensorflow']:.0f} %)" if p else "-"
        lines.append(f"| {describe(row)} | {'x'.join(map(str, row['input']))} | "
                     f"{cell(f, 'numba')} | {cell(f, 'numpy')} | {cell(f, 'tensorflow')} | "
                     f"**{row['forward']['ratio']:.2f}** | {cell(fb, 'numba')} | "
                     f"{cell(fb, 'numpy')} | {cell(fb, 'tensorflow')} | "
                     f"**{row['forward_backward']['ratio']:.2f}** | {gcell} | {pcell} |")
    return lines
