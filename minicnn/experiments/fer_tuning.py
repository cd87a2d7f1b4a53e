"""The emotion-net tuning study: a deep FER network and four iterations on it.

    python -m minicnn.experiments.fer_tuning                    # synthetic faces, 5 networks: about 5 min on 2 cores
    python -m minicnn.experiments.fer_tuning --data fer2013.csv --train-size 8000 --val-size 2000
    python -m minicnn.experiments.fer_tuning --workers 1        # one trial after another
    python -m minicnn.experiments.fer_tuning --scheduler tcp://10.0.0.5:8786   # a Dask cluster

The source walks a FER-2013 network from a deep baseline through four
iterations, each one edit, and reports training accuracy and seconds per
epoch (54 % -> 82 % training accuracy at epoch 5). The networks here (48x48x1
faces, 'valid' convolutions with ReLU, 2x2 pooling, then Flatten - Dense 128
+ ReLU - Dropout 0.5 - Dense 7 softmax):

==========  =========================================================  =========
network     layers (output shapes)                                     params
==========  =========================================================  =========
baseline    conv 5x5x64 (44x44x64) - [conv 3x3x64 (42) - conv 3x3x64   1,346,567
            (40) - avg pool (20)] - [conv 3x3x128 (18) - conv 3x3x128
            (16) - avg pool (8x8x128)] - dense
iteration1  drop two convolutions, the second of each block: conv       1,440,583
            5x5x64 (44) - [conv 3x3x64 (42) - avg pool (21)] - [conv
            3x3x128 (19) - avg pool (9x9x128)] - dense
iteration2  average pooling -> max pooling                              1,440,583
iteration3  drop the second conv block; the first layer 3x3: conv       4,003,527
            3x3x64 (46) - [conv 3x3x64 (44) - max pool (22x22x64)]
            - dense
iteration4  pooling after the first convolution: conv 3x3x64 (46) -     857,799
            max pool (23) - [conv 3x3x64 (21) - max pool (10x10x64)]
            - dense
==========  =========================================================  =========

The baseline's first layer is the source's: Conv 5x5x64 on a 48x48 face,
44x44x64 = 123,904 activations and 1,664 parameters. Everything after it
runs on those full-size maps, so it is the slowest network by far;
iteration 4's early pooling makes every later layer four times cheaper.

Every network trains with the same data, seed, optimizer (Adam), batch size
and epochs, each in its own worker process (``--workers``, default: one per
core, up to the number of networks; each worker calls
``minicnn.set_num_threads`` with its share of the cores), or on a Dask
cluster with ``--scheduler`` (``pip install "dask[distributed]"``). The
same seed and the same threads per trial give the same accuracies, bit for
bit. Seconds per epoch count training only (validation is left out) and
depend on what else runs at the same time.

Outputs: a markdown table (``--table``, also printed) of training and
validation accuracy per epoch, seconds per epoch and parameters, and a plot
(``--plot``, PNG) of the same. Without ``--data`` the faces come from
``minicnn.datasets.synthetic_faces`` (drawn for ``--seed``); with ``--data``
from the Kaggle FER-2013 file (``minicnn.datasets.fer2013``): its Training
rows for training and its PublicTest then PrivateTest rows for validation,
all of them unless ``--train-size`` / ``--val-size`` limit them.
"""
import argparse
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time

import numpy as np

import minicnn
from minicnn import callbacks, layers, optimizers, parallel
from minicnn.datasets import fer2013, synthetic_faces
from minicnn.demos import _common
from minicnn.demos._common import DemoError
from minicnn.demos.emotion import standardize

CLASS_NAMES = fer2013.CLASS_NAMES
INPUT_SHAPE = (48, 48, 1)
DENSE_UNITS = 128

