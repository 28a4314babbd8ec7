// Row indexing on the GPU: gather_rows, segment_sum_rows (and add_row_sparse), scatter_add_rows_,
// to_dense (shapes in index.h). index.cpp validated shapes, dtypes and devices; the indices
// themselves are checked here, by the kernels, since a host check would wait for the GPU. A bad index
// (outside [0, rows)) is skipped and recorded with report_index_fault, and the next synchronisation
// throws naming it (cuda_context.h): gather_rows writes a row of zeros for it, the others leave it out.
//
// Summing duplicates deterministically (the embedding backward), without a host round trip:
//   1. keys: each index becomes segment_key(index, num_rows) (index_functors.h): itself if it is a
//      row, else num_rows, so bad indices sort last, together, and can split no run of good ones;
//   2. radix-sort the pairs (key, position) with CUB over the low key_bits(num_rows) bits; the sort is
//      stable, so equal keys keep their positions in increasing order;
//   3. run-length encode the sorted keys: the unique keys, how many times each occurs, the number of
//      runs (left on the device), and (exclusive scan of the counts) where each run starts;
//   4. one group of threads per run, one thread per column, adds the run's rows in order. The run of
//      key num_rows, if any, is the last one and is never added.
// No two threads write the same output element, so there are no atomics and the bits never change.
// The outputs are sized for the worst case, one run per index: the runs past the real ones are
// written as padding (index num_rows), so the host never needs their number (index.h, RowSparse).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <climits>

#include "tensor/cuda_context.h"
#include "tensor/ops/index.h"
#include "tensor/ops/index_cuda.h"
#include "tensor/ops/index_functors.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

// ---- gather -------------------------------------------------------------------------------------

// out[i, :] = table[indices[i], :], moving `Word`s (4, 8 or 16 bytes) at a time.
template <class Word>
__global__ void gather_rows_kernel(const Word* table, int64_t table_rows, const int32_t* indices,
                                   int64_t batch, int64_t row_words, Word* out, CudaIndexFaults* faults) {
  const int64_t total = batch * row_words;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e / row_words, w = e % row_words;
    const int32_t row = indices[i];
    if (is_row(row, table_rows)) {
      out[e] = table[row * row_words + w];
    } else {
      out[e] = Word{};
      if (w == 0) report_index_fault(faults, IndexOp::gather_rows, i, row);
    }
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
  const int device = out.device().index;
  gather_rows_kernel<Word><<<cuda_blocks_for(total, kThreads), kThreads, 0, cuda_stream(device)>>>(
      static_cast<const Word*>(table.raw_data()), table.dim(0), indices.data<int32_t>(), indices.numel(),
      row_words, static_cast<Word*>(out.raw_data()), cuda_index_faults(device));
  NCF_CUDA_LAUNCH_CHECK("gather_rows_kernel");
}

// ---- segments -----------------------------------------------------------------------------------

// keys[i] = segment_key(indices[i]), positions[i] = i; a bad index is reported (padding, when the
// input is padded, is not).
__global__ void keys_kernel(const int32_t* indices, int64_t count, int64_t num_rows, bool padded_input,
                            IndexOp op, int32_t* keys, int32_t* positions, CudaIndexFaults* faults) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t index = indices[i];
    keys[i] = segment_key(index, num_rows);
    positions[i] = static_cast<int32_t>(i);
    if (!is_row(index, num_rows) && !(padded_input && is_row_padding(index, num_rows)))
      report_index_fault(faults, op, i, index);
  }
}

// Device buffers of one sort-and-encode; every one comes from the caching allocator.
struct SortedRuns {
  Tensor unique;            // (b,) i32: the first *num_runs entries are the sorted unique keys
  Tensor counts;            // (b,) i32: occurrences of each (zero past the last run)
  Tensor starts;            // (b,) i32: exclusive scan of counts
  Tensor sorted_positions;  // (b,) i32: positions in key order, ties in original order
  Tensor num_runs;          // (1,) i32, on the device
};

