// The CUDA side of the matrix products (matmul.cu), as called by the host side (matmul.cpp). Private to
// the op family: matmul.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out, double alpha,
               double beta);

}  // namespace ncf::ops
