"""The emotion-net tuning study: the five networks, tiny trials in worker processes
and on a local Dask cluster, the table and plot, reproducibility, the command line.

Trials here train one epoch on a few dozen faces, so the file takes well under a
minute; most of that is starting worker processes.
"""
import sys

import numpy as np
import pytest

from minicnn.datasets import synthetic_faces
from minicnn.experiments import fer_tuning
from minicnn.experiments.fer_tuning import NETWORKS, build, describe, main, run_study

TINY = dict(epochs=1, batch_size=14, learning_rate=1e-3)
TINY_ARGV = ["--train-size", "28", "--val-size", "14", "--epochs", "1", "--batch-size", "14",
             "--networks", "baseline,iteration4", "--quiet"]
MEASURED = ("accuracy", "val_accuracy", "loss", "val_loss")


@pytest.fixture(scope="module")
def tiny_data():
    (x_train, y_train), (x_val, y_val) = synthetic_faces.load_data(28, 14, seed=0)
    return x_train, y_train, x_val, y_val


@pytest.fixture(scope="module")
def in_processes(tiny_data):
    """Two trials at once in two spawned worker processes, one thread each."""
    return run_study(tiny_data, ["baseline", "iteration4"], seed=0, workers=2, threads=1, **TINY)


def numbers(results):
    return [[r[key] for key in MEASURED] for r in results]


# ---------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, kernel, shape, params", [
    ("baseline", (5, 5, 1, 64), (44, 44, 64), 1664),
    ("iteration1", (5, 5, 1, 64), (44, 44, 64), 1664),
    ("iteration2", (5, 5, 1, 64), (44, 44, 64), 1664),
    ("iteration3", (3, 3, 1, 64), (46, 46, 64), 640),
    ("iteration4", (3, 3, 1, 64), (46, 46, 64), 640),
])
def test_first_layer(name, kernel, shape, params):
    model = build(name)
    first = model.layers[0]
    assert first.name == "conv_first"
    assert first.params["kernel"].shape == kernel
    assert tuple(first.output_shape[1:]) == shape
    assert first.count_params() == params
    assert model.output_shape == (None, 7)
    if name == "baseline":
        assert np.prod(shape) == 123_904                   # the source's activation count


def test_parameter_counts():
    assert {name: build(name).count_params() for name in NETWORKS} == {
        "baseline": 1_346_567, "iteration1": 1_440_583, "iteration2": 1_440_583,
        "iteration3": 4_003_527, "iteration4": 857_799}


def layer_diff(before, after):
    """(layers removed, layers added, {name: (kind before, kind after)} for changed kinds)."""
    a = {name: kind for name, kind, _, _ in describe(build(before))}
    b = {name: kind for name, kind, _, _ in describe(build(after))}
    changed = {name: (a[name], b[name]) for name in a.keys() & b.keys() if a[name] != b[name]}
    return set(a) - set(b), set(b) - set(a), changed


def test_each_iteration_is_one_edit():
    assert layer_diff("baseline", "iteration1") == ({"block1_conv2", "block2_conv2"}, set(), {})
    assert layer_diff("iteration1", "iteration2") == (set(), set(), {
        "block1_pool": ("avg pool", "max pool"), "block2_pool": ("avg pool", "max pool")})
    assert layer_diff("iteration2", "iteration3") == (
        {"block2_conv1", "block2_pool"}, set(), {"conv_first": ("conv 5x5x64", "conv 3x3x64")})
    assert layer_diff("iteration3", "iteration4") == (set(), {"pool_first"}, {})
    order = [name for name, *_ in describe(build("iteration4"))]
    assert order[:3] == ["conv_first", "pool_first", "block1_conv1"]   # pooling right after


def test_unknown_network():
    with pytest.raises(ValueError, match="iteration4"):
        build("iteration5")


# ---------------------------------------------------------------------------
# trials: worker processes, in this process, Dask; reproducible for a seed
# ---------------------------------------------------------------------------
def test_trials_in_worker_processes(in_processes):
    assert [r["name"] for r in in_processes] == ["baseline", "iteration4"]
    for r in in_processes:
        assert r["threads"] == 1
        for key in MEASURED + ("seconds",):
            assert len(r[key]) == 1 and np.isfinite(r[key][0])
        assert 0 <= r["accuracy"][0] <= 1 and r["seconds"][0] > 0
    assert in_processes[0]["parameters"] == 1_346_567


