"""Every public class and function of the public modules has a docstring (issue: the
reference documentation is built from them)."""
import importlib
import inspect

import pytest

MODULES = ["minicnn", "minicnn.layers", "minicnn.losses", "minicnn.optimizers", "minicnn.metrics",
           "minicnn.callbacks", "minicnn.initializers", "minicnn.regularizers",
           "minicnn.constraints", "minicnn.ops", "minicnn.utils", "minicnn.models",
           "minicnn.schedules", "minicnn.applications", "minicnn.zoo",
           "minicnn.preprocessing.image", "minicnn.preprocessing.sequence", "minicnn.saving",
           "minicnn.keras_io", "minicnn.datasets", "minicnn.viz"]


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name):
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    missing = []
    for n in names:
        obj = getattr(module, n, None)
        if inspect.isclass(obj) and "__doc__" not in obj.__dict__ or \
                inspect.isfunction(obj) and not inspect.getdoc(obj):
            missing.append(n)
        elif inspect.isclass(obj) and not obj.__dict__["__doc__"]:
            missing.append(n)
    assert not missing, f"{name}: no docstring on {missing}"
