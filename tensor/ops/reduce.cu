// Reductions on the GPU, deterministic (no float atomics), accumulating in double:
//   cuda_sum:      all elements -> out (1,): cuda_fixed_order_sum (cuda_reduce.cuh), one
//                  partial per block of a grid sized by n alone, then one block adding them in order.
//   cuda_sum_axis: x seen as (outer, len, inner) -> out (outer, inner):
//                  inner == 1 (sum of each contiguous row): one warp per row, a shuffle tree;
//                  inner  > 1: one thread per output element, adding j = 0..len-1 in order
//                  (neighbouring threads read neighbouring columns: coalesced).
// Shapes were checked and `out` allocated by reduce.cpp; divisor is 1 for sums, len or n for means.
#include "tensor/cuda_context.h"
#include "tensor/ops/cuda_reduce.cuh"
#include "tensor/ops/reduce.h"
#include "tensor/ops/reduce_cuda.h"

namespace ncf::ops {

namespace {

template <class T>
struct LoadAsDouble {
  const T* values;
  __device__ double operator()(int64_t i) const { return static_cast<double>(values[i]); }
};

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

template <class T>
__global__ void row_sum_kernel(const T* __restrict__ x, int64_t rows, int64_t len, double divisor, T* out) {
  const int lane = threadIdx.x % 32;
  const int64_t first_warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t row = first_warp; row < rows; row += warp_stride) {  // the whole warp takes the same path
    const T* values = x + row * len;
    double acc = 0.0;
    for (int64_t j = lane; j < len; j += 32) acc += static_cast<double>(values[j]);
    for (int offset = 16; offset > 0; offset >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) out[row] = static_cast<T>(acc / divisor);
  }
}

template <class T>
__global__ void column_sum_kernel(const T* __restrict__ x, int64_t outer, int64_t len, int64_t inner,
                                  double divisor, T* out) {
  const int64_t outputs = outer * inner;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < outputs;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = t / inner, k = t % inner;
    const T* column = x + o * len * inner + k;
    double acc = 0.0;
    for (int64_t j = 0; j < len; ++j) acc += static_cast<double>(column[j * inner]);
    out[t] = static_cast<T>(acc / divisor);
  }
}

}  // namespace

void cuda_sum(const Tensor& x, double divisor, Tensor& out) {
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda sum", [&] {
    cuda_fixed_order_sum(LoadAsDouble<scalar_t>{x.data<scalar_t>()}, x.numel(), divisor, out.data<scalar_t>(),
                         x.device());
  });
}

void cuda_sum_axis(const Tensor& x, int64_t outer, int64_t len, int64_t inner, double divisor, Tensor& out) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return;
  const cudaStream_t stream = cuda_stream(x.device().index);
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda sum_axis", [&] {
    if (inner == 1) {
      const unsigned blocks = cuda_blocks_for(outer, kWarpsPerBlock);
      row_sum_kernel<scalar_t>
          <<<blocks, kThreads, 0, stream>>>(x.data<scalar_t>(), outer, len, divisor, out.data<scalar_t>());
      NCF_CUDA_LAUNCH_CHECK("row_sum_kernel");
    } else {
      column_sum_kernel<scalar_t><<<cuda_blocks_for(outputs, kThreads), kThreads, 0, stream>>>(
          x.data<scalar_t>(), outer, len, inner, divisor, out.data<scalar_t>());
      NCF_CUDA_LAUNCH_CHECK("column_sum_kernel");
    }
  });
}

}  // namespace ncf::ops
