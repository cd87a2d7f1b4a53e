"""How much each section measures, per mode: full, quick and tiny (the tests).

``repeats``: interleaved rounds per comparison (medians over these);
``sample_s``: about how long one timed sample lasts. Raise both for steadier
numbers, lower them for a faster run.
"""
FULL = {
    "mode": "full",
    "matmul": {"n": 2048, "repeats": 7},
    "training": {"models": None, "repeats": 5, "sample_s": 2.0, "warm": 2,
                 "min_steps": 4, "max_steps": 200},
    "inference": {"models": None, "repeats": 5, "sample_s": 0.4, "big_batch": 256},
    "layers": {"models": None, "repeats": 4, "sample_s": 0.1, "numpy_twins": True},
    "scaling": {"batches": [1, 4, 16, 64, 256, 512], "sizes": [28, 56, 112],
                "size_batch": 32, "repeats": 3, "sample_s": 1.0, "warm": 2,
                "min_steps": 3, "max_steps": 300},
    "memory": {"model": "mnist_convnet", "images": 60000, "steps": 30},
    "startup": {"model": "mnist_convnet", "cold_runs": 2, "warm_runs": 3},
    "profile": {"models": None, "steps": 5, "top": 15},
}

QUICK = {
    "mode": "quick",
    "matmul": {"n": 1536, "repeats": 3},
    "training": {"models": None, "repeats": 3, "sample_s": 0.5, "warm": 1,
                 "min_steps": 2, "max_steps": 60},
    "inference": {"models": ["mnist_convnet", "emotion"], "repeats": 3, "sample_s": 0.1,
                  "big_batch": 256},
    "layers": {"models": ["mnist_convnet"], "repeats": 2, "sample_s": 0.05,
               "numpy_twins": False},
    "scaling": {"batches": [1, 32, 256], "sizes": [28, 56], "size_batch": 16,
                "repeats": 1, "sample_s": 0.3, "warm": 1, "min_steps": 2, "max_steps": 100},
    "memory": {"model": "mnist_convnet", "images": 60000, "steps": 10},
    "startup": {"model": "mnist_convnet", "cold_runs": 1, "warm_runs": 1},
    "profile": {"models": None, "steps": 2, "top": 10},
}

# For tests: every code path, the smallest work that still exercises it.
TINY = {
    "mode": "tiny",
    "batch_override": 8,
    "matmul": {"n": 128, "repeats": 1},
    "training": {"models": ["mnist_convnet"], "repeats": 1, "sample_s": 0.0, "warm": 1,
                 "min_steps": 1, "max_steps": 1, "one_thread": True},
    "inference": {"models": ["mnist_convnet"], "repeats": 1, "sample_s": 0.0, "big_batch": 8},
    "layers": {"models": ["lenet5_classic"], "repeats": 1, "sample_s": 0.0,
               "numpy_twins": True, "extra_batchnorm": True, "max_cases": 3},
    "scaling": {"batches": [1, 2], "sizes": [28, 32], "size_batch": 2, "repeats": 1,
                "sample_s": 0.0, "warm": 1, "min_steps": 1, "max_steps": 1},
    "memory": {"model": "mnist_convnet", "images": 64, "steps": 1},
    "startup": {"model": "dense_probe", "cold_runs": 1, "warm_runs": 1},
    "profile": {"models": ["mnist_convnet"], "steps": 1, "top": 5},
}

MODES = {"full": FULL, "quick": QUICK, "tiny": TINY}
