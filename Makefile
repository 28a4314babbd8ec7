# Entry points. Everything builds with CMake into build/ (binaries in build/bin/).
#   make          Release build (CUDA kernels too when nvcc is found)
#   make test     install what is missing, build, run every test suite through ctest
#   make run      install what is missing, build, train NeuMF on the shipped ml-latest-small
#   make deps     install (apt) only what is missing: cmake, g++, doctest, nlohmann/json
#   make data NAME=ml-100k [FROM=../shared/data]   fetch or copy a data set into datasets/
#   make bench    the benchmarks (JSON results in build/bench/)
#   make sanitize the CPU suites under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make fuzz     the libFuzzer targets, FUZZ_SECONDS each (default 12), from fuzz/corpus/ (build-fuzz/)
#   make format   clang-format every source file
# Variables: BUILD=dir, CUDA=OFF (CPU-only build), CMAKE_FLAGS="..." (passed to cmake), JOBS=n.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CUDA ?= ON
CMAKE_FLAGS ?=
NVCC := $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))

# When nvcc exists and CUDA is wanted, a silent fall-back to a CPU-only build is an error.
ifeq ($(CUDA),ON)
ifneq ($(NVCC),)
CUDA_FLAGS := -DNCF_WITH_CUDA=ON -DNCF_REQUIRE_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC)
else
CUDA_FLAGS := -DNCF_WITH_CUDA=ON
endif
else
CUDA_FLAGS := -DNCF_WITH_CUDA=OFF
endif

.PHONY: all build deps test run data bench format clean sanitize fuzz

all: build

deps:
	@bash scripts/install_deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CUDA_FLAGS) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

run: deps
	@$(MAKE) --no-print-directory build
	bash scripts/run_demo.sh $(BUILD)

data:
	@bash scripts/get_data.sh "$(NAME)" "$(FROM)"

bench: build
	bash scripts/run_benchmarks.sh $(BUILD)

sanitize: deps
	bash scripts/run_sanitized_tests.sh build-asan

FUZZ_SECONDS ?= 12
fuzz:
	@bash scripts/install_deps.sh fuzz
	bash scripts/run_fuzzers.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
