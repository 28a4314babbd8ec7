// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): an item-item
// weight matrix B (items, items) with a zero diagonal, the closed-form minimiser of
//
//   ||X - X B||_F^2 + lambda ||B||_F^2   subject to diag(B) = 0,
//
// X the binary (users, items) training matrix. With the Lagrangian of the constraint one finds
//
//   P = (X^T X + lambda I)^-1,   B = I - P diag(1 / diag(P)),
//   i.e. B[i][j] = -P[i][j] / P[j][j] for i != j and B[j][j] = 0,
//
// and user u's scores are x_u B: the sum of B's rows over the items u trained on.
//
// Built from linear-algebra ops (tensor/ops/linalg.h), so it runs where X is: csr_gram (co-occurrence
// counts, exact), add_diagonal_, spd_inverse_ (CPU: blocked Cholesky, ~n^3 / 2 multiply-adds;
// GPU: cuSOLVER potrf + potri), then the column scaling. Memory: one (items, items) matrix, in
// place (ML-20M's 26,744 items: 2.9 GB in f32).
#pragma once

#include <cstdint>

#include "data/implicit_dataset.h"
#include "tensor/ops/linalg.h"
#include "tensor/tensor.h"

namespace ncf::recsys {

struct EaseConfig {
  double lambda = 500.0;  // L2 weight; Steck uses 500 on ML-20M
  DType dtype = DType::f32;
};

// B for the binary matrix by_user (users, items), on by_user's device; lambda > 0.
Tensor ease_weights(const ops::BinaryCsr& by_user, double lambda, DType dtype = DType::f32);
// The same from a data set's training positives.
Tensor ease_weights(const data::ImplicitDataset& data, const EaseConfig& config,
                    Device device = Device::cpu());

// Scores (user_end - user_begin, items) = X[user_begin:user_end] B.
Tensor ease_scores(const ops::BinaryCsr& by_user, const Tensor& weights, int64_t user_begin,
                   int64_t user_end);

}  // namespace ncf::recsys
