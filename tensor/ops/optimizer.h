// Fused optimizer updates. On the GPU one launch updates every tensor of the list (the tensor
// pointers travel as a kernel argument), so a step costs one launch, not one per parameter.
//   SGD:  g' = g + wd*p;  buf = momentum*buf + g' (first step: buf = g');  p -= lr * buf
//   Adam: g' = g + wd*p;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
//         p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   Sparse ("lazy") Adam: the same, but only for the rows present in a row-sparse gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/ops/index.h"
#include "tensor/tensor.h"

namespace ncf::ops {

struct AdamSettings {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  int64_t step = 1;  // 1-based, after incrementing for this update
};

// Every list has one entry per parameter, same shapes; all on one device, f32 or f64.
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
               const AdamSettings& s);
void sparse_adam_step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                      const AdamSettings& s);
// Dense Adam for a row-sparse gradient: every row moves, rows absent from `grad` with g = 0 (their
// moments decay), exactly as adam_step on the densified gradient, but without building it. On the
// CPU this saves a table-sized allocation, a memset and a pass per step.
void dense_adam_step_rowsparse(const std::vector<Tensor>& params, const std::vector<RowSparse>& grads,
                               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
                               const AdamSettings& s);
// `first_step` true: buf = g' (PyTorch's rule), else buf = momentum*buf + g'.
void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, double lr, double momentum, double weight_decay,
              bool first_step);

}  // namespace ncf::ops
