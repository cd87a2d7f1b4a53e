"""The float32 matmul peak of this machine: the yardstick for the conv layers."""
from ..timing import matmul_peak


def run(ctx):
    cfg = ctx.cfg["matmul"]
    n, repeats = cfg["n"], cfg["repeats"]
    default = matmul_peak(n, repeats)                # BLAS at its default thread count
    single = matmul_peak(n, repeats, threads=1)      # as inside minicnn's fit
    from threadpoolctl import threadpool_info
    blas_threads = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return {"n": n, "gflops_default_threads": default, "gflops_1_thread": single,
            "blas_default_threads": blas_threads}


def markdown(r):
    return [f"float32 `np.matmul` {r['n']}x{r['n']}, best of the run: "
            f"**{r['gflops_default_threads']:.0f} GFLOP/s** with BLAS at its default "
            f"{r['blas_default_threads']} thread(s), {r['gflops_1_thread']:.0f} GFLOP/s on 1 "
            f"thread (as inside minicnn's `fit`)."]
