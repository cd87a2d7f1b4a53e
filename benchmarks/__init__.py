"""Benchmarks of minicnn against TensorFlow/Keras on the same CPU.

``python benchmarks/run.py [--quick] [--only SECTION] [--out DIR]``; see
``run.py`` for the outputs and ``NOTES.md`` for what each optimization bought.
Kept free of imports so the probe scripts start clean.
"""
