"""Reference devices and the one assertion helper of the parity suite.

Every test here compares minicnn with Keras on a *reference device*, a
fixture parametrized over ``tf-cpu``, ``tf-gpu`` and ``jax-gpu``. A device
this machine lacks shows as skipped with the reason, never as an empty pass.

    pytest tests/parity                              # TensorFlow: CPU, and GPU if visible
    pytest tests/parity -m gpu                       # only the GPU parametrization
    MINICNN_REFERENCE=jax pytest tests/parity -m gpu # Keras 3 on JAX on a GPU (own process)

The tolerance table is ``minicnn.parity.compare.TOLERANCES`` (one table, each
number with its row of docs/keras_semantics.md "Tolerances"); the report
``python -m minicnn.parity`` uses the same table and the same cases.
"""
import pytest

from minicnn.parity import references

# The worst errors seen, per (group, device), printed after the run.
WORST = {}


def _device_params():
    return [pytest.param(d, marks=pytest.mark.gpu) if d.endswith("gpu") else d
            for d in references.listed_devices()]


@pytest.fixture(scope="session", params=_device_params())
def reference(request):
    """Keras on one reference device; skips with the reason when it is absent."""
    ok, reason = references.availability(request.param)
    if not ok:
        pytest.skip(f"{request.param}: {reason}")
    return references.get(request.param)


@pytest.fixture(scope="session")
def assert_parity():
    """``assert_parity(results, group, device)``: every comparison within its tolerance.

    ``results`` is a list of ``minicnn.parity.Comparison``; the failure
    message lists every out-of-tolerance array with its errors.
    """
    def check(results, group, device):
        assert results, "a parity case compared nothing"
        worst = WORST.get((group, device), (0.0, 0.0, 0))
        WORST[(group, device)] = (max(worst[0], *(c.abs_err for c in results)),
                                  max(worst[1], *(c.rel_err for c in results)), worst[2] + 1)
        failed = [str(c) for c in results if not c.passed]
        assert not failed, f"{group} on {device}: " + "; ".join(failed)
    return check


def pytest_terminal_summary(terminalreporter):
    if not WORST:
        return
    terminalreporter.write_sep("-", "parity: worst error per group and device")
    for (group, device), (abs_err, rel_err, count) in sorted(WORST.items()):
        terminalreporter.write_line(f"{group:<28} {device:<8} {count:>4} cases   "
                                    f"abs {abs_err:.2e}   rel {rel_err:.2e}")