SortedRuns sort_into_runs(const Tensor& indices, int64_t num_rows, bool padded_input, IndexOp op) {
  const Device device = indices.device();
  const cudaStream_t stream = cuda_stream(device.index);
  const int b = static_cast<int>(indices.numel());
  SortedRuns runs;
  runs.unique = Tensor::empty({b}, DType::i32, device);
  runs.counts = Tensor::zeros({b}, DType::i32, device);  // zeroed: the scan reads past the last run
  runs.starts = Tensor::empty({b}, DType::i32, device);
  runs.sorted_positions = Tensor::empty({b}, DType::i32, device);
  runs.num_runs = Tensor::empty({1}, DType::i32, device);
  Tensor keys = Tensor::empty({b}, DType::i32, device);
  Tensor positions = Tensor::empty({b}, DType::i32, device);
  Tensor sorted_keys = Tensor::empty({b}, DType::i32, device);

  keys_kernel<<<cuda_blocks_for(b, kThreads), kThreads, 0, stream>>>(
      indices.data<int32_t>(), b, num_rows, padded_input, op, keys.data<int32_t>(), positions.data<int32_t>(),
      cuda_index_faults(device.index));
  NCF_CUDA_LAUNCH_CHECK("keys_kernel");

  // CUB asks for its scratch size first (null pointer), then runs; one scratch block serves all three.
  const int end_bit = key_bits(num_rows);
  int32_t* num_runs = runs.num_runs.data<int32_t>();
  size_t sort_bytes = 0, encode_bytes = 0, scan_bytes = 0;
  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, keys.data<int32_t>(), sorted_keys.data<int32_t>(), positions.data<int32_t>(),
      runs.sorted_positions.data<int32_t>(), b, 0, end_bit, stream));
  NCF_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, encode_bytes, sorted_keys.data<int32_t>(),
                                                    runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
                                                    num_runs, b, stream));
  NCF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, runs.counts.data<int32_t>(),
                                               runs.starts.data<int32_t>(), b, stream));
  const size_t scratch_bytes = std::max({sort_bytes, encode_bytes, scan_bytes, size_t(1)});
  Tensor scratch = Tensor::empty({static_cast<int64_t>(scratch_bytes)}, DType::u8, device);
  void* scratch_ptr = scratch.raw_data();

  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      scratch_ptr, sort_bytes, keys.data<int32_t>(), sorted_keys.data<int32_t>(), positions.data<int32_t>(),
      runs.sorted_positions.data<int32_t>(), b, 0, end_bit, stream));
  count_library_call();
  NCF_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(scratch_ptr, encode_bytes, sorted_keys.data<int32_t>(),
                                                    runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
                                                    num_runs, b, stream));
  count_library_call();
  NCF_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(scratch_ptr, scan_bytes, runs.counts.data<int32_t>(),
                                               runs.starts.data<int32_t>(), b, stream));
  count_library_call();
  // Temporaries go back to the cache here; the stream orders their reuse after these kernels.
  return runs;
}

// For each run s < capacity: when it is a real run (s below the number of runs, and not the run of
// bad keys), sum its rows in order and either store the sum at out_rows[s, :] and its key at
// out_indices[s] (kAddToTable false) or add the sum to table[key, :] (kAddToTable true). Runs past
// the real ones become padding: out_indices[s] = num_rows (kAddToTable false), nothing otherwise.
// Threads are grouped `lanes` per run (a power of two >= the row width, at most the block), so a
// block serves blockDim.x / lanes runs at once and narrow rows do not leave most threads idle.
template <class T, bool kAddToTable>
__global__ void sum_segments_kernel(const int32_t* num_runs, const int32_t* unique, const int32_t* counts,
                                    const int32_t* starts, const int32_t* sorted_positions, const T* rows,
                                    int64_t dim, int lanes, int64_t num_rows, int64_t capacity, T* out_rows,
                                    int32_t* out_indices) {
  const int64_t runs = *num_runs;
  // Keys are sorted, so the run of bad keys (key num_rows), if there is one, is the last.
  const int64_t real_runs = runs > 0 && unique[runs - 1] == num_rows ? runs - 1 : runs;
  const int64_t runs_per_block = blockDim.x / lanes;
  const int lane = threadIdx.x % lanes;
  for (int64_t s = blockIdx.x * runs_per_block + threadIdx.x / lanes; s < capacity;
       s += int64_t(gridDim.x) * runs_per_block) {
    if (s >= real_runs) {
      if (!kAddToTable && lane == 0) out_indices[s] = static_cast<int32_t>(num_rows);
      continue;
    }
    const int64_t begin = starts[s], end = begin + counts[s];
    const int64_t key = unique[s];
    if (!kAddToTable && lane == 0) out_indices[s] = static_cast<int32_t>(key);
    for (int64_t c = lane; c < dim; c += lanes) {
      T sum = rows[sorted_positions[begin] * dim + c];
      for (int64_t t = begin + 1; t < end; ++t) sum += rows[sorted_positions[t] * dim + c];
      if (kAddToTable) {
        out_rows[key * dim + c] += sum;
      } else {
        out_rows[s * dim + c] = sum;
      }
    }
  }
}

template <class T, bool kAddToTable>
void launch_sum_segments(const SortedRuns& runs, const Tensor& rows, int64_t num_rows, T* out_rows,
                         int32_t* out_indices) {
  const int64_t dim = rows.dim(1), b = rows.dim(0);
  int lanes = 1;
  while (lanes < dim && lanes < kThreads) lanes *= 2;
  const int64_t runs_per_block = kThreads / lanes;
  // The number of runs is only known on the device: launch for the worst case (b runs); groups past
  // the real runs write padding (or nothing) and move on.
  const unsigned int blocks = cuda_blocks_for((b + runs_per_block - 1) / runs_per_block * kThreads, kThreads);
  sum_segments_kernel<T, kAddToTable><<<blocks, kThreads, 0, cuda_stream(rows.device().index)>>>(
      runs.num_runs.data<int32_t>(), runs.unique.data<int32_t>(), runs.counts.data<int32_t>(),
      runs.starts.data<int32_t>(), runs.sorted_positions.data<int32_t>(), rows.data<T>(), dim, lanes,
      num_rows, b, out_rows, out_indices);
  NCF_CUDA_LAUNCH_CHECK("sum_segments_kernel");
}

