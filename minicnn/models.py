"""Keras's ``keras.models`` namespace: the model class and ``load_model``.

``minicnn.models.Sequential`` and ``minicnn.models.load_model`` are the same
objects as ``minicnn.Sequential`` and ``minicnn.load_model``. The networks of
the source material are in ``minicnn.zoo``.
"""
from . import layers as layers_module, losses, optimizers
from .model import Sequential
from .saving import read_model_file


def load_model(path, compile=True):
    """Rebuild a model saved by ``model.save``: architecture, weights, optimizer state."""
    header, arrays = read_model_file(path)
    config = header["model"]
    model = Sequential([layers_module.deserialize(spec) for spec in config["layers"]],
                       name=config["name"])
    if config.get("input_shape") is not None:
        model.build((None, *config["input_shape"]))
    for i, layer in enumerate(model.layers):
        keys = layer.weight_keys()
        missing = [k for k in keys if f"w/{i}/{k}" not in arrays]
        if missing:
            raise ValueError(f"{path}: weights {missing} of layer '{layer.name}' are missing")
        layer.set_weights([arrays[f"w/{i}/{k}"] for k in keys])
    if compile and header.get("compile"):
        c = header["compile"]
        model.compile(optimizer=optimizers.get(c["optimizer"]), loss=losses.get(c["loss"]),
                      metrics=c["metrics"])
        state = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
        if state:
            model.optimizer.set_state(state)
    return model


__all__ = ["Sequential", "load_model"]
