// Row indexing: what embedding lookups are made of.
//   gather_rows:       out[i, :] = table[indices[i], :]                  (batch, dim)
//   segment_sum_rows:  sums rows that share an index: the sorted unique indices and one summed
//                      row each: the row-sparse gradient of an embedding table.
//   add_row_sparse:    the sum of two row-sparse matrices of one table (a table looked up twice).
//   scatter_add_rows_: table[indices[i], :] += rows[i, :]
//   axpy_row_sparse_:  table[s.indices[n], :] += alpha * s.rows[n, :] for a RowSparse s (its padding
//                      skipped): a row-sparse gradient's plain SGD step, every row written once.
// Deterministic on both devices: duplicates are combined in their original order after a stable
// sort by index (CUB radix sort + one segment per unique row on the GPU), never by float atomics,
// so two runs give the same bits.
//
// Bad indices (outside [0, rows)): the CPU throws before it computes anything, naming the index and
// its position. The GPU cannot look at the indices without waiting for them, so its kernels skip a
// bad index (gather_rows writes a row of zeros) and record it; the next synchronisation throws the
// same message (tensor/cuda_context.h, "Index faults").
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

// A row-sparse matrix of logical shape (num_rows, dim): only rows `indices` are non-zero.
//
// On the CPU, indices (nnz,) holds exactly the nnz sorted unique rows. On a GPU the number of unique
// rows is known only on the device, and reading it back would stall the pipeline once per table per
// step; so the tensors there are sized for the worst case (one row per looked-up index): the first
// nnz entries are the sorted unique rows, and every entry after them is padding, marked by the index
// num_rows (one past the last row) and a row of unspecified values. Every consumer (to_dense, the
// optimizers, add_row_sparse) skips padding, so nothing needs nnz on the host.
struct RowSparse {
  Tensor indices;  // (capacity,) i32: sorted, unique rows, then (GPU only) padding entries = num_rows
  Tensor rows;     // (capacity, dim)
  int64_t num_rows = 0;
};

Tensor gather_rows(const Tensor& table, const Tensor& indices);  // table (n, d), indices (b,) i32 -> (b, d)
RowSparse segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows);
RowSparse add_row_sparse(const RowSparse& a, const RowSparse& b);  // same num_rows, dim, dtype, device
void scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows);
void axpy_row_sparse_(Tensor& table, double alpha, const RowSparse& sparse);  // sparse.num_rows == table rows
// Dense (num_rows, dim) tensor holding a RowSparse (zeros elsewhere).
Tensor to_dense(const RowSparse& sparse);

}  // namespace ncf::ops
