// Row indexing on the CPU (and the checks shared with the GPU path in index.cu):
//   gather_rows       table (n, d), indices (b,) i32         -> out (b, d), out[i] = table[indices[i]]
//   segment_sum_rows  indices (b,) i32, rows (b, d)          -> RowSparse: unique sorted indices (nnz,)
//                                                               and their summed rows (nnz, d)
//   add_row_sparse    RowSparse a, b of one table            -> RowSparse of a + b
//   scatter_add_rows_ table (n, d) += rows (b, d) at indices (b,)
//   to_dense          RowSparse                              -> (num_rows, d), zeros elsewhere
// Every index is checked against the table here, before any work, and a bad one throws naming it
// and its position. GPU tensors go to index.cu unchecked (that would need a wait); see index.h.
//
// Duplicates are summed in a fixed order, the same on both devices: sort the (index, position)
// pairs, then each unique index adds its rows in their original order, starting from the first
// row itself. scatter_add_rows_ adds that one sum to the table, so a table row is written by
// exactly one worker: no races and no float atomics, hence the same bits every run.
#include "tensor/ops/index.h"
#include "tensor/ops/index_cuda.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/concat.h"

namespace ncf::ops {

namespace {

constexpr int64_t kParallelElements = 1 << 16;  // element copies/adds from which OpenMP pays

void check_indices_tensor(const Tensor& indices, const char* op) {
  NCF_CHECK(indices.ndim() == 1, op << ": indices must be 1-D, got " << indices.describe());
  check_dtype(indices, DType::i32, op, "indices");
}

// Throws naming the first index outside [0, num_rows), its position and the table's shape.
void check_indices_in_range(const Tensor& indices, int64_t num_rows, const char* op,
                            const Shape& table_shape) {
  const int32_t* idx = indices.data<int32_t>();
  const int64_t count = indices.numel();
  for (int64_t i = 0; i < count; ++i) {
    NCF_CHECK(idx[i] >= 0 && idx[i] < num_rows, op << ": index " << idx[i] << " at position " << i
                                                   << " is out of range for " << num_rows << " rows (table "
                                                   << table_shape << ")");
  }
}

// The order in which rows are combined: positions sorted by (index, position), and where each run
// of equal indices starts. Buffers are thread-local and reused, so steady state allocates nothing.
struct Segments {
  std::vector<int32_t> order;   // positions sorted by index, ties in original order
  std::vector<int64_t> starts;  // run s is order[starts[s] .. starts[s+1])
  int64_t count() const { return static_cast<int64_t>(starts.size()) - 1; }
};

const Segments& sort_into_segments(const Tensor& indices) {
  thread_local std::vector<uint64_t> keys, scratch;
  thread_local Segments segments;
  const int32_t* idx = indices.data<int32_t>();
  const int64_t b = indices.numel();
  // One 64-bit key per position: (index << 32) | position, in position order. A stable sort by the
  // index bits alone then orders them by (index, position): an LSD radix sort, a byte of the index
  // per pass and only as many passes as the largest index needs (two for a table of 65536 rows).
  // For a batch of 512 this is several times faster than a comparison sort of the keys.
  keys.resize(static_cast<size_t>(b));
  scratch.resize(static_cast<size_t>(b));
  uint32_t largest = 0;
  for (int64_t i = 0; i < b; ++i) {
    const uint32_t index = static_cast<uint32_t>(idx[i]);  // checked non-negative by the callers
    keys[i] = (static_cast<uint64_t>(index) << 32) | uint64_t(i);
    largest = std::max(largest, index);
  }
  for (int shift = 32; shift < 64 && (largest >> (shift - 32)) != 0; shift += 8) {
    int64_t start[257] = {};
    for (int64_t i = 0; i < b; ++i) ++start[((keys[i] >> shift) & 0xff) + 1];
    for (int digit = 0; digit < 256; ++digit) start[digit + 1] += start[digit];
    for (int64_t i = 0; i < b; ++i) scratch[start[(keys[i] >> shift) & 0xff]++] = keys[i];
    keys.swap(scratch);
  }
  segments.order.resize(static_cast<size_t>(b));
  segments.starts.clear();
  for (int64_t t = 0; t < b; ++t) {
    segments.order[t] = static_cast<int32_t>(keys[t] & 0xffffffffu);
    if (t == 0 || (keys[t] >> 32) != (keys[t - 1] >> 32)) segments.starts.push_back(t);
  }
  segments.starts.push_back(b);
  return segments;
}

// sum[0..d) = rows[order[begin]] + rows[order[begin+1]] + ... (left to right).
template <class T>
void sum_segment(const T* rows, int64_t d, const int32_t* order, int64_t begin, int64_t end, T* sum) {
  const T* first = rows + static_cast<int64_t>(order[begin]) * d;
  for (int64_t c = 0; c < d; ++c) sum[c] = first[c];
  for (int64_t t = begin + 1; t < end; ++t) {
    const T* row = rows + static_cast<int64_t>(order[t]) * d;
    for (int64_t c = 0; c < d; ++c) sum[c] += row[c];
  }
}

// (OpenMP pragmas cannot sit inside a macro argument such as NCF_DISPATCH_FLOAT's, hence these two.)
template <class T>
void sum_all_segments(const T* rows, int64_t d, const Segments& segments, T* sums) {
  const int64_t nnz = segments.count();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (static_cast <int64_t>(segments.order.size()) * d >= kParallelElements)
  for (int64_t s = 0; s < nnz; ++s)
    sum_segment(rows, d, segments.order.data(), segments.starts[s], segments.starts[s + 1], sums + s * d);
}

// table[unique[s], :] += sums[s, :]; the indices are unique, so rows can be done in parallel.
template <class T>
void add_rows_at(const T* sums, const int32_t* unique, int64_t nnz, int64_t d, T* table) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (nnz * d >= kParallelElements)
  for (int64_t s = 0; s < nnz; ++s) {
    T* row = table + static_cast<int64_t>(unique[s]) * d;
    for (int64_t c = 0; c < d; ++c) row[c] += sums[s * d + c];
  }
}

// table[unique[s], :] += alpha * rows[s, :]; the indices are unique, so each row has one writer.
template <class T>
void axpy_rows_at(const T* rows, const int32_t* unique, int64_t nnz, int64_t d, T alpha, T* table) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (nnz * d >= kParallelElements)
  for (int64_t s = 0; s < nnz; ++s) {
    T* row = table + static_cast<int64_t>(unique[s]) * d;
    for (int64_t c = 0; c < d; ++c) row[c] += alpha * rows[s * d + c];
  }
}

