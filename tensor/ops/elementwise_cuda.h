// The CUDA side of the element-wise ops (elementwise.cu), as called by the host side (elementwise.cpp).
// Private to the op family: elementwise.cpp validates every argument and allocates the outputs before it
// calls these, and calls them only for tensors on a GPU (NCF_ON_CUDA). Defined only in a build with CUDA.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops/elementwise_functors.h"  // Broadcast
#include "tensor/tensor.h"

namespace ncf::ops {

void cuda_unary(UnaryOp op, const Tensor& x, Tensor& out);
void cuda_scale(const Tensor& x, double alpha, Tensor& out);
void cuda_binary(BinaryOp op, const Tensor& a, const Tensor& b, Broadcast broadcast, Tensor& out);
void cuda_axpy(Tensor& y, double alpha, const Tensor& x);
void cuda_fill(Tensor& t, double value);
void cuda_cast(const Tensor& x, Tensor& out);
void cuda_activation_backward(UnaryOp op, const Tensor& grad_out, const Tensor& saved, Tensor& out);
void cuda_dropout(const Tensor& x, double p, uint64_t seed, uint32_t stream, uint64_t counter_of_first,
                  Tensor& mask, Tensor& out);
void cuda_dropout_backward(const Tensor& grad_out, const Tensor& mask, double p, Tensor& out);

}  // namespace ncf::ops
