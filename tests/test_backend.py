"""The thread policy minicnn sets at import, checked in fresh processes."""
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


def _probe(mode, **env):
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    clean.update(env, PYTHONPATH=ROOT + os.pathsep + clean.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", PROBE, mode], env=clean, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


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
