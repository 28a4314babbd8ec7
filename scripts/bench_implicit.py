#!/usr/bin/env python3
"""Times one ALS sweep of the PyPI package `implicit` (CPU) on the training matrix bench_ials dumped.

    build-cpu/bin/bench_ials --dump-csr /tmp/ncf-bench/ials-csr ...
    python3 scripts/bench_implicit.py --csr /tmp/ncf-bench/ials-csr --threads 2 --runs 3

For each solver (exact Cholesky: use_cg=False; conjugate gradient, implicit's default: use_cg=True)
it fits AlternatingLeastSquares(factors=D, iterations=1) `runs` times and reports the median time of
the sweep itself (users then items, measured by implicit's own per-iteration callback, so the
transpose and the initialisation it does first are excluded; `fit_ms` includes them). Writes a JSON
array of {"name","device","config","samples_per_s","median_ms","runs"} like the project's benchmarks;
samples = training positives.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import implicit
from implicit.cpu.als import AlternatingLeastSquares


def load_csr(folder):
    with open(os.path.join(folder, "shape.txt")) as f:
        users, items = (int(v) for v in f.read().split())
    indptr = np.fromfile(os.path.join(folder, "indptr.i64"), dtype=np.int64)
    indices = np.fromfile(os.path.join(folder, "indices.i32"), dtype=np.int32)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(users, items))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csr", default="/tmp/ncf-bench/ials-csr")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regularization", type=float, default=1e-3)
    parser.add_argument("--json", default="bench_implicit.json")
    args = parser.parse_args()

    user_items = load_csr(args.csr)
    nnz = user_items.nnz
    print(f"implicit {implicit.__version__}: {user_items.shape[0]} users x {user_items.shape[1]} items, "
          f"{nnz} positives, factors {args.factors}, {args.threads} threads")
    results = []
    # implicit parallelises over users itself (num_threads) and asks for a single-threaded BLAS.
    with threadpool_limits(limits=1, user_api="blas"):
        for use_cg in (False, True):
            name = "implicit_als_cg" if use_cg else "implicit_als_cholesky"
            sweep_ms, fit_ms, cpu_ms = [], [], []
            for run in range(args.runs):
                model = AlternatingLeastSquares(factors=args.factors, regularization=args.regularization,
                                                iterations=1, use_cg=use_cg, num_threads=args.threads,
                                                random_state=run, calculate_training_loss=False)
                times = []
                start, cpu_start = time.perf_counter(), time.process_time()
                model.fit(user_items, show_progress=False, callback=lambda it, seconds, loss: times.append(seconds))
                fit_ms.append(1e3 * (time.perf_counter() - start))
                cpu_ms.append(1e3 * (time.process_time() - cpu_start))
                sweep_ms.append(1e3 * times[0])
            median = statistics.median(sweep_ms)
            print(f"  {name:22s} {median:10.1f} ms per sweep (median of {args.runs}; fit {statistics.median(fit_ms):.1f} ms, "
                  f"cpu {statistics.median(cpu_ms):.1f} ms)  {nnz / median / 1e3:.3f} M samples/s")
            results.append({
                "name": name,
                "device": f"cpu ({args.threads} threads)",
                "config": f"implicit {implicit.__version__} AlternatingLeastSquares(factors={args.factors}, "
                          f"iterations=1, use_cg={use_cg}, regularization={args.regularization}) on "
                          f"{user_items.shape[0]} x {user_items.shape[1]}, {nnz} positives; samples = positives",
                "samples_per_s": nnz / (median / 1e3),
                "median_ms": median,
                "runs": args.runs,
                "all_ms": sweep_ms,
                "fit_ms": fit_ms,
                "cpu_ms": cpu_ms,
            })
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