# Each network is the one before it with one edit (``change``).
NETWORKS = {
    "baseline": dict(first_kernel=5, convs_per_block=2, blocks=2, pooling="average",
                     pool_first=False,
                     change="the deep net: five convolutions, average pooling"),
    "iteration1": dict(first_kernel=5, convs_per_block=1, blocks=2, pooling="average",
                       pool_first=False,
                       change="dropped two convolutions (the second of each block)"),
    "iteration2": dict(first_kernel=5, convs_per_block=1, blocks=2, pooling="max",
                       pool_first=False, change="average pooling -> max pooling"),
    "iteration3": dict(first_kernel=3, convs_per_block=1, blocks=1, pooling="max",
                       pool_first=False,
                       change="dropped the second conv block; a 3x3 first layer"),
    "iteration4": dict(first_kernel=3, convs_per_block=1, blocks=1, pooling="max",
                       pool_first=True, change="added pooling after the first convolution"),
}

DEFAULTS = dict(train_size=2000, val_size=500, epochs=5, batch_size=64, learning_rate=1e-3,
                seed=0, table="fer_tuning.md", plot="fer_tuning.png")
CONNECT_TIMEOUT = "20s"      # how long to wait for a Dask scheduler
INTERRUPTED = 130            # exit status after Ctrl-C (128 + SIGINT)


# ---------------------------------------------------------------------------
# the networks
# ---------------------------------------------------------------------------
def build(name="baseline", input_shape=INPUT_SHAPE, num_classes=len(CLASS_NAMES)):
    """A new, uncompiled network of the study: ``name`` is a key of ``NETWORKS``.

    Layer names say where a layer sits (``conv_first``, ``pool_first``,
    ``block1_conv1``, ``block1_pool``, ..., ``dense``, ``predictions``), so
    the networks can be compared layer by layer (``describe``).
    """
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; expected one of {', '.join(NETWORKS)}")
    spec = NETWORKS[name]
    pool = {"average": layers.AveragePooling2D, "max": layers.MaxPooling2D}[spec["pooling"]]
    stack = [layers.Input(input_shape),
             layers.Conv2D(64, spec["first_kernel"], activation="relu", name="conv_first")]
    if spec["pool_first"]:
        stack.append(pool(2, name="pool_first"))
    for block in range(1, spec["blocks"] + 1):
        filters = 64 * 2 ** (block - 1)                      # 64, 128
        for conv in range(1, spec["convs_per_block"] + 1):
            stack.append(layers.Conv2D(filters, 3, activation="relu",
                                       name=f"block{block}_conv{conv}"))
        stack.append(pool(2, name=f"block{block}_pool"))
    stack += [layers.Flatten(name="flatten"),
              layers.Dense(DENSE_UNITS, activation="relu", name="dense"),
              layers.Dropout(0.5, name="dropout"),
              layers.Dense(num_classes, activation="softmax", name="predictions")]
    return minicnn.Sequential(stack, name=name)


