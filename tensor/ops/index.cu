// Row indexing on the GPU: gather_rows, segment_sum_rows, scatter_add_rows_, to_dense (shapes in
// index.h). Validation is done by index.cpp; here indices are not range-checked on the host, since
// that would mean waiting for the GPU:
//   - gather_rows writes a row of zeros for an index outside [0, n);
//   - scatter_add_rows_ and to_dense skip such an index;
//   - segment_sum_rows must read the number of unique indices back anyway (it sets the output
//     shape), so it also reads a device flag and throws naming the first bad index, like the CPU.
//
// Summing duplicates deterministically (the embedding backward):
//   1. radix-sort the pairs (index, position) by index with CUB; the sort is stable, so equal
//      indices keep their positions in increasing order;
//   2. run-length encode the sorted indices: the unique indices, how many times each occurs, and
//      (exclusive scan of the counts) where each run starts;
//   3. one group of threads per unique index, one thread per column, adds the run's rows in order.
// No two threads write the same output element, so there are no atomics and the bits never change.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <climits>

#include "tensor/cuda_context.h"
#include "tensor/ops/index.h"
#include "tensor/ops/index_cuda.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

// ---- gather -------------------------------------------------------------------------------------

// out[i, :] = table[indices[i], :], moving `Word`s (4, 8 or 16 bytes) at a time.
template <class Word>
__global__ void gather_rows_kernel(const Word* table, int64_t table_rows, const int32_t* indices,
                                   int64_t batch, int64_t row_words, Word* out) {
  const int64_t total = batch * row_words;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / row_words, w = e % row_words;
    const int32_t row = indices[i];
    out[e] = (row >= 0 && row < table_rows) ? table[row * row_words + w] : Word{};
  }
}

// The widest word that divides the row length in bytes and both base addresses.
int word_bytes_for(size_t row_bytes, const void* a, const void* b) {
  for (int word : {16, 8, 4, 2}) {
    if (row_bytes % word == 0 && reinterpret_cast<uintptr_t>(a) % word == 0 &&
        reinterpret_cast<uintptr_t>(b) % word == 0)
      return word;
  }
  return 1;
}

template <class Word>
void launch_gather(const Tensor& table, const Tensor& indices, Tensor& out, size_t row_bytes) {
  const int64_t row_words = static_cast<int64_t>(row_bytes / sizeof(Word));
  const int64_t total = indices.numel() * row_words;
  gather_rows_kernel<Word>
      <<<cuda_blocks_for(total, kThreads), kThreads, 0, cuda_stream(out.device().index)>>>(
          static_cast<const Word*>(table.raw_data()), table.dim(0), indices.data<int32_t>(), indices.numel(),
          row_words, static_cast<Word*>(out.raw_data()));
  NCF_CUDA_LAUNCH_CHECK("gather_rows_kernel");
}

// ---- segments -----------------------------------------------------------------------------------

// positions[i] = i, and status[1] = the smallest position whose index is outside [0, num_rows).
__global__ void iota_and_check_kernel(const int32_t* indices, int64_t count, int64_t num_rows,
                                      int32_t* positions, int32_t* status) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    positions[i] = static_cast<int32_t>(i);
    if (indices[i] < 0 || indices[i] >= num_rows) atomicMin(&status[1], static_cast<int32_t>(i));
  }
}

// For each run s < *num_segments: sum its rows in order and either store the sum at out[s, :]
// (kAddToTable false) or add it to table[unique[s], :] (kAddToTable true).
// Threads are grouped `lanes` per run (a power of two >= the row width, at most the block), so a
// block serves blockDim.x / lanes runs at once and narrow rows do not leave most threads idle.
template <class T, bool kAddToTable>
__global__ void sum_segments_kernel(const int32_t* num_segments, const int32_t* unique, const int32_t* counts,
                                    const int32_t* starts, const int32_t* sorted_positions, const T* rows,
                                    int64_t dim, int lanes, int64_t num_rows, T* out) {
  const int64_t segments = *num_segments;
  const int64_t runs_per_block = blockDim.x / lanes;
  const int lane = threadIdx.x % lanes;
  for (int64_t s = blockIdx.x * runs_per_block + threadIdx.x / lanes; s < segments;
       s += int64_t(gridDim.x) * runs_per_block) {
    const int64_t begin = starts[s], end = begin + counts[s];
    const int64_t key = unique[s];
    if (kAddToTable && (key < 0 || key >= num_rows)) continue;  // out of range: skipped (see the top)
    for (int64_t c = lane; c < dim; c += lanes) {
      T sum = rows[sorted_positions[begin] * dim + c];
      for (int64_t t = begin + 1; t < end; ++t) sum += rows[sorted_positions[t] * dim + c];
      if (kAddToTable) {
        out[key * dim + c] += sum;
      } else {
        out[s * dim + c] = sum;
      }
    }
  }
}

