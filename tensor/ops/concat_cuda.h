// The CUDA side of the column joins and splits (concat.cu), as called by the host side (concat.cpp). Private
// to the op family: concat.cpp validates every argument and allocates the outputs before it calls these, and
// calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_concat_cols(const std::vector<Tensor>& parts, Tensor& out);
void cuda_split_cols(const Tensor& x, std::vector<Tensor>& parts);
void cuda_repeat_rows(const Tensor& row, Tensor& out);

}  // namespace ncf::ops
