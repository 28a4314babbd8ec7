// The CUDA side of the reductions (reduce.cu), as called by the host side (reduce.cpp). Private to
// the op family: reduce.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_sum(const Tensor& x, double divisor, Tensor& out);
void cuda_sum_axis(const Tensor& x, int64_t outer, int64_t len, int64_t inner, double divisor, Tensor& out);

}  // namespace ncf::ops
