#!/usr/bin/env bash
# make bench: the CPU-sized benchmarks (the GPU ones are in scripts/gpu_check.sh bench).
# JSON results land in <build>/bench/.
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
mkdir -p "$build/bench"
"$build/bin/bench_ncf" --model paper-f8 --batch 256 --device cpu --users 6040 --items 3706 --ratings 1000209 \
  --steps 500 --runs 5 --epoch-rows 1000000 --json "$build/bench/bench_ncf_paper_f8_cpu.json"
"$build/bin/bench_ncf" --model paper-f8 --batch 256 --shuffle groups --device cpu --users 6040 --items 3706 \
  --ratings 1000209 --steps 500 --runs 5 --epoch-rows 1000000 --json "$build/bench/bench_ncf_paper_f8_grouped_cpu.json"
"$build/bin/bench_data" --runs 3 --json "$build/bench/bench_data.json"
