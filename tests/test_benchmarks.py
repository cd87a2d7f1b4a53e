"""The benchmark instrument runs every section at tiny sizes and writes its outputs.

No timing is asserted (the machine is shared); the tests check that each
section produces the fields the report and the README rely on, that ratios
are the quotients they claim to be, and that JSON, Markdown and PNG appear.
"""
import json
import os
import subprocess
import sys

import pytest

from benchmarks import config, report, timing
from benchmarks.context import Context
from benchmarks.sections import SECTIONS
from benchmarks.sections.layers import conv_flops

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Every section once, at the TINY sizes, written to a temporary folder."""
    pytest.importorskip("tensorflow")
    from benchmarks import environment
    from benchmarks.run import run_sections
    out = tmp_path_factory.mktemp("bench")
    ctx = Context(config.TINY, log=lambda msg: None)
    sections = run_sections(ctx, list(SECTIONS), str(out))
    results = {"config": config.TINY, "environment": environment.describe(ctx._tf, False),
               "sections": sections, "run_seconds": 1.0}
    paths = report.write(results, str(out))
    return results, paths, out


def test_interleave_alternates_contenders():
    order = []
    samples = timing.interleave({"a": lambda: order.append("a") or 1.0,
                                 "b": lambda: order.append("b") or 2.0}, repeats=3)
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert samples == {"a": [1.0] * 3, "b": [2.0] * 3}
    assert timing.summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}


def test_conv_flops_counts_two_per_multiply_add():
    # 3x3 conv, 1 -> 32 channels, 26x26 output, batch 2: 2 * 2*26*26 * 9*1 * 32
    case = {"config": {"filters": 32, "kernel_size": [3, 3]}, "shape": (2, 28, 28, 1)}
    assert conv_flops(case, (2, 26, 26, 32)) == 2.0 * 2 * 26 * 26 * 9 * 32


def test_matmul_peak_is_positive_and_finite():
    assert 0 < timing.matmul_peak(n=64, repeats=1, threads=1) < 1e5


def test_every_section_reports_its_fields(tiny_run):
    results, _, _ = tiny_run
    s = results["sections"]
    assert set(s) == set(SECTIONS)
    row = s["training"]["rows"][0]
    assert row["model"] == "mnist_convnet" and row["batch"] == 8
    assert row["ratio"] == pytest.approx(row["minicnn_ips"]["median"]
                                         / row["tensorflow_ips"]["median"])
    if os.cpu_count() > 1:
        assert row["minicnn_1_thread_ips"]["n"] == 1
    inf = s["inference"]["rows"][0]
    assert inf["latency_ratio"] == pytest.approx(inf["latency_ms"]["minicnn"]["median"]
                                                 / inf["latency_ms"]["tensorflow"]["median"])
    kinds = [r["layer"] for r in s["layers"]["rows"]]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "BatchNormalization"]
    conv = next(r for r in s["layers"]["rows"] if r["layer"] == "Conv2D")
    assert set(conv["forward"]["ms"]) == {"numba", "numpy", "tensorflow"}
    assert conv["peak_fraction"]["numba"] == pytest.approx(
        conv["gflops"]["numba"] / s["matmul"]["gflops_default_threads"])
    assert [p["batch"] for p in s["scaling"]["by_batch"]] == config.TINY["scaling"]["batches"]
    assert [p["size"] for p in s["scaling"]["by_size"]] == config.TINY["scaling"]["sizes"]
    mem = s["memory"]
    for fw in ("minicnn", "tensorflow"):
        assert mem[fw]["batches"] == 1
        assert mem[fw]["peak_rss_mib"] >= mem[fw]["rss_after_import_mib"] > 0
    assert mem["ratio"] == pytest.approx(mem["minicnn"]["peak_rss_mib"]
                                         / mem["tensorflow"]["peak_rss_mib"])
    st = s["startup"]
    assert 0 < st["cold_import_s"] < st["cold_first_batch_s"]
    assert len(st["cold"]) == 1 and len(st["warm"]) == 1
    prof = s["profile"]["models"][0]
    names = [r["layer"] for r in prof["breakdown"]["layers"]]
    assert len(names) == 8 and prof["breakdown"]["step_ms"] > 0
    assert len(prof["cprofile"]["top"]) == config.TINY["profile"]["top"]


def test_outputs_are_written(tiny_run):
    results, paths, out = tiny_run
    with open(paths["json"]) as f:
        saved = json.load(f)
    assert saved["environment"]["minicnn"]["blas_threads_in_fit"]
    # (another test may have started TensorFlow first; then its pools keep TF's defaults)
    assert saved["environment"]["tensorflow"]["intra_op_threads"] in (0, os.cpu_count())
    goals = {t["target"].split(",")[0] for t in saved["targets"]}
    assert {"training throughput ratio", "peak memory ratio (minicnn/TF)"} <= goals
    text = open(paths["markdown"]).read()
    for heading in ("## Targets", "## 1. Training throughput", "## 2. Inference",
                    "## 3. Per-layer time", "## 4. Scaling", "## 5a. Peak memory",
                    "## 5b. Numba start-up", "minicnn / TF"):
        assert heading in text
    for chart in paths["charts"]:
        with open(chart, "rb") as f:
            assert f.read(8) == PNG_MAGIC
    assert sorted(os.path.basename(c) for c in paths["charts"]) == ["ratios.png", "scaling.png"]
    assert (out / "profile_mnist_convnet.txt").read_text().count("function calls") == 1


def test_command_line_writes_a_partial_report(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/run.py", "--tiny", "--only", "matmul",
                           "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "results.json").read_text())
    assert list(saved["sections"]) == ["matmul"]
    assert saved["sections"]["matmul"]["gflops_1_thread"] > 0
    assert "## Matmul peak" in done.stdout


def test_render_rewrites_the_report_from_json(tiny_run, tmp_path):
    results, paths, out = tiny_run
    (tmp_path / "results.json").write_text(open(paths["json"]).read())
    done = subprocess.run([sys.executable, "benchmarks/run.py", "--render", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results.md").read_text() == open(paths["markdown"]).read()
    assert (tmp_path / "scaling.png").read_bytes()[:8] == PNG_MAGIC


def test_training_flops_count_each_conv_and_dense_layer():
    """The Keras MNIST convnet: about 17 MFLOP per training image (issue 12's figure)."""
    from benchmarks.sections.training import training_mflop
    import minicnn
    macs = [26 * 26 * 32 * 9 * 1, 11 * 11 * 64 * 9 * 32, 3 * 3 * 64 * 9 * 64, 576 * 64, 64 * 10]
    expected = 2 * macs[0] * 2 + sum(2 * m * 3 for m in macs[1:])   # no input gradient first
    assert training_mflop(minicnn.zoo.keras_mnist_convnet()) * 1e6 == expected
    assert 16 < expected / 1e6 < 17


def test_worker_kernel_probe_lists_each_zoo_convolution_once():
    from benchmarks import worker_kernels
    cases = worker_kernels.conv_cases()
    assert len(cases) == 10                      # 3 + 2 + 3 + 2 convs
    firsts = [label for label, (_, _, _, need_dx) in cases.items() if not need_dx]
    assert len(firsts) == 4                      # a network's first conv needs no dx
    shapes = {label: shape for label, (shape, *_) in cases.items()}
    assert shapes["emotion: 64 3x3 on 64x24x24x32"] == (64, 24, 24, 32)   # half of 128