def describe(model):
    """``[(layer name, what it is, output shape, parameters), ...]`` of a network."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            kind = f"conv {kh}x{kw}x{layer.filters}"
        elif isinstance(layer, (layers.AveragePooling2D, layers.MaxPooling2D)):
            kind = ("avg" if isinstance(layer, layers.AveragePooling2D) else "max") + " pool"
        elif isinstance(layer, layers.Dense):
            kind = f"dense {layer.units}"
        rows.append((layer.name, kind, tuple(layer.output_shape[1:]), layer.count_params()))
    return rows


# ---------------------------------------------------------------------------
# one trial: train one network (in a worker process, a Dask worker, or here)
# ---------------------------------------------------------------------------
class EpochClock(callbacks.Callback):
    """Seconds each epoch spent training: from the epoch's start to its last
    training batch, so the validation pass is not counted."""

    def __init__(self, name=None, epochs=None, verbose=False):
        self.name, self.epochs, self.verbose = name, epochs, verbose
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._end = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self._end - self._start)
        if self.verbose:
            logs = logs or {}
            print(f"  [{self.name}] epoch {epoch + 1}/{self.epochs}: "
                  f"accuracy {logs.get('accuracy', float('nan')):.1%}, "
                  f"val_accuracy {logs.get('val_accuracy', float('nan')):.1%}, "
                  f"{self.seconds[-1]:.1f} s", flush=True)


_TRIAL_LOCK = threading.Lock()   # one trial at a time per process: the seed is global


@contextlib.contextmanager
def _threads(n):
    """Run minicnn's batch shards and Numba's loops on ``n`` threads, as before after."""
    import numba
    before_shards, before_numba = parallel._WORKERS, numba.get_num_threads()
    minicnn.set_num_threads(n)
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        minicnn.set_num_threads(before_shards)
        numba.set_num_threads(before_numba)


def _warm_up(name, threads):
    """Compile (or load from Numba's cache) every kernel the network uses, on a
    throwaway copy and a few blank images, so that epoch 1's time is training too."""
    model = build(name)
    model.compile(optimizer=optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.zeros((4 * threads, *INPUT_SHAPE), np.float32)
    y = np.zeros(len(x), np.int64)
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, validation_data=(x, y))


def run_trial(spec, data):
    """Train the network ``spec["name"]`` on ``data`` and return what it measured.

    ``spec``: name, epochs, batch_size, learning_rate, seed, threads (per
    trial) and verbose. ``data``: ``(x_train, y_train, x_val, y_val)``, uint8
    faces (N, 48, 48) and labels. Returns a dict of plain Python values:
    the name, the edit, parameters, the layers (``describe``) and, per epoch,
    accuracy, val_accuracy, loss, val_loss and seconds.
    """
    x_train, y_train, x_val, y_val = data
    with _TRIAL_LOCK, _threads(int(spec["threads"])):
        _warm_up(spec["name"], int(spec["threads"]))
        minicnn.set_random_seed(int(spec["seed"]))
        model = build(spec["name"])
        model.compile(optimizer=optimizers.Adam(learning_rate=spec["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        clock = EpochClock(spec["name"], spec["epochs"], spec.get("verbose", False))
        start = time.perf_counter()
        history = model.fit(standardize(x_train), np.asarray(y_train, np.int64),
                            batch_size=spec["batch_size"], epochs=spec["epochs"], verbose=0,
                            validation_data=(standardize(x_val), np.asarray(y_val, np.int64)),
                            callbacks=[clock])
        total = time.perf_counter() - start
    logs = history.history
    return dict(name=spec["name"], change=NETWORKS[spec["name"]]["change"],
                parameters=int(model.count_params()), layers=describe(model),
                threads=int(spec["threads"]), total_seconds=total,
                seconds=[float(s) for s in clock.seconds],
                **{key: [float(v) for v in logs.get(key, [])]
                   for key in ("accuracy", "val_accuracy", "loss", "val_loss")})


# -- worker processes -------------------------------------------------------------------
_WORKER_DATA = None


def _init_worker(data):
    """In each worker process: keep the data, and leave Ctrl-C to the parent."""
    global _WORKER_DATA
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_DATA = data


def _run_trial_in_worker(spec):
    return run_trial(spec, _WORKER_DATA)


def _run_trial_on_dask(spec, data):
    """On a Dask worker: one trial, on the worker's threads unless ``spec`` says."""
    if not spec.get("threads"):
        from distributed import get_worker
        worker = get_worker()
        threads = getattr(worker, "nthreads", None) or getattr(worker.state, "nthreads", 1)
        spec = dict(spec, threads=max(1, int(threads)))
    return run_trial(spec, data)


def cores():
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_in_processes(specs, data, workers, on_result=None):
    """Run the trials in ``workers`` spawned processes; results in ``specs`` order.

    ``workers=1`` runs them here, one after another. The processes are
    started with "spawn": a forked child could not run Numba's OpenMP
    kernels. ``on_result(result)`` is called as each trial finishes. On
    Ctrl-C the workers are stopped and ``KeyboardInterrupt`` is raised with
    the finished results in ``.results``.
    """
    done = {}
    if workers == 1:
        try:
            for spec in specs:
                done[spec["name"]] = run_trial(spec, data)
                if on_result:
                    on_result(done[spec["name"]])
        except KeyboardInterrupt as interrupt:
            interrupt.results = [done[s["name"]] for s in specs if s["name"] in done]
            raise
        return [done[s["name"]] for s in specs]

    from concurrent.futures import ProcessPoolExecutor, as_completed
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(data,))
    try:
        futures = {pool.submit(_run_trial_in_worker, spec): spec["name"] for spec in specs}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if on_result:
                on_result(done[futures[future]])
    except KeyboardInterrupt as interrupt:
        for process in list(getattr(pool, "_processes", {}).values()):   # ours, by id
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        interrupt.results = [done[s["name"]] for s in specs if s["name"] in done]
        raise
    pool.shutdown()
    return [done[s["name"]] for s in specs]


def run_on_dask(specs, data, address, on_result=None):
    """Run the trials on the Dask cluster whose scheduler is at ``address``.

    Dask (``pip install "dask[distributed]"``) is imported here only. The data
    is sent to every worker once; a worker runs one trial at a time on its
    threads (``threads`` in a spec overrides that).
    """
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise DemoError('--scheduler needs Dask\'s distributed scheduler, which is not '
                        'installed: pip install "dask[distributed]" (or pip install -e '
                        '".[dask]")') from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as err:
        raise DemoError(f"cannot connect to the Dask scheduler at {address}: "
                        f"{_common._first_line(err)}") from None
    done = {}
    try:
        [shared] = client.scatter([data], broadcast=True)
        futures = {client.submit(_run_trial_on_dask, spec, shared, pure=False,
                                 key=f"fer_tuning-{spec['name']}-{os.getpid()}-{time.time_ns()}"):
                   spec["name"] for spec in specs}
        try:
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                if on_result:
                    on_result(done[futures[future]])
        except KeyboardInterrupt as interrupt:
            client.cancel(list(futures))
            interrupt.results = [done[s["name"]] for s in specs if s["name"] in done]
            raise
    finally:
        client.close()
    return [done[s["name"]] for s in specs]


def run_study(data, names=tuple(NETWORKS), epochs=DEFAULTS["epochs"],
              batch_size=DEFAULTS["batch_size"], learning_rate=DEFAULTS["learning_rate"],
              seed=DEFAULTS["seed"], workers=None, threads=None, scheduler=None,
              verbose=False, on_result=None):
    """Train the networks ``names`` on ``data`` and return their results (``run_trial``).

    ``data``: ``(x_train, y_train, x_val, y_val)``. Locally ``workers``
    processes (default: one per core, at most one per network) each run
    trials on ``threads`` threads (default: cores // workers); with
    ``scheduler`` (an address) the trials run on that Dask cluster.
    """
    names = list(names)
    if scheduler is None:
        workers = workers or max(1, min(len(names), cores()))
        threads = threads or max(1, cores() // workers)
    specs = [dict(name=name, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                  seed=seed, threads=threads, verbose=verbose) for name in names]
    if scheduler is not None:
        return run_on_dask(specs, data, scheduler, on_result)
    return run_in_processes(specs, data, workers, on_result)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def load(args):
    """``(x_train, y_train, x_val, y_val)`` uint8 faces and labels, and a description."""
    if args.data:
        (x_train, y_train), (x_val, y_val) = _common.load_or_fail(
            "FER data", fer2013.load_data, args.data)
        source = args.data
        if y_val is None or len(y_val) == 0:      # an unlabeled test.csv: hold out 10 %
            (x_train, y_train), (x_val, y_val) = _common.split_validation(
                x_train, y_train, 0.1, args.seed)
            source += " (10 % of the training rows held out for validation)"
        x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
        x_val, y_val = x_val[:args.val_size], y_val[:args.val_size]
    else:
        (x_train, y_train), (x_val, y_val) = synthetic_faces.load_data(
            args.train_size, args.val_size, seed=args.seed)
        source = f"synthetic faces (seed {args.seed})"
    if len(x_train) < 1 or len(x_val) < 1:
        raise DemoError(f"{source}: too few images ({len(x_train)} training, "
                        f"{len(x_val)} validation)")
    return (x_train, y_train, x_val, y_val), source


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
def _first_layer(result):
    name, kind, shape, params = result["layers"][0]
    return f"{kind} -> {'x'.join(map(str, shape))} ({params:,})"


def _pct(values, i=-1):
    return f"{values[i]:.1%}" if values else "-"


def markdown_table(results, header=""):
    """The study as markdown: one row per network, then one row per network and epoch."""
    lines = ["# Emotion-net tuning study", ""]
    if header:
        lines += [header, ""]
    lines += ["| network | change | first layer (params) | parameters | train acc | val acc "
              "| s/epoch |",
              "|---|---|---|--:|--:|--:|--:|"]
    for r in results:
        per_epoch = sum(r["seconds"]) / len(r["seconds"]) if r["seconds"] else float("nan")
        lines.append(f"| {r['name']} | {r['change']} | {_first_layer(r)} | {r['parameters']:,} "
                     f"| {_pct(r['accuracy'])} | {_pct(r['val_accuracy'])} | {per_epoch:.1f} |")
    lines += ["", "train acc, val acc: after the last epoch; s/epoch: the mean training time "
                  "of an epoch (validation not counted), on "
                  + ", ".join(sorted({f"{r['threads']} thread" + ("s" if r['threads'] > 1 else "")
                                      for r in results})) + " per trial.",
              "", "## Per epoch", "",
              "| network | epoch | train acc | val acc | train loss | val loss | seconds |",
              "|---|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        for i, seconds in enumerate(r["seconds"]):
            lines.append(f"| {r['name']} | {i + 1} | {_pct(r['accuracy'], i)} "
                         f"| {_pct(r['val_accuracy'], i)} | {r['loss'][i]:.4f} "
                         f"| {r['val_loss'][i]:.4f} | {seconds:.1f} |")
    return "\n".join(lines) + "\n"


def plot(results, path, title="Emotion-net tuning study"):
    """Training and validation accuracy per epoch, seconds per epoch and parameters."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 8), layout="constrained")
    (ax_train, ax_val), (ax_time, ax_params) = fig.subplots(2, 2)
    for r in results:
        epochs = np.arange(1, len(r["accuracy"]) + 1)
        ax_train.plot(epochs, r["accuracy"], "o-", label=r["name"])
        ax_val.plot(epochs, r["val_accuracy"], "o-", label=r["name"])
        ax_time.plot(epochs, r["seconds"], "o-", label=r["name"])
    from matplotlib.ticker import MaxNLocator
    for ax, what in ((ax_train, "training accuracy"), (ax_val, "validation accuracy"),
                     (ax_time, "seconds (training only)")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(what)
        ax.set_title(what + " per epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    names = [r["name"] for r in results]
    params = [r["parameters"] for r in results]
    bars = ax_params.bar(names, params, color=[f"C{i}" for i in range(len(results))])
    ax_params.bar_label(bars, labels=[f"{p:,}" for p in params], fontsize=8)
    ax_params.set_ylabel("parameters")
    ax_params.set_title("parameters")
    ax_params.tick_params(axis="x", labelsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=100)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def network_list(text):
    """``"baseline,iteration4"`` -> ["baseline", "iteration4"], in the study's order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NETWORKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown network {', '.join(map(repr, unknown)) or repr(text)}; expected a "
            f"comma-separated list of {', '.join(NETWORKS)}")
    return [name for name in NETWORKS if name in names]


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m minicnn.experiments.fer_tuning",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="networks:\n" + "\n".join(f"  {name:11s} {spec['change']}"
                                         for name, spec in NETWORKS.items()))
    p.add_argument("--data", help="fer2013.csv (or train.csv of the two-file layout); "
                                  "default: synthetic faces")
    p.add_argument("--networks", type=network_list, default=list(NETWORKS),
                   help=f"comma-separated networks to train (default: all: "
                        f"{','.join(NETWORKS)})")
    p.add_argument("--train-size", type=_common.positive_int,
                   help=f"training images (default {DEFAULTS['train_size']:,} synthetic "
                        f"faces; all of --data)")
    p.add_argument("--val-size", type=_common.positive_int,
                   help=f"validation images (default {DEFAULTS['val_size']:,}; all of "
                        f"--data's test rows)")
    p.add_argument("--epochs", type=_common.positive_int, default=DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=_common.positive_int, default=DEFAULTS["batch_size"])
    p.add_argument("--learning-rate", type=_common.positive_float,
                   default=DEFAULTS["learning_rate"], help="Adam's learning rate")
    p.add_argument("--seed", type=_common.non_negative_int, default=DEFAULTS["seed"],
                   help="same seed (and threads per trial), same numbers (default 0)")
    p.add_argument("--workers", type=_common.positive_int,
                   help="trials at a time, each in its own process (default: one per core, "
                        "at most one per network; 1: one after another in this process)")
    p.add_argument("--threads", type=_common.positive_int,
                   help="threads per trial (default: the cores divided among the workers; "
                        "on Dask, the worker's thread count)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the trials on a Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        '(pip install "dask[distributed]")')
    p.add_argument("--table", default=DEFAULTS["table"],
                   help="where to write the markdown table (default %(default)s)")
    p.add_argument("--plot", default=DEFAULTS["plot"],
                   help="where to save the plot, PNG (default %(default)s; '' for none)")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    args = p.parse_args(argv)
    if args.scheduler is not None and args.workers is not None:
        p.error("--workers is for local worker processes; with --scheduler the Dask "
                "cluster decides how many trials run at once")
    if not args.data:
        args.train_size = args.train_size or DEFAULTS["train_size"]
        args.val_size = args.val_size or DEFAULTS["val_size"]
    return args


def main(argv=None):
    return _common.run_main(_main, argv)


def _main(argv):
    args = parse_args(argv)
    _common.check_writable(args.table, args.plot)
    data, source = load(args)
    x_train, _, x_val, _ = data
    if args.scheduler:
        where = f"on the Dask cluster at {args.scheduler}"
    else:
        workers = args.workers or max(1, min(len(args.networks), cores()))
        threads = args.threads or max(1, cores() // workers)
        where = (f"{workers} at a time in worker processes, {threads} thread"
                 f"{'s' if threads > 1 else ''} each" if workers > 1 else
                 f"one after another in this process, {threads} thread"
                 f"{'s' if threads > 1 else ''}")
    header = (f"{source}: {len(x_train):,} training + {len(x_val):,} validation images; "
              f"{args.epochs} epoch{'s' if args.epochs > 1 else ''}, batch {args.batch_size}, "
              f"Adam {args.learning_rate:g}, "
              f"seed {args.seed}; {len(args.networks)} network{'s' if len(args.networks) > 1 else ''}, {where}.")
    _common.say(args, header)

    def report(result):
        _common.say(args, f"{result['name']:11s} {result['parameters']:>10,} parameters: "
                          f"train {_pct(result['accuracy'])}, val {_pct(result['val_accuracy'])}, "
                          f"{np.mean(result['seconds']):.1f} s/epoch")

    start = time.perf_counter()
    try:
        results = run_study(data, args.networks, epochs=args.epochs, batch_size=args.batch_size,
                            learning_rate=args.learning_rate, seed=args.seed,
                            workers=args.workers, threads=args.threads,
                            scheduler=args.scheduler, verbose=not args.quiet, on_result=report)
        status = 0
    except KeyboardInterrupt as interrupt:
        results = getattr(interrupt, "results", [])
        print(f"\nCtrl-C: stopped; {len(results)} of {len(args.networks)} trials had "
              f"finished", file=sys.stderr, flush=True)
        status = INTERRUPTED
        if not results:
            return status
    elapsed = time.perf_counter() - start
    table = markdown_table(results, header + f" The study took {elapsed:.0f} s.")
    print(table)
    with _common.writing(args.table):
        with open(args.table, "w", encoding="utf-8") as f:
            f.write(table)
    _common.say(args, f"wrote the table to {args.table}")
    if args.plot:
        with _common.writing(args.plot):
            plot(results, args.plot)
        _common.say(args, f"saved the plot to {args.plot}")
    return status


if __name__ == "__main__":
    sys.exit(main())
