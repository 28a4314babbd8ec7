#!/usr/bin/env bash
# Installs, with apt, only what the build needs and this machine lacks: cmake, g++, make,
# doctest and nlohmann/json, and Open MPI (libopenmpi-dev, openmpi-bin) for data-parallel training
# and its two-rank test. Where everything is present it calls no package manager at all (the GPU
# machine has no registry). Open MPI is optional: where it cannot be installed the build goes on
# without it (its tests then say they are skipped). CUDA is never installed: it is used when
# /usr/local/cuda exists.
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
[ -f /usr/include/doctest/doctest.h ] || [ -f /usr/local/include/doctest/doctest.h ] || missing+=(doctest-dev)
[ -f /usr/include/nlohmann/json.hpp ] || [ -f /usr/local/include/nlohmann/json.hpp ] || [ -n "${NCF_JSON_INCLUDE_DIR:-}" ] ||
  missing+=(nlohmann-json3-dev)

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
