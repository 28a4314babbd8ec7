// Losses with their gradients fused into one pass each.
//   BCE with logits, mean over n elements: l = max(x, 0) - x*y + log(1 + exp(-|x|)): stable for any
//   |x| (never exp of a large positive number); dl/dx = (sigmoid(x) - y) / n.
//   MSE, mean: l = (p - t)^2;  dl/dp = 2 (p - t) / n.
// grad_out is a (1,) tensor on the same device (the upstream gradient), read there: no host sync.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets);  // -> (1,)
Tensor bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad_out);
Tensor mse(const Tensor& predictions, const Tensor& targets);  // -> (1,)
Tensor mse_backward(const Tensor& predictions, const Tensor& targets, const Tensor& grad_out);

}  // namespace ncf::ops
