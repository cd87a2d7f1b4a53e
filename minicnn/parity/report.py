"""The parity report: run the grid against Keras and print a Markdown table.

    python -m minicnn.parity [--quick] [--device tf-cpu tf-gpu jax-gpu] [--group conv ...]

One row per case: the largest absolute and (norm-wise) relative error of the
output (or loss value), of dx (or d loss / d prediction) and of the weight
gradients (or updated weights), and whether every compared array is within
its tolerance (``compare.TOLERANCES``). Absent devices are listed with the
reason. The exit status is 1 if any case fails, and also if no case ran at
all (no reference framework installed, no device present, or groups with no
case in the chosen grid): "0 failed" then would claim a parity never checked.
An unknown ``--group`` or ``--device`` is a usage error (status 2).
"""
import argparse
import time

from . import cases, cases_merge, models, references

OUTPUT_NAMES = {"output", "value", "loss", "logits"}
DX_NAMES = {"dx", "dpred", "dlogits"}


def _group_runs(quick):
    """``{group: [(label, thunk(reference) -> comparisons[, tf_only reason])]}``."""
    def pick(items, every):
        return items[::every] if quick else items

    def layer_runs(items):
        return [(c.label, lambda ref, c=c: cases.run_layer_case(c, ref)) for c in items]

    groups = {
        "conv": layer_runs(pick(cases.CONV_CASES, 4)),
        "pooling": layer_runs(pick(cases.POOL_CASES, 3)),
        "dense_misc": layer_runs(pick(cases.DENSE_MISC_CASES, 3)),
        "activation": layer_runs(pick(cases.ACTIVATION_CASES, 2)),
        "batchnorm": layer_runs(pick(cases.BATCHNORM_CASES, 3)),
        "merge": [(c.label, lambda ref, c=c: cases_merge.run_merge_case(c, ref))
                  for c in pick(cases.MERGE_CASES, 3)],
        "reshaping": layer_runs(pick(cases.RESHAPING_CASES, 3)),
        "global_pooling": layer_runs(pick(cases.GLOBAL_POOLING_CASES, 2)),
        "advanced_activation": layer_runs(pick(cases.ADVANCED_ACTIVATION_CASES, 3)),
        "dropout": [(c.label, lambda ref, c=c: cases.run_dropout_case(c, ref))
                    for c in pick(cases.DROPOUT_CASES, 2)],
        "loss": [(c.label, lambda ref, c=c: cases.run_loss_case(c, ref), c.tf_only)
                 for c in pick(cases.LOSS_CASES, 2)],
        "regularizer": [(f"{n}({kw})", lambda ref, c=(n, kw): cases.run_regularizer_case(c, ref))
                        for n, kw in cases.REGULARIZER_CASES],
        "optimizer": [(f"{n}({kw}), 5 steps",
                       lambda ref, c=(n, kw): cases.run_optimizer_case(c, ref))
                      for n, kw in pick(cases.OPTIMIZER_CASES, 2)],
        "model": [(f"{m.label}: logits, loss, gradients",
                   lambda ref, m=m: models.run_model_gradients(m, ref))
                  for m in pick(models.MODEL_CASES, 2)],
    }
    from . import cases_conv        # Conv1D, depthwise/separable, transposed conv, Embedding, LRN
    groups["conv1d"] = layer_runs(pick(cases.CONV1D_CASES, 4))
    groups["depthwise_separable"] = layer_runs(pick(cases.DEPTHWISE_SEPARABLE_CASES, 4))
    groups["conv_transpose"] = layer_runs(pick(cases.CONV_TRANSPOSE_CASES, 4))
    groups["embedding_lrn"] = (
        [(c.label, lambda ref, c=c: cases_conv.run_embedding_case(c, ref))
         for c in pick(cases.EMBEDDING_CASES, 2)]
        + [(c.label, lambda ref, c=c: cases_conv.run_lrn_case(c, ref), cases_conv.LRN_TF_ONLY)
           for c in pick(cases.LRN_CASES, 2)])
    from . import builders          # the zoo's graph builders, whole models
    groups["builders"] = [(c.label, lambda ref, c=c: builders.run_builder_case(c, ref))
                          for c in pick(builders.BUILDER_CASES, 3)]
    if not quick:
        groups["training"] = [
            (f"{m.label}: 3 x train_on_batch, {o[0]}({o[1]})",
             lambda ref, m=m, o=o: models.run_model_training(m, o, ref))
            for m in models.MODEL_CASES for o in models.TRAIN_OPTIMIZERS]
    return groups


