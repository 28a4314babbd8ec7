#!/usr/bin/env python3
"""Times pandas on the work bench_data measures: parse a MovieLens ratings.csv, then hold out each
user's last interaction by time (leave-one-out), so the two can be compared on the same file and
machine.

    python3 scripts/bench_pandas_parse.py datasets/synthetic-ml-20m/ratings.csv --runs 3 [--json FILE]

The parse is `read_csv` with the column dtypes given (so pandas does not infer them); the split is a
stable sort by (user, timestamp) and the last row of each user. Prints the median of each over
`runs`, after one untimed parse that warms the page cache, as bench_data does, and writes them as a
JSON array of {"name","device","config","samples_per_s","median_ms","runs"} like the project's
benchmarks (samples = rows of the file), named "pandas_parse" and "pandas_parse+split".
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import pandas as pd

DTYPES = {"userId": np.int32, "movieId": np.int32, "rating": np.float32, "timestamp": np.int64}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", default="bench_pandas_parse.json")
    args = parser.parse_args()

    rows = len(pd.read_csv(args.path, dtype=DTYPES))  # also warms the page cache
    parse_s, parse_split_s = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        frame = pd.read_csv(args.path, dtype=DTYPES)
        parsed = time.perf_counter()
        frame = frame.sort_values(["userId", "timestamp"], kind="stable")
        held_out = frame.groupby("userId", sort=False).tail(1)
        done = time.perf_counter()
        parse_s.append(parsed - start)
        parse_split_s.append(done - start)
        del frame, held_out
    device = f"cpu (pandas {pd.__version__}, {os.cpu_count()} cores)"
    config = f"{args.path}: {rows} rows"
    print(f"{device}, {config}, medians of {args.runs} runs")
    results = []
    for name, seconds in (("pandas_parse", parse_s), ("pandas_parse+split", parse_split_s)):
        median_s = statistics.median(seconds)
        print(f"  {name:20s} {median_s:.3f} s")
        results.append({"name": name, "device": device, "config": config, "samples_per_s": rows / median_s,
                         "median_ms": median_s * 1e3, "runs": args.runs})
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
