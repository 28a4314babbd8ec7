#!/usr/bin/env bash
# make sanitize: the CPU test suites built with AddressSanitizer and UndefinedBehaviorSanitizer (g++,
# CUDA off) and run through ctest; any report fails the run (UBSan does not recover, ASan aborts).
#   scripts/run_sanitized_tests.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-asan}"
mkdir -p "$build"
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DNCF_WITH_CUDA=OFF -DNCF_WITH_MPI=OFF -DNCF_NATIVE=OFF > "$build/configure.log" 2>&1 || { tail -n 30 "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
# detect_leaks: the allocators are kept alive on purpose until exit (tensor/allocator.cpp), so only
# real leaks show; halt_on_error makes the first report fail the test that caused it.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$build" && ctest --output-on-failure --timeout 1800)
