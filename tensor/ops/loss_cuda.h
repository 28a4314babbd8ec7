// The CUDA side of the losses (loss.cu), as called by the host side (loss.cpp). Private to
// the op family: loss.cpp validates every argument and allocates the outputs before it calls these,
// and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops/loss_functors.h"  // LossKind
#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_loss_forward(LossKind kind, const Tensor& input, const Tensor& target, Tensor& out);
void cuda_loss_backward(LossKind kind, const Tensor& input, const Tensor& target, const Tensor& grad_out,
                        Tensor& grad_in);

}  // namespace ncf::ops
