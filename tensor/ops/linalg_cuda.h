// The CUDA side of the linear-algebra ops (linalg.cu), as called by the host side (linalg.cpp).
// Private to the op family: linalg.cpp validates every argument and allocates the outputs before it
// calls these, and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with
// CUDA.
#pragma once

#include "tensor/ops/linalg.h"
#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_gram(const Tensor& a, Tensor& out);
void cuda_csr_gram(const BinaryCsr& x, Tensor& out);
void cuda_csr_gemm(const BinaryCsr& x, const Tensor& dense, Tensor& out);
void cuda_csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols, Tensor& out);
void cuda_csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                        Tensor& out);
void cuda_diagonal(const Tensor& a, Tensor& out);
void cuda_add_diagonal_(Tensor& a, double value, bool fill);
void cuda_scale_columns_(Tensor& a, const Tensor& factors);
void cuda_cholesky_batched_(Tensor& a);
void cuda_cholesky_solve_batched_(const Tensor& l, Tensor& b);
void cuda_cholesky_(Tensor& a);
void cuda_spd_inverse_(Tensor& a);

}  // namespace ncf::ops
