// The CUDA side of the row sorting (sort.cu), as called by the host side (sort.cpp). Private to
// the op family: sort.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_topk_rows(const Tensor& scores, int64_t k, Tensor& values, Tensor& indices);

}  // namespace ncf::ops
