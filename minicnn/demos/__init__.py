"""Programs to run first: ``python -m minicnn.demos`` lists them.

* ``mnist``       - train a convnet on handwritten digits (>= 99 % in minutes),
* ``emotion``     - the facial-expression net on synthetic faces or FER-2013,
* ``convolution`` - a convolution step by step, as pictures,
* ``inspect``     - what each layer of a trained model sees.

Each is ``python -m minicnn.demos.<name> --help``; each has a ``main(argv)``
that returns the exit status, so it can also be called from Python.
"""
import os

# Numba's parallel kernels run on OpenMP threads that spin while they wait for
# work. On a machine shared with other jobs the spinning threads fight them for
# the cores: measured on 2 busy cores, training ran 5-10x slower than with
# sleeping threads. The OpenMP runtime reads this when the first parallel
# kernel runs, so setting it here (before any training) is in time.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
DEMOS = {
    "mnist": "train a convnet on MNIST digits: >= 99.0 % test accuracy in about 3 minutes",
    "emotion": "train the emotion net on synthetic faces (or --data fer2013.csv); "
               "confusion matrix, sample grid, --predict a photo",
    "convolution": "watch a convolution slide over an image, step by step, as pictures",
    "inspect": "look inside a trained model: summary, activations, filters, Grad-CAM",
}
