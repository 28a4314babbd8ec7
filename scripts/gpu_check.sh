#!/usr/bin/env bash
# The whole GPU round, one stage per device call (see README "Testing on a GPU"):
#   scripts/gpu_check.sh build|test|memcheck|racecheck|bench|accuracy|accuracy-ml1m
#                        (sanitize = memcheck + racecheck, all = every stage: several calls' worth)
#   build      configure (Ninja when present) and compile everything with CUDA, with doctest and
#              nlohmann/json taken from .gpu_carry only (scripts/prepare_gpu_carry.sh); checks that
#              no system copy of either was compiled in. Runs without a GPU too (for sm_90), and then
#              says that the later stages need one.
#   test       test_cuda once, then ctest over the CPU suites (test_cuda left out: not run twice)
#   memcheck   compute-sanitizer memcheck over test_cuda, the three long training cases left out
#   racecheck  compute-sanitizer racecheck over the cases whose kernels share memory (reductions,
#              losses, CUB sorts and scans)
#   bench      bench_ncf dle-f64 at batch 2^20 and paper-f8 at 256, the tutorial end to end
#   accuracy   NeuMF f=8 on ml-100k and ml-latest-small on the GPU, 20 epochs each
#   accuracy-ml1m  NeuMF f=8 on the paper's ml-1m files (ncf-ml-1m), 20 epochs: a call of its own
# Every command has a time limit that keeps its stage well inside a 10-minute call (aim: 7 on an H100);
# NCF_BUILD_SECONDS (default 480) raises the compile's for a slow machine.
# Under $OUT (default ./gpu-check-out) it leaves summary.txt (appended, one line per check; a failure
# names the log that holds its error), logs.tar.gz (every log of every stage so far, no checkpoints,
# under 16 MiB) and the benchmark JSONs. Stages after `build` reuse build-gpu/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
stage="${1:-all}"
case "$stage" in
  build | test | memcheck | racecheck | sanitize | bench | accuracy | accuracy-ml1m | all) ;;
  *)
    echo "usage: scripts/gpu_check.sh [build|test|memcheck|racecheck|sanitize|bench|accuracy|accuracy-ml1m|all]" >&2
    exit 2 ;;
esac
OUT="${OUT:-$PWD/gpu-check-out}"
LOGS="$PWD/gpu-check-logs"
mkdir -p "$OUT" "$LOGS"
summary="$OUT/summary.txt"
build="build-gpu"
carry="$PWD/.gpu_carry"
jobs="$(nproc)"
note() { echo "$*" | tee -a "$summary"; }
failed=0  # set by any check that fails; the script then exits 1
# record STATUS: remembers a failure, and leaves "exit STATUS" in $last for the summary line.
last=""
record() {
  [ "$1" -eq 0 ] || failed=1
  last="exit $1"
}

# logs.tar.gz: every log, never a checkpoint; a log over 2 MiB keeps its last 2 MiB.
# shellcheck disable=SC2317  # (run by the EXIT trap)
finish() {
  find "$LOGS" -type f -size +2M ! -name '*.safetensors' -exec sh -c 'tail -c 2M "$1" > "$1.tail" && mv "$1.tail" "$1"' _ {} \;
  tar -czf "$OUT/logs.tar.gz" --exclude='*.safetensors' --exclude='*.tmp' -C "$LOGS" . 2>/dev/null
  local kib
  kib="$(du -k "$OUT/logs.tar.gz" | cut -f1)"
  [ "$kib" -lt 16384 ] || note "logs.tar.gz: ${kib} KiB, over 16 MiB"
}
trap finish EXIT
note "== gpu_check.sh $stage, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2> /dev/null || echo 'no git')"

# Runs a command under a time limit, output to a log; returns its exit status (124: out of time).
limited() {
  local seconds="$1" log="$2"
  shift 2
  timeout --kill-after=10 "$seconds" "$@" > "$LOGS/$log" 2>&1
  local rc=$?
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && note "  $log: stopped after its limit of $seconds s"
  return "$rc"
}

