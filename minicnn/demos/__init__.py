"""Programs to run first: ``python -m minicnn.demos`` lists them.

* ``mnist``       - train a convnet on handwritten digits (99.22 % in 49 s on 2 cores),
* ``emotion``     - the facial-expression net on synthetic faces or FER-2013,
* ``convolution`` - a convolution step by step, as pictures,
* ``inspect``     - what each layer of a trained model sees,
* ``transfer``    - transfer learning: a base trained on digits 0-4 reused for 5-9.

Each is ``python -m minicnn.demos.<name> --help``; each has a ``main(argv)``
that returns the exit status, so it can also be called from Python.
"""
# (minicnn.backend asks OpenMP for sleeping, not spinning, threads: see there.)
DEMOS = {
    "mnist": "train a convnet on MNIST digits: 99.22 % test accuracy in 49 s on 2 cores",
    "emotion": "train the emotion net on synthetic faces (or --data fer2013.csv); "
               "confusion matrix, sample grid, --predict a photo",
    "convolution": "watch a convolution slide over an image, step by step, as pictures",
    "inspect": "look inside a trained model: summary, activations, filters, Grad-CAM",
    "transfer": "transfer learning: a base pretrained on digits 0-4, frozen, a new head "
                "for 5-9, fine-tuned; vs training from scratch",
}
