// Top-k along rows on the GPU (shapes in sort.h).
//
// One segmented radix sort from CUB: each row is a segment, the keys are the row's
// values and the payloads their column numbers. Radix sort is stable, so equal values keep
// ascending column order, the same rule as the CPU (and CUB treats -0.0 and +0.0 as equal).
// top-k sorts whole rows and keeps the first k columns: simple, and for the row lengths of a
// recommender (thousands to tens of thousands of items) a radix pass over a row costs little
// more than a selection would.
// Rows are processed in chunks so that one sort sees fewer than 2^31 elements (CUB's int sizes).
#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <type_traits>

#include "tensor/cuda_context.h"
#include "tensor/ops/sort.h"
#include "tensor/ops/sort_cuda.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxChunkElements = int64_t(1) << 28;

// columns[e] = e % cols for e < rows*cols, and offsets[r] = r*cols for r <= rows.
__global__ void columns_and_offsets_kernel(int64_t rows, int64_t cols, int32_t* columns, int32_t* offsets) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < rows * cols; e += stride)
    columns[e] = static_cast<int32_t>(e % cols);
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r <= rows; r += stride)
    offsets[r] = static_cast<int32_t>(r * cols);
}

// out[r, t] = sorted[r, t] for t < k: the first k entries of each sorted row.
template <class T>
__global__ void first_columns_kernel(const T* sorted, int64_t rows, int64_t cols, int64_t k, T* out) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < rows * k;
       e += int64_t(gridDim.x) * blockDim.x)
    out[e] = sorted[(e / k) * cols + e % k];
}

// Sorts rows [0, rows) of `keys` (rows, cols); writes the sorted keys and their column numbers.
template <class T>
void sort_rows_chunk(const T* keys, int64_t rows, int64_t cols, bool descending, T* sorted_keys,
                     int32_t* sorted_columns, Device device) {
  const cudaStream_t stream = cuda_stream(device.index);
  const int items = static_cast<int>(rows * cols), segments = static_cast<int>(rows);
  Tensor columns = Tensor::empty({rows * cols}, DType::i32, device);
  Tensor offsets = Tensor::empty({rows + 1}, DType::i32, device);
  const int32_t* begin_offsets = offsets.data<int32_t>();
  const int32_t* end_offsets = begin_offsets + 1;
  columns_and_offsets_kernel<<<cuda_blocks_for(rows * cols + 1, kThreads), kThreads, 0, stream>>>(
      rows, cols, columns.data<int32_t>(), offsets.data<int32_t>());
  NCF_CUDA_LAUNCH_CHECK("columns_and_offsets_kernel");

  // CUB reports its scratch size on a first call with a null pointer; the scratch then comes
  // from the caching allocator.
  auto run = [&](void* scratch, size_t& scratch_bytes) {
    if (descending) {
      NCF_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairsDescending(
          scratch, scratch_bytes, keys, sorted_keys, columns.data<int32_t>(), sorted_columns, items, segments,
          begin_offsets, end_offsets, 0, int(sizeof(T) * 8), stream));
    } else {
      NCF_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
          scratch, scratch_bytes, keys, sorted_keys, columns.data<int32_t>(), sorted_columns, items, segments,
          begin_offsets, end_offsets, 0, int(sizeof(T) * 8), stream));
    }
  };
  size_t scratch_bytes = 0;
  run(nullptr, scratch_bytes);
  Tensor scratch =
      Tensor::empty({static_cast<int64_t>(std::max<size_t>(scratch_bytes, 1))}, DType::u8, device);
  run(scratch.raw_data(), scratch_bytes);
  count_library_call();
}

// Rows per chunk: as many as keep a chunk under kMaxChunkElements (at least one).
int64_t chunk_rows(int64_t rows, int64_t cols) {
  return std::max<int64_t>(1, std::min<int64_t>(rows, kMaxChunkElements / std::max<int64_t>(cols, 1)));
}

}  // namespace

void cuda_topk_rows(const Tensor& scores, int64_t k, Tensor& values, Tensor& indices) {
  const Device device = scores.device();
  const cudaStream_t stream = cuda_stream(device.index);
  const int64_t rows = scores.dim(0), cols = scores.dim(1);
  NCF_CHECK(cols < kMaxChunkElements,
            "topk_rows: at most " << kMaxChunkElements << " columns on the GPU, got " << cols);
  const int64_t step = chunk_rows(rows, cols);
  Tensor sorted_values = Tensor::empty({step, cols}, DType::f32, device);
  Tensor sorted_columns = Tensor::empty({step, cols}, DType::i32, device);
  for (int64_t r0 = 0; r0 < rows; r0 += step) {
    const int64_t n = std::min(step, rows - r0);
    sort_rows_chunk(scores.data<float>() + r0 * cols, n, cols, /*descending=*/true,
                    sorted_values.data<float>(), sorted_columns.data<int32_t>(), device);
    first_columns_kernel<float><<<cuda_blocks_for(n * k, kThreads), kThreads, 0, stream>>>(
        sorted_values.data<float>(), n, cols, k, values.data<float>() + r0 * k);
    NCF_CUDA_LAUNCH_CHECK("first_columns_kernel");
    first_columns_kernel<int32_t><<<cuda_blocks_for(n * k, kThreads), kThreads, 0, stream>>>(
        sorted_columns.data<int32_t>(), n, cols, k, indices.data<int32_t>() + r0 * k);
    NCF_CUDA_LAUNCH_CHECK("first_columns_kernel");
  }
}

}  // namespace ncf::ops
