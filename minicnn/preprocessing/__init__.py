"""Keras's ``keras.preprocessing`` namespace.

* ``minicnn.preprocessing.image``    - ``ImageDataGenerator`` (flow, flow_from_directory)
  and the image file helpers ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``;
* ``minicnn.preprocessing.sequence`` - ``pad_sequences``.

The submodules are imported when first used.
"""
import importlib

_SUBMODULES = ("image", "sequence")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_SUBMODULES)