gpu_present() { nvidia-smi -L > /dev/null 2>&1; }
need_gpu() {
  gpu_present && return 0
  note "$1: needs a GPU, and nvidia-smi finds none here; skipped"
  return 2
}
need_build() {
  [ -x "$build/bin/test_cuda" ] && return 0
  note "$1: $build/bin/test_cuda is missing; run the build stage first"
  return 2
}

stage_build() {
  local start=$SECONDS file
  for file in include/doctest/doctest.h include/nlohmann/json.hpp lib/cmake/doctest/doctestConfig.cmake; do
    if [ ! -f "$carry/$file" ]; then
      note "build: FAILED before configure: .gpu_carry/$file is missing (run scripts/prepare_gpu_carry.sh where doctest and nlohmann/json are installed, and carry .gpu_carry)"
      return 1
    fi
  done
  local nvcc
  nvcc="$(command -v /usr/local/cuda/bin/nvcc || command -v nvcc)" ||
    { note "build: FAILED before configure: no nvcc (/usr/local/cuda/bin or PATH)"; return 1; }
  local generator="Unix Makefiles"
  command -v ninja > /dev/null && generator=Ninja
  # The carried copies and nothing else: doctest_DIR names the carried package (find_package looks
  # there first and fails rather than fall back), the json headers come from NCF_JSON_INCLUDE_DIR
  # (no find_package at all), the package registries are off, and the system's package folders of
  # both are hidden from find_package.
  local system_packages="" prefix
  for prefix in /usr /usr/local; do
    system_packages+="$prefix/lib/cmake/doctest;$prefix/lib/x86_64-linux-gnu/cmake/doctest;$prefix/share/doctest;"
    system_packages+="$prefix/lib/cmake/nlohmann_json;$prefix/share/cmake/nlohmann_json;$prefix/share/nlohmann_json;"
  done
  local flags=(-G "$generator" -DCMAKE_BUILD_TYPE=Release -DNCF_WITH_CUDA=ON -DNCF_REQUIRE_CUDA=ON
    -DCMAKE_CUDA_COMPILER="$nvcc" -Ddoctest_DIR="$carry/lib/cmake/doctest"
    -DNCF_JSON_INCLUDE_DIR="$carry/include"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
    "-DCMAKE_IGNORE_PATH=$system_packages")
  if gpu_present; then
    nvidia-smi > "$LOGS/nvidia-smi.txt" 2>&1
    note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"
  else
    flags+=(-DCMAKE_CUDA_ARCHITECTURES=90)
    note "gpu: none here (nvidia-smi finds no GPU): building for sm_90 (H100/H200)"
  fi
  # A build folder made by another generator cannot be reused.
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_GENERATOR:INTERNAL=$generator\$" "$build/CMakeCache.txt"; then
    rm -rf "$build"
  fi
  if ! limited 120 configure.txt cmake -S . -B "$build" "${flags[@]}"; then
    cp "$build/CMakeFiles/CMakeError.log" "$LOGS/cmake-error.txt" 2> /dev/null
    note "build: FAILED at configure (see configure.txt in logs.tar.gz): $(grep -m 1 -E 'CMake Error|error' "$LOGS/configure.txt")"
    tail -n 20 "$LOGS/configure.txt"
    return 1
  fi
  note "configure: ok, $generator, $(grep -m 1 'ncf: CUDA enabled' "$LOGS/configure.txt" | sed 's/^-- //'); $(grep -m 1 'doctest: the carried copy' "$LOGS/configure.txt" | sed 's/^-- //')"
  if ! limited "${NCF_BUILD_SECONDS:-480}" build.txt cmake --build "$build" -j "$jobs"; then
    note "build: FAILED at compile (see build.txt in logs.tar.gz): $(grep -m 1 -E 'error|Error' "$LOGS/build.txt")"
    grep -m 10 -E -A3 'error' "$LOGS/build.txt"
    return 1
  fi
  # Which doctest.h and json.hpp were compiled in: the compiler's own dependency records.
  local headers
  if [ "$generator" = Ninja ]; then
    headers="$(ninja -C "$build" -t deps 2> /dev/null | grep -oE '[^ ]*/(doctest/doctest\.h|nlohmann/json\.hpp)$' | sort -u)"
  else
    headers="$(find "$build" -name '*.d' -exec grep -ohE '[^ ]*/(doctest/doctest\.h|nlohmann/json\.hpp)' {} + | sort -u)"
  fi
  echo "$headers" > "$LOGS/headers-used.txt"
  if [ -z "$headers" ] || echo "$headers" | grep -qv "^$carry/"; then
    note "build: FAILED: headers from outside .gpu_carry were compiled in (see headers-used.txt): $(echo "$headers" | grep -v "^$carry/" | tr '\n' ' ')"
    return 1
  fi
  note "headers: $(echo "$headers" | wc -l) of doctest.h and nlohmann/json.hpp compiled in, all from .gpu_carry"
  note "build: ok ($(grep -c 'CUDA object' "$LOGS/build.txt") CUDA objects compiled, $((SECONDS - start)) s)"
  gpu_present || note "no GPU here: the stages test, memcheck, racecheck, bench and accuracy need a GPU; run them on the GPU machine"
}

