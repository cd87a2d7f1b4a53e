"""Each layer's constructor against its Keras 3 twin: same arguments, same defaults.

Code copied from Keras, and configs converted from Keras models, pass Keras's
arguments by name and often with their default values; a minicnn layer must take
every one of them. Values minicnn does not implement ("channels_first",
``groups=2``, ...) are refused with a ValueError at construction
(``test_keras_arguments.py``); the signatures themselves are the same.
"""
import inspect

import pytest

from minicnn import layers as L

keras = pytest.importorskip("keras", reason="keras is not installed: no signatures to compare with")

LAYER_NAMES = ["Activation", "ReLU", "Softmax", "Conv2D", "Dense", "Dropout", "Flatten",
               "InputLayer", "ZeroPadding2D", "BatchNormalization", "MaxPooling2D",
               "AveragePooling2D"]

# Signature differences from Keras kept on purpose, "Class.argument" -> why.
# Keep it short: a Keras argument minicnn cannot honour belongs in the signature
# anyway, with a ValueError for the values it cannot implement.
DOCUMENTED_DIFFERENCES = {}


def _parameters(func):
    params = inspect.signature(func).parameters.values()
    return {p.name: p for p in params if p.name != "self"}


def _default(param):
    return "no default" if param.default is param.empty else f"default {param.default!r}"


def signature_differences(label, ours, theirs):
    """``["Class.argument: what differs", ...]`` between two callables' signatures."""
    mine, keras_params = _parameters(ours), _parameters(theirs)
    found = []
    for name in mine.keys() | keras_params.keys():
        if name not in keras_params:
            found.append(f"{label}.{name}: not a Keras argument")
        elif name not in mine:
            found.append(f"{label}.{name}: Keras has it, minicnn does not")
        elif mine[name].kind != keras_params[name].kind:
            found.append(f"{label}.{name}: {mine[name].kind} in minicnn, "
                         f"{keras_params[name].kind} in Keras")
        elif mine[name].default != keras_params[name].default:
            found.append(f"{label}.{name}: {_default(mine[name])} in minicnn, "
                         f"{_default(keras_params[name])} in Keras")
    if [n for n in mine if n in keras_params] != [n for n in keras_params if n in mine]:
        found.append(f"{label}: argument order {list(mine)} differs from Keras's "
                     f"{list(keras_params)}")
    return sorted(found)


def _check_against_keras(label, ours, theirs):
    """Every difference is documented, and every documented one still exists."""
    found = signature_differences(label, ours, theirs)
    assert [d for d in found if d.split(":")[0] not in DOCUMENTED_DIFFERENCES] == []
    documented_here = {k for k in DOCUMENTED_DIFFERENCES if k.split(".")[0] == label}
    assert documented_here <= {d.split(":")[0] for d in found}, "a documented difference is gone"


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_signature_matches_keras(name):
    _check_against_keras(name, getattr(L, name), getattr(keras.layers, name))


def test_input_function_signature_matches_keras():
    _check_against_keras("Input", L.Input, keras.Input)


def test_the_comparison_sees_each_kind_of_difference():
    def keras_like(filters, kernel_size, strides=(1, 1), data_format=None, **kwargs):
        pass

    def missing_argument(filters, kernel_size, strides=(1, 1), **kwargs):
        pass

    def other_default(filters, kernel_size, strides=1, data_format=None, **kwargs):
        pass

    def other_order(filters, kernel_size, data_format=None, strides=(1, 1), **kwargs):
        pass

    def no_kwargs(filters, kernel_size, strides=(1, 1), data_format=None):
        pass

    assert signature_differences("X", keras_like, keras_like) == []
    assert signature_differences("X", missing_argument, keras_like) == [
        "X.data_format: Keras has it, minicnn does not"]
    assert signature_differences("X", other_default, keras_like) == [
        "X.strides: default 1 in minicnn, default (1, 1) in Keras"]
    assert len(signature_differences("X", other_order, keras_like)) == 1
    assert signature_differences("X", no_kwargs, keras_like) == [
        "X.kwargs: Keras has it, minicnn does not"]


# The arguments without a default, for test_every_keras_default_is_accepted.
REQUIRED = {"Activation": {"activation": "relu"}, "Conv2D": {"filters": 2, "kernel_size": 3},
            "Dense": {"units": 3}, "Dropout": {"rate": 0.5}, "AveragePooling2D": {"pool_size": 2},
            "InputLayer": {"shape": (4, 4, 1)}}


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_every_keras_default_is_accepted(name):
    """Every Keras argument passed with Keras's default value builds the layer,
    and the config keeps the ones Keras's config has."""
    defaults = {p.name: p.default for p in _parameters(getattr(keras.layers, name)).values()
                if p.default is not inspect.Parameter.empty
                and p.kind is not inspect.Parameter.VAR_KEYWORD
                and p.name not in REQUIRED.get(name, {})
                and p.name != "batch_shape"}          # shape or batch_shape, not both
    config = getattr(L, name)(**REQUIRED.get(name, {}), **defaults).get_config()
    for key in ("groups", "synchronized", "renorm", "renorm_momentum", "quantization_config"):
        if key in defaults:
            assert config[key] == defaults[key], key
    if "data_format" in defaults:                     # None means "channels_last" in Keras
        assert config["data_format"] == "channels_last"
