"""Experiments: studies that train several networks and compare them.

* ``fer_tuning`` - the emotion-net tuning study: a deep FER-2013 network and
  four iterations that make it faster and better, trained side by side in
  worker processes (or on a Dask cluster); a table and a plot of training and
  validation accuracy, seconds per epoch and parameters.

Each is ``python -m minicnn.experiments.<name> --help`` and has a
``main(argv)`` that returns the exit status.
"""
EXPERIMENTS = {
    "fer_tuning": "the emotion-net tuning study: baseline and four iterations, "
                  "accuracy, seconds per epoch and parameters side by side",
}