void check_rows_match(const Tensor& indices, const Tensor& rows, const char* op) {
  check_indices_tensor(indices, op);
  NCF_CHECK(rows.ndim() == 2 && rows.dim(0) == indices.dim(0),
            op << ": rows must be (" << indices.dim(0) << ", d) to match indices " << indices.shape()
               << ", got " << rows.shape());
  check_same_device(indices, rows, op);
}

}  // namespace

Tensor gather_rows(const Tensor& table, const Tensor& indices) {
  NCF_CHECK(table.ndim() == 2, "gather_rows: table must be 2-D, got " << table.describe());
  check_indices_tensor(indices, "gather_rows");
  check_same_device(table, indices, "gather_rows");
  const int64_t b = indices.dim(0), d = table.dim(1);
  Tensor out = Tensor::empty({b, d}, table.dtype(), table.device());
  if (out.numel() == 0) return out;
  if (table.is_cuda()) {
    NCF_ON_CUDA(cuda_gather_rows(table, indices, out));
    return out;
  }
  check_indices_in_range(indices, table.dim(0), "gather_rows", table.shape());
  // Rows are copied as bytes, so any dtype works.
  const size_t row_bytes = static_cast<size_t>(d) * dtype_size(table.dtype());
  const char* src = static_cast<const char*>(table.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const int32_t* idx = indices.data<int32_t>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (b * d >= kParallelElements)
  for (int64_t i = 0; i < b; ++i) std::memcpy(dst + i * row_bytes, src + idx[i] * row_bytes, row_bytes);
  return out;
}

RowSparse segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows) {
  check_rows_match(indices, rows, "segment_sum_rows");
  NCF_CHECK(num_rows >= 0, "segment_sum_rows: num_rows must be >= 0, got " << num_rows);
  NCF_CHECK(rows.dtype() == DType::f32 || rows.dtype() == DType::f64,
            "segment_sum_rows: rows must be f32 or f64, got " << rows.describe());
  if (rows.is_cuda()) {
    RowSparse result;
    NCF_ON_CUDA(result = cuda_segment_sum_rows(indices, rows, num_rows, /*padded_input=*/false));
    return result;
  }
  check_indices_in_range(indices, num_rows, "segment_sum_rows", Shape{num_rows, rows.dim(1)});
  const Segments& segments = sort_into_segments(indices);
  const int64_t nnz = segments.count(), d = rows.dim(1);
  RowSparse result;
  result.num_rows = num_rows;
  result.indices = Tensor::empty({nnz}, DType::i32);
  result.rows = Tensor::empty({nnz, d}, rows.dtype());
  const int32_t* idx = indices.data<int32_t>();
  int32_t* unique = result.indices.data<int32_t>();
  for (int64_t s = 0; s < nnz; ++s) unique[s] = idx[segments.order[segments.starts[s]]];
  NCF_DISPATCH_FLOAT(rows.dtype(), "segment_sum_rows", [&] {
    sum_all_segments(rows.data<scalar_t>(), d, segments, result.rows.data<scalar_t>());
  });
  return result;
}