stage_test() {
  need_gpu test && need_build test || return $?
  local start=$SECONDS
  limited 420 test_cuda.txt "$build/bin/test_cuda" --duration=true
  record $?
  note "test_cuda: $last, $(grep -E '^\[doctest\] test cases' "$LOGS/test_cuda.txt") (log: test_cuda.txt)"
  grep -E "ERROR|FAILED|first mismatch" "$LOGS/test_cuda.txt" | head -n 20 | tee -a "$summary"
  (cd "$build" && timeout 150 ctest --output-on-failure --timeout 120 -E '^test_cuda$') > "$LOGS/ctest.txt" 2>&1
  record $?
  note "ctest (every suite but test_cuda): $last, $(grep -E 'tests passed|tests failed' "$LOGS/ctest.txt" | tail -n 1) (log: ctest.txt)"
  note "test: $((SECONDS - start)) s"
}

# compute-sanitizer over a subset of test_cuda's cases (doctest filters; a comma separates them).
sanitize() {
  local tool="$1" seconds="$2"
  shift 2
  local start=$SECONDS sanitizer
  sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
  limited "$seconds" "sanitize-$tool.txt" "$sanitizer" --tool "$tool" --error-exitcode 3 --print-limit 50 \
    "$build/bin/test_cuda" "$@"
  local rc=$?
  record "$rc"
  note "compute-sanitizer $tool: $last, $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/sanitize-$tool.txt" | tail -n 1); $(grep -E '^\[doctest\] test cases' "$LOGS/sanitize-$tool.txt"); $((SECONDS - start)) s (log: sanitize-$tool.txt)"
}
# Left out of memcheck: the long training runs (thousands of steps; the same kernels as the rest).
memcheck_exclude='cuda training from a fixed seed*,cuda steady-state*,cuda XOR*'
# Kernels with shared memory or warp shuffles, and the CUB algorithms: where races could hide.
# (A comma separates filters, so the first name's comma is matched by "?".)
racecheck_cases='cuda sum? mean*,cuda losses*,cuda segment_sum_rows*,cuda scatter_add_rows_*,cuda add_row_sparse*,cuda topk_rows*'
stage_memcheck() {
  need_gpu memcheck && need_build memcheck || return $?
  sanitize memcheck 540 --test-case-exclude="$memcheck_exclude"
}
stage_racecheck() {
  need_gpu racecheck && need_build racecheck || return $?
  sanitize racecheck 540 --test-case="$racecheck_cases"
}