// dense[indices[s], :] = rows[s, :] for rows; padding entries are skipped, other bad indices reported.
template <class T>
__global__ void to_dense_kernel(const int32_t* indices, const T* rows, int64_t nnz, int64_t dim,
                                int64_t num_rows, T* dense, CudaIndexFaults* faults) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < nnz * dim;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / dim;
    const int32_t key = indices[s];
    if (is_row(key, num_rows)) {
      dense[key * dim + e % dim] = rows[e];
    } else if (!is_row_padding(key, num_rows) && e % dim == 0) {
      report_index_fault(faults, IndexOp::to_dense, s, key);
    }
  }
}

// table[indices[s], :] += alpha * rows[s, :]; padding skipped, other bad indices reported. A
// RowSparse's real indices are unique, so no two threads write one element.
template <class T>
__global__ void axpy_row_sparse_kernel(const int32_t* indices, const T* rows, int64_t nnz, int64_t dim,
                                       int64_t num_rows, T alpha, T* table, CudaIndexFaults* faults) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < nnz * dim;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / dim;
    const int32_t key = indices[s];
    if (is_row(key, num_rows)) {
      table[key * dim + e % dim] += alpha * rows[e];
    } else if (!is_row_padding(key, num_rows) && e % dim == 0) {
      report_index_fault(faults, IndexOp::axpy_row_sparse, s, key);
    }
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

RowSparse cuda_segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows,
                                bool padded_input) {
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
  NCF_CHECK(num_rows < INT_MAX,
            "segment_sum_rows: at most " << INT_MAX - 1 << " table rows on the GPU, got " << num_rows);
  const SortedRuns runs = sort_into_runs(indices, num_rows, padded_input, IndexOp::segment_sum_rows);
  // Room for the worst case, b runs (see RowSparse in index.h); nothing is read back.
  result.indices = Tensor::empty({b}, DType::i32, device);
  result.rows = Tensor::empty({b, dim}, rows.dtype(), device);
  NCF_DISPATCH_FLOAT(rows.dtype(), "segment_sum_rows", [&] {
    launch_sum_segments<scalar_t, false>(runs, rows, num_rows, result.rows.data<scalar_t>(),
                                         result.indices.data<int32_t>());
  });
  return result;
}

void cuda_scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows) {
  const int64_t b = indices.numel();
  NCF_CHECK(b <= INT_MAX, "scatter_add_rows_: at most " << INT_MAX << " indices on the GPU, got " << b);
  NCF_CHECK(table.dim(0) < INT_MAX,
            "scatter_add_rows_: at most " << INT_MAX - 1 << " table rows on the GPU, got " << table.dim(0));
  // Never waits for the GPU: the run count stays on the device and sizes nothing on the host.
  const SortedRuns runs =
      sort_into_runs(indices, table.dim(0), /*padded_input=*/false, IndexOp::scatter_add_rows);
  NCF_DISPATCH_FLOAT(table.dtype(), "scatter_add_rows_", [&] {
    launch_sum_segments<scalar_t, true>(runs, rows, table.dim(0), table.data<scalar_t>(), nullptr);
  });
}

void cuda_to_dense(const RowSparse& sparse, Tensor& dense) {
  const int64_t nnz = sparse.indices.numel(), dim = sparse.rows.dim(1);
  const int device = dense.device().index;
  NCF_DISPATCH_FLOAT(dense.dtype(), "to_dense", [&] {
    to_dense_kernel<scalar_t><<<cuda_blocks_for(nnz * dim, kThreads), kThreads, 0, cuda_stream(device)>>>(
        sparse.indices.data<int32_t>(), sparse.rows.data<scalar_t>(), nnz, dim, sparse.num_rows,
        dense.data<scalar_t>(), cuda_index_faults(device));
    NCF_CUDA_LAUNCH_CHECK("to_dense_kernel");
  });
}

void cuda_axpy_row_sparse_(Tensor& table, double alpha, const RowSparse& sparse) {
  const int64_t nnz = sparse.indices.numel(), dim = sparse.rows.dim(1);
  const int device = table.device().index;
  NCF_DISPATCH_FLOAT(table.dtype(), "axpy_row_sparse_", [&] {
    axpy_row_sparse_kernel<scalar_t><<<cuda_blocks_for(nnz * dim, kThreads), kThreads, 0, cuda_stream(device)>>>(
        sparse.indices.data<int32_t>(), sparse.rows.data<scalar_t>(), nnz, dim, sparse.num_rows,
        static_cast<scalar_t>(alpha), table.data<scalar_t>(), cuda_index_faults(device));
    NCF_CUDA_LAUNCH_CHECK("axpy_row_sparse_kernel");
  });
}

}  // namespace ncf::ops
