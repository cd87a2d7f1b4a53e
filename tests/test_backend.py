"""The thread and malloc policies minicnn sets at import, checked in fresh processes."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = r"""
import json, os, sys, warnings
if sys.argv[1] == "numba_first":
    import numba
    numba.set_num_threads(1)              # starts Numba's thread pool
    from numba.np.ufunc import parallel
    layer = parallel.threading_layer()
else:
    layer = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import minicnn
print(json.dumps({"policy": os.environ.get("OMP_WAIT_POLICY"), "layer": layer,
                  "warnings": [str(w.message) for w in caught
                               if issubclass(w.category, RuntimeWarning)]}))
"""


def _fresh_process(script, mode, unset, **env):
    """The JSON that ``script`` prints last, run with ``mode`` in a new interpreter
    whose environment lacks the variables starting with ``unset`` and has ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    clean.update(env, PYTHONPATH=ROOT + os.pathsep + clean.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", script, mode], env=clean, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def _probe(mode, **env):
    return _fresh_process(PROBE, mode, "OMP_WAIT_POLICY", **env)


def test_import_asks_openmp_for_sleeping_threads():
    result = _probe("plain")
    assert result["policy"] == "PASSIVE"
    assert result["warnings"] == []


def test_the_users_choice_of_wait_policy_is_kept():
    assert _probe("plain", OMP_WAIT_POLICY="ACTIVE")["policy"] == "ACTIVE"


def test_warns_when_numba_threads_started_before_minicnn():
    result = _probe("numba_first", NUMBA_THREADING_LAYER="omp")
    if result["layer"] != "omp":
        pytest.skip(f"Numba's OpenMP layer is not available here (got {result['layer']!r})")
    assert len(result["warnings"]) == 1
    assert "Import minicnn first" in result["warnings"][0]


FAULTS = r"""
import json, platform, resource, sys, threading
import numpy as np
if sys.argv[1] == "minicnn":
    import minicnn
out = {}
def worker():                                    # one shard's arrays in a predict, 20 times
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(20):
        a = np.ones((128, 26, 26, 32), np.float32)   # a conv output, 11 MB
        b = np.ones((128 * 676, 9), np.float32)      # its cols, 3 MB
        del b
        c = np.ones((128, 13, 13, 32), np.float32)   # pooled, 2.8 MB
        del a
        d = np.ones((128, 11, 11, 64), np.float32)   # the next conv, 4 MB
        del c, d
    out["faults"] = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
t = threading.Thread(target=worker)
t.start()
t.join()
tuned = sys.modules["minicnn"].backend.MALLOC_TUNED if "minicnn" in sys.modules else None
print(json.dumps({"faults": out["faults"], "libc": platform.libc_ver()[0], "tuned": tuned}))
"""


def _faults(mode, **env):
    return _fresh_process(FAULTS, mode, "MALLOC_", **env)


def test_import_keeps_freed_arrays_in_a_worker_thread_unless_the_user_tuned_malloc():
    """A worker thread allocating a shard's arrays 20 times: with minicnn imported the
    freed memory stays in the process and far fewer pages are faulted in again than
    under glibc's defaults; a MALLOC_* setting of the user's is left in charge."""
    plain = _faults("plain")
    if plain["libc"] != "glibc" or not hasattr(__import__("resource"), "RUSAGE_THREAD"):
        pytest.skip(f"malloc tuning is glibc/Linux only (libc here: {plain['libc']!r})")
    tuned = _faults("minicnn")
    assert tuned["tuned"] is True
    assert tuned["faults"] < plain["faults"] / 2
    assert _faults("minicnn", MALLOC_TRIM_THRESHOLD_="0")["tuned"] is False