stage_bench() {
  need_gpu bench && need_build bench || return $?
  limited 180 bench_dle_f64.txt "$build/bin/bench_ncf" --model dle-f64 --batch 1048576 --steps 20 --runs 5 \
    --json "$OUT/bench_dle_f64.json"
  record $?
  note "bench dle-f64 batch 2^20 ($last; target >= 70M samples/s step; sampling < 0.2 s):"
  grep -E "train_step|per step|epoch|negative_sampling|eval" "$LOGS/bench_dle_f64.txt" | tee -a "$summary"
  limited 120 bench_paper_f8.txt "$build/bin/bench_ncf" --model paper-f8 --batch 256 --steps 2000 --runs 5 \
    --epoch-rows 5000000 --json "$OUT/bench_paper_f8.json"
  record $?
  note "bench paper-f8 batch 256 ($last; target >= 1M samples/s):"
  grep -E "train_step|per step|epoch|eval" "$LOGS/bench_paper_f8.txt" | tee -a "$summary"
  limited 90 bench_paper_f8_grouped.txt "$build/bin/bench_ncf" --model paper-f8 --batch 256 --shuffle groups \
    --steps 2000 --runs 5 --epoch-rows 5000000 --json "$OUT/bench_paper_f8_grouped.json"
  record $?
  note "bench paper-f8 batch 255, user-grouped step ($last; compare with the line above):"
  grep -E "train_step|per step" "$LOGS/bench_paper_f8_grouped.txt" | tee -a "$summary"
  # The tutorial end to end: parse, split, 5 epochs, evaluation on 30% of an ML-20M-shaped set (< 60 s).
  [ -f datasets/synthetic-ml-20m/ratings.csv ] ||
    limited 60 generate.txt "$build/bin/generate_ratings" --out datasets/synthetic-ml-20m/ratings.csv
  rm -rf datasets/.cache "$LOGS/tutorial-run"
  local start_ns
  start_ns=$(date +%s%N)
  limited 120 tutorial.txt "$build/bin/train_ncf" --config apps/configs/tutorial-ml20m-mlp.json \
    --out "$LOGS/tutorial-run" --no-progress
  record $?
  note "tutorial end to end: $last, $(( ($(date +%s%N) - start_ns) / 1000000 )) ms (target < 60 s); $(grep 'best epoch' "$LOGS/tutorial.txt") (log: tutorial.txt)"
}

# accuracy_run CONFIG DATA SECONDS: one training run of apps/configs/CONFIG.json on the GPU.
accuracy_run() {
  local config="$1" data="$2" seconds="$3"
  if [ ! -d "datasets/$data" ]; then
    note "accuracy $config: SKIPPED (datasets/$data was not carried)"
    return 0
  fi
  rm -rf "$LOGS/acc-$config-cuda"
  limited "$seconds" "acc-$config-cuda.txt" "$build/bin/train_ncf" --config "apps/configs/$config.json" \
    --device cuda --out "$LOGS/acc-$config-cuda" --no-progress
  record $?
  note "accuracy $config on cuda ($last): $(grep -A1 'best epoch' "$LOGS/acc-$config-cuda.txt" | tr -s ' ' | tr '\n' ' ') (log: acc-$config-cuda.txt)"
}
stage_accuracy() {
  need_gpu accuracy && need_build accuracy || return $?
  accuracy_run ml-100k-neumf ml-100k 240
  accuracy_run ml-latest-small ml-latest-small 240
  note "compare with the CPU's numbers in the README results table (same seed; HR@10 within 0.02)"
}
stage_accuracy_ml1m() {
  need_gpu accuracy-ml1m && need_build accuracy-ml1m || return $?
  accuracy_run ml1m-neumf-f8 ncf-ml-1m 540
  note "compare with the CPU's numbers in the README results table (same seed; HR@10 within 0.02)"
}

case "$stage" in
  build) stage_build ;;
  test) stage_test ;;
  memcheck) stage_memcheck ;;
  racecheck) stage_racecheck ;;
  sanitize) stage_memcheck; stage_racecheck ;;
  bench) stage_bench ;;
  accuracy) stage_accuracy ;;
  accuracy-ml1m) stage_accuracy_ml1m ;;
  all) stage_build && stage_test && stage_memcheck && stage_racecheck && stage_bench && stage_accuracy &&
    stage_accuracy_ml1m ;;
esac
stage_status=$?
[ "$stage_status" -eq 0 ] && [ "$failed" -ne 0 ] && stage_status=1
exit "$stage_status"
