// The CUDA side of the optimizer steps (optimizer.cu), as called by the host side (optimizer.cpp). Private to
// the op family: optimizer.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops/optimizer.h"
#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
                    const AdamSettings& s);
void cuda_sparse_adam_step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                           const AdamSettings& s);
void cuda_sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>* momentum_buffers, double lr, double momentum,
                   double weight_decay, bool first_step);

}  // namespace ncf::ops
