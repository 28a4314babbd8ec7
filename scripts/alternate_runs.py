#!/usr/bin/env python3
"""Times commands side by side on a noisy machine: each round runs every command once, in order, so
that a slow spell hits all of them alike; prints each command's median, range and every time.

  scripts/alternate_runs.py ROUNDS NAME 'COMMAND' [NAME 'COMMAND' ...]

Commands run through the shell with their output discarded; a failing command stops the timing.
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    times = {name: [] for name, _ in pairs}
    for _ in range(rounds):
        for name, command in pairs:
            start = time.perf_counter()
            done = subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{name} failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
            times[name].append(elapsed)
    for name, _ in pairs:
        t = times[name]
        print(f"{name:12s} median {statistics.median(t):.3f} s  range {min(t):.3f} to {max(t):.3f}  "
              f"[{' '.join(f'{x:.2f}' for x in t)}]")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
