// Row indexing: what embedding lookups are made of.
//   gather_rows:       out[i, :] = table[indices[i], :]                  (batch, dim)
//   segment_sum_rows:  sums rows that share an index: the sorted unique indices and one summed
//                      row each: the row-sparse gradient of an embedding table.
//   scatter_add_rows_: table[indices[i], :] += rows[i, :]
// Deterministic on both devices: duplicates are combined in their original order after a stable
// sort by index (CUB radix sort + one segment per unique row on the GPU), never by float atomics,
// so two runs give the same bits.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

// A row-sparse matrix of logical shape (num_rows, dim): only rows `indices` are non-zero.
struct RowSparse {
  Tensor indices;  // (nnz,) i32, sorted ascending, unique
  Tensor rows;     // (nnz, dim)
  int64_t num_rows = 0;
};

Tensor gather_rows(const Tensor& table, const Tensor& indices);  // table (n, d), indices (b,) i32 -> (b, d)
RowSparse segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows);
void scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows);
// Dense (num_rows, dim) tensor holding a RowSparse (zeros elsewhere).
Tensor to_dense(const RowSparse& sparse);

}  // namespace ncf::ops
