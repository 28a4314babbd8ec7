// Reductions on the GPU, deterministic (no float atomics), accumulating in double:
//   cuda_sum:      all elements -> out (1,): cuda_fixed_order_sum (cuda_reduce.cuh), one
//                  partial per block of a grid sized by n alone, then one block adding them in order.
//   cuda_sum_axis: x seen as (outer, len, inner) -> out (outer, inner), in the blocking of
//                  reduce_plan.h (a function of the shape alone):
//                  short rows (inner == 1): one warp per row, a shuffle tree;
//                  otherwise two passes: blocks of (chunk of rows) x (tile of columns) write partial
//                  sums in double, then one warp per output adds its column's partials in chunk order.
// Shapes were checked and `out` allocated by reduce.cpp; divisor is 1 for sums, len or n for means.
#include "tensor/cuda_context.h"
#include "tensor/ops/cuda_reduce.cuh"
#include "tensor/ops/reduce.h"
#include "tensor/ops/reduce_cuda.h"
#include "tensor/ops/reduce_plan.h"

namespace ncf::ops {

namespace {

template <class T>
struct LoadAsDouble {
  const T* values;
  __device__ double operator()(int64_t i) const { return static_cast<double>(values[i]); }
};

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

// The sum of one double per lane of a warp, in a fixed tree; lane 0 gets the total.
__device__ __forceinline__ double warp_sum_fixed_order(double value) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

template <class T>
__global__ void row_sum_kernel(const T* __restrict__ x, int64_t rows, int64_t len, double divisor, T* out) {
  const int lane = threadIdx.x % 32;
  const int64_t first_warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t row = first_warp; row < rows; row += warp_stride) {  // the whole warp takes the same path
    const T* values = x + row * len;
    double acc = 0.0;
    for (int64_t j = lane; j < len; j += 32) acc += static_cast<double>(values[j]);
    acc = warp_sum_fixed_order(acc);
    if (lane == 0) out[row] = static_cast<T>(acc / divisor);
  }
}

// Pass 1 (see reduce_plan.h). Task (o, chunk, tile) = one block's share; a grid-stride loop over the
// tasks lets a bounded grid cover any shape. With plan.chunks == 1 the sums are final and go to
// `out`; otherwise to partial[(o * chunks + chunk) * inner + k].
template <class T>
__global__ void column_sum_kernel(const T* __restrict__ x, int64_t outer, int64_t len, int64_t inner,
                                  ColumnSumPlan plan, double divisor, T* out, double* partial) {
  __shared__ double sums[kThreads];
  const int column = threadIdx.x % plan.tile, lane = threadIdx.x / plan.tile;
  const int64_t tasks = outer * plan.chunks * plan.tiles;
  for (int64_t task = blockIdx.x; task < tasks; task += gridDim.x) {  // uniform across the block
    const int64_t tile = task % plan.tiles;
    const int64_t chunk = (task / plan.tiles) % plan.chunks;
    const int64_t o = task / (plan.tiles * plan.chunks);
    const int64_t k = tile * plan.tile + column;
    const int64_t row_begin = chunk * plan.chunk_rows;
    const int64_t row_end = row_begin + plan.chunk_rows < len ? row_begin + plan.chunk_rows : len;
    double acc = 0.0;
    if (k < inner) {
      const T* values = x + o * len * inner + k;
      for (int64_t j = row_begin + lane; j < row_end; j += plan.lanes)
        acc += static_cast<double>(values[j * inner]);
    }
    sums[threadIdx.x] = acc;
    __syncthreads();
    // A fixed tree over the lanes of each column: lane l adds lane l + half, for half = lanes/2 .. 1.
    for (int half = plan.lanes / 2; half > 0; half /= 2) {
      if (lane < half) sums[threadIdx.x] += sums[threadIdx.x + half * plan.tile];
      __syncthreads();
    }
    if (lane == 0 && k < inner) {
      if (plan.chunks == 1) {
        out[o * inner + k] = static_cast<T>(sums[column] / divisor);
      } else {
        partial[(o * plan.chunks + chunk) * inner + k] = sums[column];
      }
    }
    __syncthreads();  // sums[] is rewritten by the next task
  }
}

// Pass 2: one warp per output t = (o, k); lane l adds chunks l, l + 32, ... in order, then a fixed tree.
template <class T>
__global__ void combine_chunks_kernel(const double* __restrict__ partial, int64_t outer, int64_t chunks,
                                      int64_t inner, double divisor, T* out) {
  const int lane = threadIdx.x % 32;
  const int64_t outputs = outer * inner;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32; t < outputs;
       t += warp_stride) {  // uniform across the warp
    const int64_t o = t / inner, k = t % inner;
    const double* column = partial + o * chunks * inner + k;
    double acc = 0.0;
    for (int64_t c = lane; c < chunks; c += 32) acc += column[c * inner];
    acc = warp_sum_fixed_order(acc);
    if (lane == 0) out[t] = static_cast<T>(acc / divisor);
  }
}

// Blocks for a grid-stride loop over `tasks` tasks of one block each (at most cuda_blocks_for's cap).
unsigned blocks_for_tasks(int64_t tasks) { return cuda_blocks_for(tasks, 1); }

template <class T>
void launch_column_sum(const Tensor& x, int64_t outer, int64_t len, int64_t inner, double divisor,
                       Tensor& out, cudaStream_t stream) {
  const ColumnSumPlan plan = column_sum_plan(outer, len, inner, kThreads);
  const int64_t tasks = outer * plan.chunks * plan.tiles;
  if (plan.chunks == 1) {
    column_sum_kernel<T><<<blocks_for_tasks(tasks), kThreads, 0, stream>>>(
        x.data<T>(), outer, len, inner, plan, divisor, out.data<T>(), nullptr);
    NCF_CUDA_LAUNCH_CHECK("column_sum_kernel");
    return;
  }
  // The partials go back to the caching allocator on return; every later user of the block runs on
  // this stream after both kernels, so that is safe.
  Tensor partial = Tensor::empty(Shape{outer * plan.chunks * inner}, DType::f64, x.device());
  column_sum_kernel<T><<<blocks_for_tasks(tasks), kThreads, 0, stream>>>(
      x.data<T>(), outer, len, inner, plan, divisor, out.data<T>(), partial.data<double>());
  NCF_CUDA_LAUNCH_CHECK("column_sum_kernel (partials)");
  combine_chunks_kernel<T><<<cuda_blocks_for(outer * inner, kWarpsPerBlock), kThreads, 0, stream>>>(
      partial.data<double>(), outer, plan.chunks, inner, divisor, out.data<T>());
  NCF_CUDA_LAUNCH_CHECK("combine_chunks_kernel");
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
    if (use_warp_per_row(len, inner)) {
      row_sum_kernel<scalar_t><<<cuda_blocks_for(outer, kWarpsPerBlock), kThreads, 0, stream>>>(
          x.data<scalar_t>(), outer, len, divisor, out.data<scalar_t>());
      NCF_CUDA_LAUNCH_CHECK("row_sum_kernel");
    } else {
      launch_column_sum<scalar_t>(x, outer, len, inner, divisor, out, stream);
    }
  });
}

}  // namespace ncf::ops
