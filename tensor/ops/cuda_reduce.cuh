// Fixed-order sums on the GPU, shared by the reductions (reduce.cu) and the losses (loss.cu); nvcc only.
//
// Float atomics would add in whatever order the threads arrive, so two runs could differ in the last
// bits; here every partial sum has a fixed place in a fixed tree, so the result is the same bits run
// after run: each block reduces its grid-stride share by a shuffle tree per warp and a tree over the
// warp sums, and one block then adds the per-block partials in block order.
#pragma once

#include "tensor/cuda_context.h"
#include "tensor/tensor.h"

namespace ncf::ops {

constexpr int kReduceThreads = 256;
constexpr unsigned kMaxReduceBlocks = 1024;

// The sum of one double per thread over a block of kReduceThreads threads. Every thread must call
// it; thread 0 gets the total.
__device__ __forceinline__ double block_sum_fixed_order(double value) {
  __shared__ double warp_sums[kReduceThreads / 32];
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < kReduceThreads / 32 ? warp_sums[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  }
  __syncthreads();  // warp_sums may be reused by a following call
  return value;
}

// Block b writes out[b] = (sum of load(i) over its grid-stride elements) / divisor.
template <class Load, class Out>
__global__ void fixed_order_sum_kernel(Load load, int64_t n, double divisor, Out* out) {
  double acc = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    acc += load(i);
  acc = block_sum_fixed_order(acc);
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<Out>(acc / divisor);
}

struct LoadDouble {
  const double* values;
  __device__ double operator()(int64_t i) const { return values[i]; }
};

// out[0] = (sum over i < n of load(i)) / divisor, on `device`'s stream, without atomics: a grid
// whose size depends only on n writes one partial sum per block, then one block adds them in order.
template <class Load, class Out>
void cuda_fixed_order_sum(Load load, int64_t n, double divisor, Out* out, Device device) {
  unsigned blocks = cuda_blocks_for(n, kReduceThreads);
  if (blocks > kMaxReduceBlocks) blocks = kMaxReduceBlocks;
  const cudaStream_t stream = cuda_stream(device.index);
  if (blocks == 1) {
    fixed_order_sum_kernel<<<1, kReduceThreads, 0, stream>>>(load, n, divisor, out);
    NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel");
    return;
  }
  // The partials go back to the caching allocator when this returns; that is safe because every
  // later user of the block runs on the same stream, after these kernels.
  Tensor partial = Tensor::empty(Shape{static_cast<int64_t>(blocks)}, DType::f64, device);
  fixed_order_sum_kernel<<<blocks, kReduceThreads, 0, stream>>>(load, n, 1.0, partial.data<double>());
  NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel (partials)");
  fixed_order_sum_kernel<<<1, kReduceThreads, 0, stream>>>(LoadDouble{partial.data<double>()},
                                                           static_cast<int64_t>(blocks), divisor, out);
  NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel (combine)");
}

}  // namespace ncf::ops
