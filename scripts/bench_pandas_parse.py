#!/usr/bin/env python3
"""Times pandas on the work bench_data measures: parse a MovieLens ratings.csv, then hold out each
user's last interaction by time (leave-one-out), so the two can be compared on the same file and
machine.

    python3 scripts/bench_pandas_parse.py datasets/synthetic-ml-20m/ratings.csv --runs 3

The parse is `read_csv` with the column dtypes given (so pandas does not infer them); the split is a
stable sort by (user, timestamp) and the last row of each user. Prints the median of each over
`runs`, after one untimed parse that warms the page cache, as bench_data does.
"""
import argparse
import statistics
import time

import numpy as np
import pandas as pd

DTYPES = {"userId": np.int32, "movieId": np.int32, "rating": np.float32, "timestamp": np.int64}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    pd.read_csv(args.path, dtype=DTYPES)  # page cache
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
    print(f"pandas {pd.__version__}, {args.runs} runs, medians")
    print(f"  parse        {statistics.median(parse_s):.3f} s")
    print(f"  parse+split  {statistics.median(parse_split_s):.3f} s")


if __name__ == "__main__":
    main()
