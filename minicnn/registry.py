"""The Keras object protocol shared by initializers, regularizers, constraints
and optimizers: a JSON-friendly config round trip and lookup by name.

    serialize(obj)   -> {"class_name": "L2", "config": {"l2": 0.01}}
    deserialize(cfg) -> the object again, ``from_config(cfg["config"])``
    get(identifier)  -> an object from an instance, a class, a name or a config
"""


class Configurable:
    """``get_config`` / ``from_config`` / ``repr``, the Keras way: a subclass
    lists its constructor arguments in ``get_config`` and inherits the rest."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Registry:
    """Names -> classes for one kind of object ("regularizer", "optimizer", ...).

    ``accepts(obj)`` says which ready-made objects ``get`` passes through (by
    default any callable), ``hint`` is added to its error, ``key`` normalizes
    names (optimizers are case-insensitive) and ``listed`` are the names an
    error message offers.
    """

    def __init__(self, kind, base, by_name, listed=None, accepts=callable, hint="",
                 key=lambda name: name):
        self.kind, self.base, self.by_name = kind, base, by_name
        self.listed = sorted(by_name if listed is None else listed)
        self.accepts, self.hint, self.key = accepts, hint, key

    def lookup(self, name):
        try:
            return self.by_name[self.key(name)]
        except KeyError:
            raise ValueError(f"Unknown {self.kind} {name!r}; valid names are "
                             f"{self.listed}") from None

    def serialize(self, obj):
        if obj is None:
            return None
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    def deserialize(self, config):
        return self.lookup(config["class_name"]).from_config(config.get("config", {}))

    def get(self, identifier):
        if identifier is None:
            return None
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, type) and issubclass(identifier, self.base):
            return identifier()
        if self.accepts(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}{self.hint}")
