"""A read-only install: no folder for Numba's cache means compiling in memory."""
import subprocess
import sys

import pytest

from minicnn.kernels import jit


def test_a_writable_folder_allows_the_disk_cache(tmp_path):
    assert jit.disk_cache_possible([str(tmp_path / "missing" / "made")])
    assert (tmp_path / "missing" / "made").is_dir()


def test_no_writable_folder_warns_once_and_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")            # nothing can be created below a file
    with pytest.warns(RuntimeWarning, match="no writable folder for Numba's cache"):
        assert not jit.disk_cache_possible([str(blocker / "pkg"), str(blocker / "home")])


def test_kernels_compile_and_run_without_a_disk_cache(tmp_path):
    """The package folder and the user cache both refuse files (simulated in a child
    process): one warning, and the kernels still compile and run."""
    env_home = tmp_path / "a-file"
    env_home.write_text("x")
    script = (
        "import os, sys\n"
        "from numba.misc import appdirs\n"
        f"appdirs.AppDirs.user_cache_dir = property(lambda self: {str(env_home / 'cache')!r})\n"
        "import tempfile\n"
        "real = tempfile.TemporaryFile\n"
        "def deny(*a, dir=None, **k):\n"
        "    if dir and dir.endswith('__pycache__'): raise PermissionError(dir)\n"
        "    return real(*a, dir=dir, **k)\n"
        "tempfile.TemporaryFile = deny\n"
        "os.environ.pop('NUMBA_CACHE_DIR', None)\n"
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    from minicnn.kernels import jit, window\n"
        "    import numpy as np\n"
        "    x = np.ones((1, 4, 4, 1), np.float32)\n"
        "    cols = jit.im2col(x, window((4, 4), (3, 3)))\n"
        "print(jit.JIT['cache'], cols.shape, sum('Numba' in str(m.message) for m in w))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "(4,", "9)", "1"]