// Device buffers of one sort-and-encode; every one comes from the caching allocator.
struct SortedRuns {
  Tensor unique;            // (b,) i32: the first *num_segments entries are the sorted unique indices
  Tensor counts;            // (b,) i32: occurrences of each
  Tensor starts;            // (b,) i32: exclusive scan of counts
  Tensor sorted_positions;  // (b,) i32: positions in index order, ties in original order
  Tensor status;  // (2,) i32: [number of runs, first position with a bad index (INT_MAX-ish if none)]
};

// Bits that hold every valid index: sorting only those is faster than all 32.
int key_bits(int64_t num_rows) {
  int bits = 1;
  while (bits < 31 && (int64_t(1) << bits) < num_rows) ++bits;
  return bits;
}

SortedRuns sort_into_runs(const Tensor& indices, int64_t num_rows) {
  const Device device = indices.device();
  const cudaStream_t stream = cuda_stream(device.index);
  const int b = static_cast<int>(indices.numel());
  SortedRuns runs;
  runs.unique = Tensor::empty({b}, DType::i32, device);
  runs.counts = Tensor::zeros({b}, DType::i32, device);  // zeroed: the scan reads past the last run
  runs.starts = Tensor::empty({b}, DType::i32, device);
  runs.sorted_positions = Tensor::empty({b}, DType::i32, device);
  runs.status = Tensor::empty({2}, DType::i32, device);
  Tensor positions = Tensor::empty({b}, DType::i32, device);
  Tensor sorted_keys = Tensor::empty({b}, DType::i32, device);
  int32_t* status = runs.status.data<int32_t>();
  // 0x7f in every byte: a position larger than any real one, meaning "no bad index yet".
  NCF_CUDA_CHECK(cudaMemsetAsync(status, 0x7f, 2 * sizeof(int32_t), stream));

  iota_and_check_kernel<<<cuda_blocks_for(b, kThreads), kThreads, 0, stream>>>(
      indices.data<int32_t>(), b, num_rows, positions.data<int32_t>(), status);
  NCF_CUDA_LAUNCH_CHECK("iota_and_check_kernel");

  // CUB asks for its scratch size first (null pointer), then runs; one scratch block serves all three.
  const int end_bit = key_bits(num_rows);
  size_t sort_bytes = 0, encode_bytes = 0, scan_bytes = 0;
  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, indices.data<int32_t>(), sorted_keys.data<int32_t>(), positions.data<int32_t>(),
      runs.sorted_positions.data<int32_t>(), b, 0, end_bit, stream));
  NCF_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, encode_bytes, sorted_keys.data<int32_t>(),
                                                    runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
                                                    status, b, stream));
  NCF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, runs.counts.data<int32_t>(),
                                               runs.starts.data<int32_t>(), b, stream));
  const size_t scratch_bytes = std::max({sort_bytes, encode_bytes, scan_bytes, size_t(1)});
  Tensor scratch = Tensor::empty({static_cast<int64_t>(scratch_bytes)}, DType::u8, device);
  void* scratch_ptr = scratch.raw_data();

  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      scratch_ptr, sort_bytes, indices.data<int32_t>(), sorted_keys.data<int32_t>(),
      positions.data<int32_t>(), runs.sorted_positions.data<int32_t>(), b, 0, end_bit, stream));
  NCF_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(scratch_ptr, encode_bytes, sorted_keys.data<int32_t>(),
                                                    runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
                                                    status, b, stream));
  NCF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scratch_ptr, scan_bytes, runs.counts.data<int32_t>(),
                                               runs.starts.data<int32_t>(), b, stream));
  // Temporaries go back to the cache here; the stream orders their reuse after these kernels.
  return runs;
}

template <class T, bool kAddToTable>
void launch_sum_segments(const SortedRuns& runs, const Tensor& rows, int64_t num_rows, T* out) {
  const int64_t dim = rows.dim(1), b = rows.dim(0);
  int lanes = 1;
  while (lanes < dim && lanes < kThreads) lanes *= 2;
  const int64_t runs_per_block = kThreads / lanes;
  // The number of runs is only known on the device: launch for the worst case (b runs), surplus
  // groups find s >= *num_segments and return at once.
  const unsigned int blocks = cuda_blocks_for((b + runs_per_block - 1) / runs_per_block * kThreads, kThreads);
  sum_segments_kernel<T, kAddToTable><<<blocks, kThreads, 0, cuda_stream(rows.device().index)>>>(
      runs.status.data<int32_t>(), runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
      runs.starts.data<int32_t>(), runs.sorted_positions.data<int32_t>(), rows.data<T>(), dim, lanes,
      num_rows, out);
  NCF_CUDA_LAUNCH_CHECK("sum_segments_kernel");
}

