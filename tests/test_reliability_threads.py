"""Issue 11, defect 10: ``backend.compute_threads`` shared by several threads.

BLAS's thread count is one setting for the whole process. The first thread
into ``compute_threads`` lowers it to 1, the last one out restores it; in
between, every thread sees 1. Before the fix each thread saved and restored
the count on its own, so overlapping threads left BLAS at 1 thread for good.
"""
import json
import random
import subprocess
import sys
import threading
import time

import pytest
import threadpoolctl

from minicnn import backend

BASELINE = 3          # a BLAS thread count that differs from compute_threads' 1


def blas_threads():
    return sorted({info["num_threads"] for info in threadpoolctl.threadpool_info()
                   if info["user_api"] == "blas"})


def _release_openblas_ownership():
    # threadpoolctl >= 3.6 lets only the thread that last set OpenBLAS's count
    # set it again; the fixture hands that back so the threads under test can.
    owner = getattr(threadpoolctl, "OpenBLASController", None)
    if hasattr(owner, "clear_controlling_thread"):
        owner.clear_controlling_thread(force=True)


@pytest.fixture
def blas_at_baseline():
    """BLAS set to BASELINE threads for the test, and put back afterwards."""
    if not blas_threads():
        pytest.skip("threadpoolctl sees no BLAS library")
    previous = backend.backend()
    backend.set_backend("numba")
    limiter = threadpoolctl.ThreadpoolController().limit(limits=BASELINE, user_api="blas")
    _release_openblas_ownership()
    try:
        assert blas_threads() == [BASELINE]
        yield
    finally:
        _release_openblas_ownership()
        limiter.restore_original_limits()
        _release_openblas_ownership()
        backend.set_backend(previous)


def test_overlapping_threads_restore_the_blas_count(blas_at_baseline):
    # A enters, B enters, A leaves while B is still inside, then B leaves.
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with backend.compute_threads():
            a_inside.set()
            assert b_inside.wait(10)
            seen["both inside"] = blas_threads()
        a_left.set()

    def second():
        assert a_inside.wait(10)
        with backend.compute_threads():
            b_inside.set()
            assert a_left.wait(10)
            seen["second still inside"] = blas_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"both inside": [1], "second still inside": [1]}
    assert blas_threads() == [BASELINE]


def test_many_threads_entering_and_leaving_at_random(blas_at_baseline):
    rng = random.Random(11)
    pauses = [[rng.uniform(0, 0.002) for _ in range(30)] for _ in range(6)]
    inside_counts, errors = [], []

    def worker(my_pauses):
        try:
            for pause in my_pauses:
                with backend.compute_threads():
                    inside_counts.append(blas_threads())
                    time.sleep(pause)
                time.sleep(pause / 2)
        except Exception as exc:      # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in pauses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(inside_counts) == 6 * 30
    assert all(count == [1] for count in inside_counts)
    assert blas_threads() == [BASELINE]


def test_nested_use_in_one_thread_restores_on_the_outer_exit(blas_at_baseline):
    with backend.compute_threads():
        with backend.compute_threads():          # fit -> evaluate inside
            assert blas_threads() == [1]
        assert blas_threads() == [1]
    assert blas_threads() == [BASELINE]


def test_an_exception_inside_still_restores(blas_at_baseline):
    with pytest.raises(RuntimeError):
        with backend.compute_threads():
            raise RuntimeError("boom")
    assert blas_threads() == [BASELINE]


LATE_LIBRARY = r"""
import json
import threadpoolctl
from minicnn import backend
with backend.compute_threads():          # the first scan: NumPy's BLAS only
    pass
import scipy.linalg.cython_blas          # SciPy's BLAS, as the Numba kernels load it
owner = getattr(threadpoolctl, "OpenBLASController", None)
limiter = threadpoolctl.ThreadpoolController().limit(limits=%d, user_api="blas")
if hasattr(owner, "clear_controlling_thread"):
    owner.clear_controlling_thread(force=True)
def counts():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
before = counts()
with backend.compute_threads():
    inside = counts()
print(json.dumps({"before": before, "inside": inside, "after": counts()}))
""" % BASELINE


def test_a_blas_library_loaded_after_the_first_use_is_limited_too():
    # Numba's kernels reach SciPy's BLAS, loaded with the first kernel compiled,
    # after compute_threads first scanned the libraries: it must be limited as well.
    result = subprocess.run([sys.executable, "-c", LATE_LIBRARY], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout)
    if len(counts["before"]) < 2:
        pytest.skip("NumPy and SciPy share one BLAS library here")
    n = len(counts["before"])
    assert counts == {"before": [BASELINE] * n, "inside": [1] * n, "after": [BASELINE] * n}
