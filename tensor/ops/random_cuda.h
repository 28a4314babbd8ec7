// The CUDA side of the random tensors (random.cu), as called by the host side (random.cpp). Private to
// the op family: random.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_uniform(Tensor& t, double low, double high, uint64_t seed, uint32_t stream);
void cuda_normal(Tensor& t, double mean, double stddev, uint64_t seed, uint32_t stream);
void cuda_randperm(Tensor& out, uint64_t seed, uint32_t stream);

}  // namespace ncf::ops
