"""Honest progress on screen: a first run that compiles kernels says so, and the
rate a bar shows leaves out the first batch (which carries the compilation)."""
import numpy as np

import minicnn
from minicnn import kernels
from minicnn.kernels import jit


def _model():
    model = minicnn.Sequential([minicnn.Input((6, 6, 1)), minicnn.layers.Conv2D(2, 3),
                                minicnn.layers.Flatten(), minicnn.layers.Dense(2)])
    model.compile("sgd", "mse")
    return model


def test_fit_announces_compilation_only_when_the_cache_is_cold(monkeypatch, capsys):
    x, y = np.zeros((8, 6, 6, 1), np.float32), np.zeros((8, 2), np.float32)
    monkeypatch.setattr(jit, "compiled_in_process", lambda: False)
    monkeypatch.setattr(jit, "compiled_on_disk", lambda: False)
    _model().fit(x, y, epochs=1, verbose=1)
    assert "compiling the kernels for this machine" in capsys.readouterr().out
    _model().fit(x, y, epochs=1, verbose=0)                 # silent: no notice either
    assert "compiling" not in capsys.readouterr().out
    monkeypatch.setattr(jit, "compiled_on_disk", lambda: True)
    assert kernels.compile_notice() is None
    _model().fit(x, y, epochs=1, verbose=1)
    assert "compiling" not in capsys.readouterr().out


def test_the_disk_cache_check_names_this_sources_index_file():
    path = jit._im2col.serial._cache._cache_file._index_path
    line = jit._im2col.serial.py_func.__code__.co_firstlineno
    assert path.endswith(".nbi") and f"_im2col_serial-{line}." in path
    other = jit._im2col.parallel._cache._cache_file._index_path
    assert f"_im2col-{line}." in other        # the twins keep separate cache files
    jit.im2col(np.zeros((1, 4, 4, 1), np.float32), kernels.window((4, 4), (3, 3)))
    assert jit.compiled_in_process() and jit.compiled_on_disk() == bool(jit.JIT["cache"])


def test_the_rate_leaves_out_the_first_batch(monkeypatch, capsys):
    from minicnn import callbacks
    bar = callbacks.ProgbarLogger()
    bar.set_params({"verbose": 1, "epochs": 1, "total": 30, "unit": "img"})
    bar.on_epoch_begin(0)
    bar.advance(10)
    assert bar.bar.initial == 10 and bar.bar.n == 10        # the clock started after batch 1
    bar.advance(10)
    assert bar.bar.n == 20 and bar.bar.initial == 10
    bar.close()
