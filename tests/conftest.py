"""Hypothesis profiles for the whole suite (registered once, here).

``ci`` (the default) keeps property tests within the suite's time budget;
``thorough`` is for long runs: ``pytest --hypothesis-profile=thorough``.
``deadline=None``: the first call of a Numba kernel compiles it.
"""
try:
    from hypothesis import settings
except ImportError:          # hypothesis comes with the test extra
    pass
else:
    settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True)
    settings.register_profile("thorough", max_examples=500, deadline=None)
    settings.load_profile("ci")
