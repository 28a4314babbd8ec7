#!/usr/bin/env bash
# The whole GPU round in one script, for the lent GPU machine (see README "Testing on a GPU"):
#   scripts/gpu_check.sh [build|test|sanitize|bench|accuracy|all]
# Each stage fits in one 10-minute device call. Under $OUT (default ./gpu-check-out) it leaves at most
# four files: summary.txt (appended, one line per check), logs.tar.gz (every log and run folder, kept
# in gpu-check-logs/ between stages) and the two benchmark JSONs. Stages after `build` reuse build-gpu/.
# nlohmann/json comes from .gpu_carry/include when the machine has no package for it
# (scripts/prepare_gpu_carry.sh fills .gpu_carry/ here; name it, and the data sets, in `carry`).
set -uo pipefail
cd "$(dirname "$0")/.."
stage="${1:-all}"
OUT="${OUT:-$PWD/gpu-check-out}"
LOGS="$PWD/gpu-check-logs"
mkdir -p "$OUT" "$LOGS"
summary="$OUT/summary.txt"
build=build-gpu
jobs="$(nproc)"
note() { echo "$*" | tee -a "$summary"; }
finish() { tar -czf "$OUT/logs.tar.gz" -C "$LOGS" . 2>/dev/null; }
trap finish EXIT

stage_build() {
  local flags=(-DCMAKE_BUILD_TYPE=Release -DNCF_WITH_CUDA=ON -DNCF_REQUIRE_CUDA=ON)
  [ -x /usr/local/cuda/bin/nvcc ] && flags+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  [ -f .gpu_carry/include/nlohmann/json.hpp ] && [ ! -f /usr/include/nlohmann/json.hpp ] &&
    flags+=(-DNCF_JSON_INCLUDE_DIR="$PWD/.gpu_carry/include")
  nvidia-smi > "$LOGS/nvidia-smi.txt" 2>&1
  note "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
  if cmake -S . -B "$build" "${flags[@]}" > "$LOGS/configure.txt" 2>&1 &&
     cmake --build "$build" -j "$jobs" > "$LOGS/build.txt" 2>&1; then
    note "build: ok ($(grep -c 'CUDA object' "$LOGS/build.txt") CUDA objects)"
  else
    note "build: FAILED (logs/configure.txt, logs/build.txt)"; tail -n 30 "$LOGS/build.txt"; return 1
  fi
}

stage_test() {
  (cd "$build" && ctest --output-on-failure --timeout 900) > "$LOGS/ctest.txt" 2>&1
  note "ctest: $(grep -E 'tests passed|tests failed' "$LOGS/ctest.txt" | tail -n 1)"
  "$build/bin/test_cuda" > "$LOGS/test_cuda.txt" 2>&1
  note "test_cuda: $(grep -E '^\[doctest\] test cases' "$LOGS/test_cuda.txt")"
  grep -E "ERROR|FAILED" "$LOGS/test_cuda.txt" | head -n 20 | tee -a "$summary"
}

stage_sanitize() {
  local tool
  for tool in memcheck racecheck; do
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$build/bin/test_cuda" > "$LOGS/sanitize-$tool.txt" 2>&1
    note "compute-sanitizer $tool: exit $? ($(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/sanitize-$tool.txt" | tail -n 1))"
  done
}

stage_bench() {
  "$build/bin/bench_ncf" --model dle-f64 --batch 1048576 --steps 20 --runs 5 --json "$OUT/bench_dle_f64.json" \
    > "$LOGS/bench_dle_f64.txt" 2>&1
  note "bench dle-f64 batch 2^20 (target >= 70M samples/s step; sampling < 0.2 s):"
  grep -E "train_step|epoch|negative_sampling|eval" "$LOGS/bench_dle_f64.txt" | tee -a "$summary"
  "$build/bin/bench_ncf" --model paper-f8 --batch 256 --steps 2000 --runs 5 --epoch-rows 5000000 \
    --json "$OUT/bench_paper_f8.json" > "$LOGS/bench_paper_f8.txt" 2>&1
  note "bench paper-f8 batch 256 (target >= 1M samples/s):"
  grep -E "train_step|epoch|eval" "$LOGS/bench_paper_f8.txt" | tee -a "$summary"
  # The tutorial end to end: parse, split, 5 epochs, evaluation on 30% of an ML-20M-shaped set (< 60 s).
  [ -f datasets/synthetic-ml-20m/ratings.csv ] ||
    "$build/bin/generate_ratings" --out datasets/synthetic-ml-20m/ratings.csv > "$LOGS/generate.txt" 2>&1
  rm -rf datasets/.cache
  local start_ns=$(date +%s%N)
  "$build/bin/train_ncf" --config apps/configs/tutorial-ml20m-mlp.json --out "$LOGS/tutorial-run" --no-progress \
    > "$LOGS/tutorial.txt" 2>&1
  note "tutorial end to end: exit $?, $(( ($(date +%s%N) - start_ns) / 1000000 )) ms (target < 60 s); $(grep 'best epoch' "$LOGS/tutorial.txt")"
}

stage_accuracy() {
  local config
  for config in ml-100k-neumf ml-latest-small ml1m-neumf-f8; do
    if [ "$config" != ml-latest-small ] && [ ! -d "datasets/$( [ "$config" = ml-100k-neumf ] && echo ml-100k || echo ncf-ml-1m )" ]; then
      note "accuracy $config: SKIPPED (data set not carried)"; continue
    fi
    "$build/bin/train_ncf" --config "apps/configs/$config.json" --device cuda --out "$LOGS/acc-$config-cuda" \
      --no-progress > "$LOGS/acc-$config-cuda.txt" 2>&1
    note "accuracy $config on cuda: $(grep -A1 'best epoch' "$LOGS/acc-$config-cuda.txt" | tr -s ' ' | tr '\n' ' ')"
  done
  note "compare with the CPU's numbers in the README results table (same seed; HR@10 within 0.02)"
}

case "$stage" in
  build) stage_build ;;
  test) stage_test ;;
  sanitize) stage_sanitize ;;
  bench) stage_bench ;;
  accuracy) stage_accuracy ;;
  all) stage_build && stage_test && stage_sanitize && stage_bench && stage_accuracy ;;
  *) echo "usage: scripts/gpu_check.sh [build|test|sanitize|bench|accuracy|all]" >&2; exit 2 ;;
esac
