"""The sections of the benchmark run, in the order they run.

Each module has ``run(ctx) -> dict`` (JSON-ready results) and
``markdown(result) -> list of lines``.
"""
SECTIONS = ("matmul", "training", "inference", "layers", "scaling", "memory", "startup",
            "profile")