def test_same_seed_same_numbers(tiny_data, in_processes):
    """The same seed and threads per trial give the same numbers here as in the workers."""
    here = run_study(tiny_data, ["baseline", "iteration4"], seed=0, workers=1, threads=1, **TINY)
    assert numbers(here) == numbers(in_processes)
    other = run_study(tiny_data, ["iteration4"], seed=1, workers=1, threads=1, **TINY)
    assert numbers(other)[0] != numbers(in_processes)[1]


def test_trials_on_a_local_dask_cluster(tiny_data, in_processes, tmp_path, capsys):
    pytest.importorskip("distributed", reason='needs pip install "dask[distributed]"')
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        results = run_study(tiny_data, ["baseline", "iteration4"], seed=0, scheduler=address,
                            **TINY)
        assert [r["threads"] for r in results] == [1, 1]        # the workers' thread count
        assert numbers(results) == numbers(in_processes)
        table = tmp_path / "dask.md"
        status = main(TINY_ARGV + ["--scheduler", address, "--table", str(table), "--plot", ""])
    assert status == 0
    assert "| baseline |" in table.read_text() and "| iteration4 |" in table.read_text()
    assert not (tmp_path / "fer_tuning.png").exists()


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
def test_cli_writes_the_table_and_the_plot(tmp_path, capsys):
    table, plot = tmp_path / "study.md", tmp_path / "study.png"
    status = main(TINY_ARGV + ["--workers", "2", "--table", str(table), "--plot", str(plot)])
    out = capsys.readouterr().out
    assert status == 0
    text = table.read_text()
    assert text in out                                          # printed as well
    assert "28 training + 14 validation images" in text
    assert ("| baseline | the deep net: five convolutions, average pooling "
            "| conv 5x5x64 -> 44x44x64 (1,664) | 1,346,567 |") in text
    assert "| iteration4 | added pooling after the first convolution" in text
    assert "| baseline | 1 |" in text and "| iteration4 | 1 |" in text   # per-epoch rows
    assert "iteration1" not in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_cli_help_names_every_network(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    for text in ("--workers", "--scheduler", "--data", "--networks", "--table", "--plot",
                 *NETWORKS):
        assert text in out


@pytest.mark.parametrize("argv, needle", [
    (["--networks", "baseline,iteration9"], "unknown network 'iteration9'"),
    (["--workers", "0"], "expected a positive integer, received 0"),
    (["--epochs", "two"], "expected a positive integer, received 'two'"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers is for local"),
])
def test_cli_rejects_bad_options(argv, needle, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert needle in capsys.readouterr().err


def one_line_error(status, err, *needles):
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    status = main(["--data", str(tmp_path / "missing.csv"), "--table", str(tmp_path / "t.md")])
    one_line_error(status, capsys.readouterr().err, "missing.csv")
    (tmp_path / "bad.csv").write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    status = main(["--data", str(tmp_path / "bad.csv"), "--table", str(tmp_path / "t.md")])
    one_line_error(status, capsys.readouterr().err, "bad.csv", "line 2")
    status = main(TINY_ARGV + ["--table", str(tmp_path)])       # a folder
    one_line_error(status, capsys.readouterr().err, "is a folder")

    for name in ("dask", "dask.distributed", "distributed"):      # as if not installed
        monkeypatch.setitem(sys.modules, name, None)
    status = main(TINY_ARGV + ["--scheduler", "tcp://127.0.0.1:8786",
                               "--table", str(tmp_path / "t.md")])
    one_line_error(status, capsys.readouterr().err, "pip install", "dask[distributed]")
    assert not (tmp_path / "t.md").exists()


def test_cli_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed", reason='needs pip install "dask[distributed]"')
    monkeypatch.setattr(fer_tuning, "CONNECT_TIMEOUT", "1s")
    status = main(TINY_ARGV + ["--scheduler", "tcp://127.0.0.1:9", "--table",
                               str(tmp_path / "t.md")])
    one_line_error(status, capsys.readouterr().err, "cannot connect to the Dask scheduler",
                   "tcp://127.0.0.1:9")