// dense[indices[s], :] = rows[s, :] for indices in range.
template <class T>
__global__ void to_dense_kernel(const int32_t* indices, const T* rows, int64_t nnz, int64_t dim,
                                int64_t num_rows, T* dense) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < nnz * dim;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t key = indices[e / dim];
    if (key >= 0 && key < num_rows) dense[key * dim + e % dim] = rows[e];
  }
}

}  // namespace

void cuda_gather_rows(const Tensor& table, const Tensor& indices, Tensor& out) {
  const size_t row_bytes = static_cast<size_t>(table.dim(1)) * dtype_size(table.dtype());
  switch (word_bytes_for(row_bytes, table.raw_data(), out.raw_data())) {
    case 16:
      launch_gather<uint4>(table, indices, out, row_bytes);
      break;
    case 8:
      launch_gather<uint2>(table, indices, out, row_bytes);
      break;
    case 4:
      launch_gather<uint32_t>(table, indices, out, row_bytes);
      break;
    case 2:
      launch_gather<uint16_t>(table, indices, out, row_bytes);
      break;
    default:
      launch_gather<uint8_t>(table, indices, out, row_bytes);
      break;
  }
}

RowSparse cuda_segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows) {
  const Device device = rows.device();
  const int64_t b = indices.numel(), dim = rows.dim(1);
  RowSparse result;
  result.num_rows = num_rows;
  if (b == 0) {
    result.indices = Tensor::empty({0}, DType::i32, device);
    result.rows = Tensor::empty({0, dim}, rows.dtype(), device);
    return result;
  }
  NCF_CHECK(b <= INT_MAX, "segment_sum_rows: at most " << INT_MAX << " indices on the GPU, got " << b);
  const SortedRuns runs = sort_into_runs(indices, num_rows);
  Tensor sums = Tensor::empty({b, dim}, rows.dtype(), device);  // room for the worst case: b runs
  if (dim > 0) {
    NCF_DISPATCH_FLOAT(rows.dtype(), "segment_sum_rows", [&] {
      launch_sum_segments<scalar_t, false>(runs, rows, num_rows, sums.data<scalar_t>());
    });
  }
  // The output's shape depends on the data: read the run count (and the bad-index flag) back.
  const std::vector<int32_t> status = runs.status.to_vector<int32_t>();
  if (status[1] < b) {
    const int32_t bad = indices.rows(status[1], status[1] + 1).to_vector<int32_t>()[0];
    NCF_FAIL("segment_sum_rows: index " << bad << " at position " << status[1] << " is out of range for "
                                        << num_rows << " rows (table (" << num_rows << ", " << dim << "))");
  }
  const int64_t nnz = status[0];
  result.indices = runs.unique.rows(0, nnz);  // views: no copy, the rest of the buffers is unused
  result.rows = sums.rows(0, nnz);
  return result;
}

void cuda_scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows) {
  const int64_t b = indices.numel();
  NCF_CHECK(b <= INT_MAX, "scatter_add_rows_: at most " << INT_MAX << " indices on the GPU, got " << b);
  // Never waits for the GPU: the run count stays on the device and sizes nothing on the host.
  const SortedRuns runs = sort_into_runs(indices, table.dim(0));
  NCF_DISPATCH_FLOAT(table.dtype(), "scatter_add_rows_", [&] {
    launch_sum_segments<scalar_t, true>(runs, rows, table.dim(0), table.data<scalar_t>());
  });
}

void cuda_to_dense(const RowSparse& sparse, Tensor& dense) {
  const int64_t nnz = sparse.indices.numel(), dim = sparse.rows.dim(1);
  NCF_DISPATCH_FLOAT(dense.dtype(), "to_dense", [&] {
    to_dense_kernel<scalar_t>
        <<<cuda_blocks_for(nnz * dim, kThreads), kThreads, 0, cuda_stream(dense.device().index)>>>(
            sparse.indices.data<int32_t>(), sparse.rows.data<scalar_t>(), nnz, dim, sparse.num_rows,
            dense.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("to_dense_kernel");
  });
}

}  // namespace ncf::ops