RowSparse add_row_sparse(const RowSparse& a, const RowSparse& b) {
  const char* op = "add_row_sparse";
  check_rows_match(a.indices, a.rows, op);
  check_rows_match(b.indices, b.rows, op);
  NCF_CHECK(a.num_rows == b.num_rows && a.rows.dim(1) == b.rows.dim(1) && a.rows.dtype() == b.rows.dtype(),
            op << ": " << a.rows.describe() << " of " << a.num_rows << " rows and " << b.rows.describe()
               << " of " << b.num_rows << " rows are not gradients of one table");
  check_same_device(a.rows, b.rows, op);
  // Append b's entries to a's (each side seen as one long row, so that a column concatenation stacks
  // them), then sort and sum again: a row present in both is a's row + b's row, on both devices.
  const int64_t dim = a.rows.dim(1), na = a.indices.numel(), nb = b.indices.numel();
  const Tensor indices = concat_cols({a.indices.view({1, na}), b.indices.view({1, nb})}).view({na + nb});
  const Tensor rows =
      concat_cols({a.rows.view({1, na * dim}), b.rows.view({1, nb * dim})}).view({na + nb, dim});
  if (rows.is_cuda()) {
    // GPU inputs may hold padding entries (index num_rows): they are dropped, not reported.
    RowSparse result;
    NCF_ON_CUDA(result = cuda_segment_sum_rows(indices, rows, a.num_rows, /*padded_input=*/true));
    return result;
  }
  return segment_sum_rows(indices, rows, a.num_rows);
}

void scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows) {
  check_rows_match(indices, rows, "scatter_add_rows_");
  NCF_CHECK(table.ndim() == 2 && table.dim(1) == rows.dim(1) && table.dtype() == rows.dtype(),
            "scatter_add_rows_: table " << table.describe() << " and rows " << rows.describe()
                                        << " must share dtype and row width");
  check_same_device(table, rows, "scatter_add_rows_");
  if (indices.numel() == 0 || rows.dim(1) == 0) return;
  if (table.is_cuda()) return NCF_ON_CUDA(cuda_scatter_add_rows_(table, indices, rows));
  // Sum duplicates first, then add each unique row once: the same arithmetic as the GPU.
  const RowSparse sums = segment_sum_rows(indices, rows, table.dim(0));
  const int64_t nnz = sums.indices.numel(), d = table.dim(1);
  const int32_t* unique = sums.indices.data<int32_t>();
  NCF_DISPATCH_FLOAT(table.dtype(), "scatter_add_rows_", [&] {
    add_rows_at(sums.rows.data<scalar_t>(), unique, nnz, d, table.data<scalar_t>());
  });
}

void axpy_row_sparse_(Tensor& table, double alpha, const RowSparse& sparse) {
  check_rows_match(sparse.indices, sparse.rows, "axpy_row_sparse_");
  NCF_CHECK(table.ndim() == 2 && table.dim(0) == sparse.num_rows && table.dim(1) == sparse.rows.dim(1) &&
                table.dtype() == sparse.rows.dtype(),
            "axpy_row_sparse_: table " << table.describe() << " and the row-sparse " << sparse.rows.describe()
                                       << " of " << sparse.num_rows << " rows must share rows, width and dtype");
  check_same_device(table, sparse.rows, "axpy_row_sparse_");
  const int64_t nnz = sparse.indices.numel(), d = table.dim(1);
  if (nnz == 0 || d == 0) return;
  if (table.is_cuda()) return NCF_ON_CUDA(cuda_axpy_row_sparse_(table, alpha, sparse));
  check_indices_in_range(sparse.indices, sparse.num_rows, "axpy_row_sparse_", table.shape());
  const int32_t* idx = sparse.indices.data<int32_t>();
  NCF_DISPATCH_FLOAT(table.dtype(), "axpy_row_sparse_", [&] {
    // alpha rounded to the type as ops::scale rounds it: the same numbers as table + scale(g, alpha).
    axpy_rows_at(sparse.rows.data<scalar_t>(), idx, nnz, d, static_cast<scalar_t>(alpha), table.data<scalar_t>());
  });
}

Tensor to_dense(const RowSparse& sparse) {
  check_rows_match(sparse.indices, sparse.rows, "to_dense");
  NCF_CHECK(sparse.num_rows >= 0, "to_dense: num_rows must be >= 0, got " << sparse.num_rows);
  const int64_t nnz = sparse.indices.numel(), d = sparse.rows.dim(1);
  Tensor dense = Tensor::zeros({sparse.num_rows, d}, sparse.rows.dtype(), sparse.rows.device());
  if (nnz == 0 || d == 0) return dense;
  if (dense.is_cuda()) {
    NCF_ON_CUDA(cuda_to_dense(sparse, dense));
    return dense;
  }
  check_indices_in_range(sparse.indices, sparse.num_rows, "to_dense", dense.shape());
  const size_t row_bytes = static_cast<size_t>(d) * dtype_size(dense.dtype());
  const char* src = static_cast<const char*>(sparse.rows.raw_data());
  char* dst = static_cast<char*>(dense.raw_data());
  const int32_t* idx = sparse.indices.data<int32_t>();
  for (int64_t s = 0; s < nnz; ++s) std::memcpy(dst + idx[s] * row_bytes, src + s * row_bytes, row_bytes);
  return dense;
}

}  // namespace ncf::ops
