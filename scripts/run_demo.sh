#!/usr/bin/env bash
# make run: trains NeuMF on the shipped ml-latest-small with the best device available, prints
# HR@10 / NDCG@10, then a few recommendations (with titles) for one user.
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
out="runs/make-run-$(date +%Y%m%d-%H%M%S)"
"$build/bin/train_ncf" --config apps/configs/ml-latest-small.json --out "$out"
echo
"$build/bin/recommend" --run "$out" --user 414 -k 10
