// The CUDA side of the fused dot-model step (factorization.cu), as called by factorization.cpp after
// it validated every argument. Private to the op family; defined only in a build with CUDA.
#pragma once

#include "tensor/ops/factorization.h"

namespace ncf::ops {

// Writes the batch's mean loss into loss (1,) and applies the step.
void cuda_dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                                 const Tensor& labels, double lr, double l2, Tensor& loss);

}  // namespace ncf::ops
