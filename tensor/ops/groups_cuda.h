// The CUDA side of the group ops (groups.cu), as called by groups.cpp, which validates every
// argument and allocates the outputs first and calls these only for tensors on a GPU (NCF_ON_CUDA).
// Defined only in a build with CUDA.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_group_firsts(const Tensor& x, int64_t group, Tensor& out);
void cuda_expand_groups(const Tensor& x, int64_t group, Tensor& out);
void cuda_add_groups(Tensor& y, const Tensor& x, int64_t group);
void cuda_sum_groups(const Tensor& x, int64_t group, Tensor& out);

}  // namespace ncf::ops
