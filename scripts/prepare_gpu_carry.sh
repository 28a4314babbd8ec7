#!/usr/bin/env bash
# Fills .gpu_carry/ (git-ignored) with what the GPU machine lacks: nlohmann/json's headers.
# Data sets other than the shipped ml-latest-small travel as datasets/ml-100k and datasets/ncf-ml-1m
# (make data NAME=... FROM=../shared/data first).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu_carry/include
cp -r /usr/include/nlohmann .gpu_carry/include/
du -sh .gpu_carry datasets/ml-100k datasets/ncf-ml-1m 2>/dev/null || true
