#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of fuzz/ with clang (AddressSanitizer and UndefinedBehavior-
# Sanitizer on, CPU only) and runs each for SECONDS seconds (default 12) from the seed corpus in
# fuzz/corpus/ (copied, so the repository is not changed). Any crash, sanitizer report or timeout
# fails the script and leaves the input that caused it under build-fuzz/findings/<target>/.
#   scripts/run_fuzzers.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-12}"
build=build-fuzz
mkdir -p "$build"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DNCF_WITH_CUDA=OFF -DNCF_WITH_MPI=OFF -DNCF_NATIVE=OFF -DNCF_BUILD_TESTS=OFF -DNCF_FUZZ=ON > "$build/configure.log" 2>&1 ||
  { tail -n 30 "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target fuzz_readers fuzz_ncf fuzz_config fuzz_safetensors fuzz_cache
failed=0
for target in readers ncf config safetensors cache; do
  work="$build/corpus/$target" findings="$build/findings/$target"
  rm -rf "$work" && mkdir -p "$work" "$findings" && cp fuzz/corpus/"$target"/* "$work"/
  log="$build/fuzz_$target.log"
  # One worker, inputs up to 16 KiB, 10 s per input at most; -artifact_prefix keeps the crashing input.
  if OMP_NUM_THREADS=1 "$build/bin/fuzz_$target" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
      -rss_limit_mb=4096 -artifact_prefix="$findings/" "$work" > "$log" 2>&1; then
    echo "fuzz_$target: $(grep -oE '#[0-9]+' "$log" | tail -n 1 | tr -d '#') executions, no crash"
  else
    echo "fuzz_$target: FAILED (see $log and $findings/)"; tail -n 25 "$log"; failed=1
  fi
done
exit "$failed"
