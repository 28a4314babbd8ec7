#!/usr/bin/env bash
# Prepares, on a machine with the packages, everything the GPU machine's build needs that is not the
# CUDA toolkit (that machine has no package registry), and the data sets its later stages read:
#   .gpu_carry/include/doctest/doctest.h        doctest's header
#   .gpu_carry/include/nlohmann/                nlohmann/json's headers (-DNCF_JSON_INCLUDE_DIR=)
#   .gpu_carry/lib/cmake/doctest/               doctest's CMake package (-Ddoctest_DIR=), made to
#                                               point at the carried header, never at /usr/include
#   datasets/ml-100k, datasets/ncf-ml-1m        copied from ../shared/data (or FROM=DIR) when absent
# scripts/gpu_check.sh builds with these copies only. At the end it prints the paths to name in the
# device call's `carry` and their size (the carry limit is 64 MiB in all).
#   scripts/prepare_gpu_carry.sh            (FROM=DIR: where the data sets are; default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
from="${FROM:-../shared/data}"
carry=.gpu_carry
fail() { echo "prepare_gpu_carry: $*" >&2; exit 1; }

# The first folder of a list that holds a given file.
find_dir() {
  local file="$1"; shift
  local dir
  for dir in "$@"; do [ -f "$dir/$file" ] && { echo "$dir"; return 0; }; done
  return 1
}
include_dir="$(find_dir doctest/doctest.h /usr/include /usr/local/include)" ||
  fail "doctest/doctest.h not found (install doctest: scripts/install_deps.sh)"
json_dir="$(find_dir nlohmann/json.hpp /usr/include /usr/local/include)" ||
  fail "nlohmann/json.hpp not found (install nlohmann-json3-dev: scripts/install_deps.sh)"
doctest_cmake="$(find_dir doctestConfigVersion.cmake /usr/lib/cmake/doctest /usr/lib/x86_64-linux-gnu/cmake/doctest \
  /usr/local/lib/cmake/doctest /usr/share/doctest/cmake)" || doctest_cmake=""

# Built beside the old copy and swapped in at the end, so a failure leaves the old one whole.
rm -rf "$carry.tmp"
mkdir -p "$carry.tmp/include" "$carry.tmp/lib/cmake/doctest"
cp -r "$include_dir/doctest" "$carry.tmp/include/"
cp -r "$json_dir/nlohmann" "$carry.tmp/include/"
cmake_out="$carry.tmp/lib/cmake/doctest"
# The package's version file and its helper modules (doctest_discover_tests) hold no paths: copied.
if [ -n "$doctest_cmake" ]; then
  for f in doctestConfigVersion.cmake doctest.cmake doctestAddTests.cmake; do
    [ -f "$doctest_cmake/$f" ] && cp "$doctest_cmake/$f" "$cmake_out/"
  done
fi
# The config and the target file are written here: a system's doctestTargets.cmake names its own
# prefix (/usr), which would send the compiler to /usr/include on the GPU machine, where doctest may
# be missing, or be another version than the one CMake found (a half-found system copy).
cat > "$cmake_out/doctestConfig.cmake" <<'CMAKE'
# doctest's CMake package as carried by scripts/prepare_gpu_carry.sh: doctest::doctest points at the
# header carried beside this folder (.gpu_carry/include), wherever the carry lands.
if(NOT TARGET doctest::doctest)
  list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
  include("${CMAKE_CURRENT_LIST_DIR}/doctestTargets.cmake")
endif()
CMAKE
cat > "$cmake_out/doctestTargets.cmake" <<'CMAKE'
# The imported target of the carried doctest (written by scripts/prepare_gpu_carry.sh).
get_filename_component(_ncf_doctest_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT EXISTS "${_ncf_doctest_prefix}/include/doctest/doctest.h")
  message(FATAL_ERROR "carried doctest: ${_ncf_doctest_prefix}/include/doctest/doctest.h is missing")
endif()
add_library(doctest::doctest INTERFACE IMPORTED)
set_target_properties(doctest::doctest PROPERTIES
  INTERFACE_COMPILE_FEATURES "cxx_std_11"
  INTERFACE_INCLUDE_DIRECTORIES "${_ncf_doctest_prefix}/include")
message(STATUS "doctest: the carried copy in ${_ncf_doctest_prefix}/include")
unset(_ncf_doctest_prefix)
CMAKE
if [ ! -f "$cmake_out/doctestConfigVersion.cmake" ]; then
  version="$(sed -n 's/^#define DOCTEST_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
    "$carry.tmp/include/doctest/doctest.h" | paste -sd.)"
  cat > "$cmake_out/doctestConfigVersion.cmake" <<CMAKE
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION AND PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
CMAKE
fi
# Nothing carried may name a system folder.
if grep -rlE '"?/usr/(local/)?(include|lib)' "$cmake_out"; then fail "a carried CMake file names a system folder"; fi
rm -rf "$carry" && mv "$carry.tmp" "$carry"
echo "prepared $carry: doctest $(sed -n 's/^#define DOCTEST_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$carry/include/doctest/doctest.h" | paste -sd.) from $include_dir, nlohmann/json from $json_dir"

# The data sets of the accuracy stage and the data tests, unless already there.
paths=("$carry")
for name in ml-100k ncf-ml-1m; do
  if [ ! -d "datasets/$name" ] && [ -d "$from/$name" ]; then scripts/get_data.sh "$name" "$from"; fi
  if [ -d "datasets/$name" ]; then
    paths+=("datasets/$name")
  else
    echo "prepare_gpu_carry: datasets/$name is absent and $from/$name too: its accuracy run will be skipped" >&2
  fi
done
du -sh "${paths[@]}"
total_kib="$(du -sck "${paths[@]}" | tail -n 1 | cut -f1)"
carry_list="$(printf '"%s", ' "${paths[@]}")"
echo "carry: [${carry_list%, }]  (${total_kib} KiB in all; the limit is 65536 KiB)"
[ "$total_kib" -lt 65536 ] || fail "the carried paths exceed 64 MiB"
