"""Small helpers: reproducible seeds and label encoding."""
from .backend import set_random_seed  # noqa: F401  (minicnn.utils.set_random_seed)