def _worst(comparisons):
    """(max abs, max rel) over some comparisons, or None when there are none."""
    if not comparisons:
        return None
    return max(c.abs_err for c in comparisons), max(c.rel_err for c in comparisons)


def _cell(worst):
    return "-" if worst is None else f"{worst[0]:.1e} / {worst[1]:.1e}"


def run(devices, groups, quick, stream=print):
    """Print the table for ``devices`` and ``groups``.

    Returns ``(failed, ran)``: the number of failed rows and of rows compared
    (skipped rows count in neither).
    """
    stream("| group | case | device | output abs / rel | dx abs / rel | weights abs / rel "
           "| result |")
    stream("|---|---|---|---|---|---|---|")
    failures, ran, summary = 0, 0, {}
    for device in devices:
        ok, reason = references.availability(device)
        if not ok:
            stream(f"| all | - | {device} | - | - | - | skipped: {reason} |")
            continue
        reference = references.get(device)
        for group, runs in _group_runs(quick).items():
            if groups and group not in groups:
                continue
            for label, thunk, *tf_only in runs:
                if device.startswith("jax") and tf_only and tf_only[0]:
                    stream(f"| {group} | {label} | {device} | - | - | - | skipped: {tf_only[0]} |")
                    continue
                ran += 1
                try:
                    results = thunk(reference)
                except Exception as exc:          # a crash is a failed row, not a lost report
                    failures += 1
                    stream(f"| {group} | {label} | {device} | - | - | - | ERROR: "
                           f"{type(exc).__name__}: {exc} |")
                    continue
                cols = [_worst([c for c in results if c.name in OUTPUT_NAMES]),
                        _worst([c for c in results if c.name in DX_NAMES]),
                        _worst([c for c in results
                                if c.name not in OUTPUT_NAMES | DX_NAMES])]
                passed = all(c.passed for c in results)
                failures += not passed
                bad = "; ".join(str(c) for c in results if not c.passed)
                stream(f"| {group} | {label} | {device} | {' | '.join(map(_cell, cols))} | "
                       f"{'pass' if passed else 'FAIL: ' + bad} |")
                key = (group, device)
                worst = summary.get(key, (0.0, 0.0, 0))
                summary[key] = (max(worst[0], *(c.abs_err for c in results)),
                                max(worst[1], *(c.rel_err for c in results)), worst[2] + 1)
    stream("")
    stream("| group | device | cases | worst abs error | worst rel error |")
    stream("|---|---|---|---|---|")
    for (group, device), (abs_err, rel_err, count) in summary.items():
        stream(f"| {group} | {device} | {count} | {abs_err:.1e} | {rel_err:.1e} |")
    return failures, ran


def main(argv=None):
    groups = list(_group_runs(quick=False))
    parser = argparse.ArgumentParser(prog="python -m minicnn.parity",
                                     description="Compare minicnn with tf.keras and print a "
                                                 "Markdown table.")
    parser.add_argument("--device", nargs="+", choices=references.DEVICES,
                        help="reference devices (default: every device this process can list)")
    parser.add_argument("--quick", action="store_true",
                        help="a short grid (every few cases, no training steps)")
    parser.add_argument("--group", nargs="+", choices=groups, metavar="GROUP",
                        help=f"only these groups ({', '.join(groups)})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    failures, ran = run(args.device or references.listed_devices(), args.group, args.quick)
    grid = "quick" if args.quick else "full"
    if not ran:
        print(f"\nno case ran, so nothing was compared ({grid} grid): no reference device "
              f"is available here (see the skipped rows), or the chosen groups have no "
              f"case in this grid")
        return 1
    print(f"\n{failures} failed case(s) of {ran}; {time.perf_counter() - start:.0f} s "
          f"({grid} grid)")
    return 1 if failures else 0
