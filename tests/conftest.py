"""Suite-wide settings: hypothesis profiles, and TensorFlow without oneDNN.

``ci`` (the default) keeps property tests within the suite's time budget;
``thorough`` is for long runs: ``pytest --hypothesis-profile=thorough``.
``deadline=None``: the first call of a Numba kernel compiles it.

TensorFlow 2.21's oneDNN kernels compute some strided convolutions wrongly
(see ``minicnn/parity/references.py``); tests that compare with TensorFlow
need its Eigen kernels, chosen by this variable before TensorFlow is imported.
"""
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
try:
    from hypothesis import settings
except ImportError:          # hypothesis comes with the test extra
    pass
else:
    settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True)
    settings.register_profile("thorough", max_examples=500, deadline=None)
    settings.load_profile("ci")
