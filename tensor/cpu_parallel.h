// How the CPU ops spread work over OpenMP threads, in one place so that every op makes the same
// trade-off (host compiler only; the CUDA side of each op family has its own launch shapes).
//
// A parallel region costs a few microseconds, more than a loop over the 16k floats of a 256x64
// tensor, so small loops run on the calling thread and only large ones are cut into fixed chunks.
// Results never depend on which thread ran a chunk: element-wise work writes disjoint elements, and
// sums use a fixed blocking (cpu_blocked_sum), so the bits are the same for any thread count.
// That is what lets the thread count adapt: every parallel region asks cpu_threads() how many
// threads it may use now, which leaves out cores that other programs keep busy (cpu_parallel.cpp).
#pragma once

#include <cstdint>

namespace ncf {

// Threads for a parallel region now: omp_get_max_threads() less the cores other processes keep
// busy (measured every 100 ms), at least 1. NCF_FIXED_THREADS=1 turns the adaptation off.
int cpu_threads();

constexpr int64_t kParallelThreshold = 32768;  // elements; below this, one thread
constexpr int64_t kParallelChunk = 8192;       // elements per OpenMP work item

// chunk_fn(begin, end) processes elements [begin, end).
template <class ChunkFn>
void cpu_for_chunks(int64_t n, ChunkFn&& chunk_fn) {
  if (n < kParallelThreshold) {
    if (n > 0) chunk_fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = (n + kParallelChunk - 1) / kParallelChunk;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kParallelChunk;
    chunk_fn(begin, begin + kParallelChunk < n ? begin + kParallelChunk : n);
  }
}

// Sum of value(i) for i in [0, n), in double, in a fixed order: the range is cut into at most
// kMaxSumBlocks blocks whose size depends only on n; each block is summed on its own, then the
// block sums are added in block order. The bits are therefore the same for any thread count.
// value(i) must be cheap and pure; blocks are summed with `omp simd`, an order fixed at compile time.
constexpr int64_t kMinSumBlock = 4096;
constexpr int64_t kMaxSumBlocks = 1024;

template <class ValueFn>
double cpu_blocked_sum(int64_t n, ValueFn&& value) {
  if (n <= 0) return 0.0;
  int64_t block = (n + kMaxSumBlocks - 1) / kMaxSumBlocks;
  if (block < kMinSumBlock) block = kMinSumBlock;
  const int64_t blocks = (n + block - 1) / block;
  double partial[kMaxSumBlocks];  // on the stack: no allocation per call
  auto sum_block = [&](int64_t b) {
    const int64_t begin = b * block, end = begin + block < n ? begin + block : n;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = begin; i < end; ++i) acc += value(i);
    partial[b] = acc;
  };
  if (n < kParallelThreshold) {
    for (int64_t b = 0; b < blocks; ++b) sum_block(b);
  } else {
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
    for (int64_t b = 0; b < blocks; ++b) sum_block(b);
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b) total += partial[b];
  return total;
}

}  // namespace ncf
