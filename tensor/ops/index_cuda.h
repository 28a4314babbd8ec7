// The CUDA side of the row indexing (index.cu), as called by the host side (index.cpp). Private to
// the op family: index.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops/index.h"
#include "tensor/tensor.h"

namespace ncf::ops {

// index.cu (arguments already validated; indices are not range-checked there, see each function).
void cuda_gather_rows(const Tensor& table, const Tensor& indices, Tensor& out);
// padded_input: indices equal to num_rows are padding of RowSparse inputs (add_row_sparse), dropped
// without a fault report; any other index outside [0, num_rows) is reported (index.h).
RowSparse cuda_segment_sum_rows(const Tensor& indices, const Tensor& rows, int64_t num_rows,
                                bool padded_input);
void cuda_scatter_add_rows_(Tensor& table, const Tensor& indices, const Tensor& rows);
void cuda_to_dense(const RowSparse& sparse, Tensor& dense);
void cuda_axpy_row_sparse_(Tensor& table, double alpha, const RowSparse& sparse);

}  // namespace ncf::ops
