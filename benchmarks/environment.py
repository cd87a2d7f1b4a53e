"""What ran: machine, library versions, and every thread setting.

Called once per run; the result goes at the top of the JSON and Markdown so a
number is never read without the conditions it was measured under.
"""
import datetime
import os
import platform


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info():
    """threadpoolctl's view: every BLAS / OpenMP pool loaded, and its thread count."""
    from threadpoolctl import threadpool_info
    return [{k: pool.get(k) for k in ("user_api", "internal_api", "num_threads", "prefix",
                                       "version", "threading_layer")}
            for pool in threadpool_info()]


def numba_info():
    import numba
    try:
        layer = numba.threading_layer()        # only known after a parallel kernel ran
    except ValueError:
        layer = "not started yet"
    return {"version": numba.__version__, "num_threads": numba.get_num_threads(),
            "threading_layer": layer,
            # both change how idle worker threads wait, which matters on a busy machine
            "env": {k: os.environ.get(k) for k in ("NUMBA_THREADING_LAYER", "NUMBA_NUM_THREADS",
                                                   "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}}


def minicnn_info():
    """minicnn's settings inside ``fit`` (``backend.compute_threads``)."""
    import minicnn
    from threadpoolctl import threadpool_info
    with minicnn.backend.compute_threads():
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return {"version": minicnn.__version__, "backend": minicnn.backend.backend(),
            "blas_threads_in_fit": blas, "numba": numba_info()}


def tensorflow_info(tf, keras_jit_compile=None):
    """TensorFlow's thread pools, devices, oneDNN and XLA settings."""
    threading = tf.config.threading
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {"version": tf.__version__, "keras": __import__("keras").__version__,
            "intra_op_threads": threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": threading.get_inter_op_parallelism_threads(),
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1 (default)"),
            "keras_fit_jit_compile": keras_jit_compile, "gpus": gpus}


def engine_revision():
    """The git commit of the checkout and whether minicnn/ has uncommitted edits."""
    import subprocess
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "minicnn"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "minicnn_modified": None}
    return {"commit": head or None, "minicnn_modified": bool(dirty)}


def describe(tf=None, keras_jit_compile=None):
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                        "platform": platform.platform(), "python": platform.python_version()},
            "numpy": __import__("numpy").__version__,
            "blas": blas_info(), "minicnn": minicnn_info(), "revision": engine_revision()}
    try:
        info["load_average"] = os.getloadavg()
    except OSError:
        pass
    if tf is not None:
        info["tensorflow"] = tensorflow_info(tf, keras_jit_compile)
    return info
