"""Study tools: pictures of what a trained minicnn model computes.

Every ``plot_*`` function (and ``grad_cam``, ``filter_patterns``) returns a
matplotlib Figure built without pyplot, so it works headless; pass
``save="file.png"`` to write it. The numbers behind the pictures are
available too (``grad_cam_heatmap``, ``maximize_filters``, ``confusion_matrix``,
``formula_lines``: the summary with every size and parameter formula).

    from minicnn import viz
    viz.plot_activations(model, x_test[0], save="activations.png")
    viz.grad_cam(model, x_test[0], save="gradcam.png")
"""
from .convolution import plot_convolution_steps, plot_im2col
from .curves import confusion_matrix, plot_confusion_matrix, plot_history
from .formulas import formula_lines
from .gradients import (FilterPatterns, GradCam, filter_patterns, grad_cam,
                        grad_cam_heatmap, maximize_filters)
from .maps import plot_activations, plot_kernels

__all__ = ["plot_activations", "plot_kernels", "filter_patterns", "maximize_filters",
           "grad_cam", "grad_cam_heatmap", "plot_history", "confusion_matrix",
           "plot_confusion_matrix", "plot_convolution_steps", "plot_im2col", "formula_lines",
           "GradCam", "FilterPatterns"]
