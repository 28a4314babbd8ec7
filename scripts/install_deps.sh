#!/usr/bin/env bash
# Installs, with apt, only what the build needs and this machine lacks: cmake, g++, make,
# doctest and nlohmann/json, and Open MPI (libopenmpi-dev, openmpi-bin) for data-parallel training
# and its two-rank test; with the argument "fuzz", also clang with its fuzzer runtime and OpenMP
# (scripts/run_fuzzers.sh). Where everything is present it calls no package manager at all (the GPU
# machine has no registry). Open MPI is optional: where it cannot be installed the build goes on
# without it (its tests then say they are skipped). CUDA is never installed: it is used when
# /usr/local/cuda exists.
#   scripts/install_deps.sh [fuzz]
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
[ -f /usr/include/doctest/doctest.h ] || [ -f /usr/local/include/doctest/doctest.h ] || missing+=(doctest-dev)
[ -f /usr/include/nlohmann/json.hpp ] || [ -f /usr/local/include/nlohmann/json.hpp ] || [ -n "${NCF_JSON_INCLUDE_DIR:-}" ] ||
  missing+=(nlohmann-json3-dev)

if [ "${1:-}" = fuzz ]; then
  command -v clang++ >/dev/null 2>&1 || missing+=(clang)
  # libFuzzer's runtime and clang's OpenMP, each tried by compiling a one-line program.
  probe="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$probe/f.cpp"
  command -v clang++ >/dev/null 2>&1 && clang++ -fsanitize=fuzzer "$probe/f.cpp" -o "$probe/f" >/dev/null 2>&1 ||
    missing+=(libclang-rt-dev)
  printf '#include <omp.h>\nint main() { return omp_get_max_threads() > 0 ? 0 : 1; }\n' > "$probe/o.cpp"
  command -v clang++ >/dev/null 2>&1 && clang++ -fopenmp "$probe/o.cpp" -o "$probe/o" >/dev/null 2>&1 ||
    missing+=(libomp-dev)
  rm -rf "$probe"
fi

optional=()
{ command -v mpicxx >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; } || optional+=(libopenmpi-dev openmpi-bin)

if [ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ]; then
  exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    [ ${#missing[@]} -eq 0 ] && { echo "make deps: no root to install ${optional[*]}: building without MPI"; exit 0; }
    echo "make deps: need root (or sudo) to install ${missing[*]}" >&2
    exit 1
  fi
  sudo_cmd="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "make deps: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#optional[@]} -gt 0 ]; then
  echo "make deps: installing ${optional[*]} (optional: data-parallel training over MPI)"
  if ! { [ ${#missing[@]} -gt 0 ] || $sudo_cmd apt-get update -qq; } ||
     ! $sudo_cmd apt-get install -y -qq --no-install-recommends "${optional[@]}"; then
    echo "make deps: could not install ${optional[*]}: building without MPI (its tests are skipped)"
  fi
fi
