// The fused training step of a biased dot-product model (recsys DotMF) on the logistic loss with
// plain SGD: the fast path of a model whose autograd graph would be some twenty small ops a batch.
// For a batch of B (user u_b, item i_b, label y_b) rows and the tables P (users, d), Q (items, d),
// bu (users, 1), bi (items, 1), c (1,):
//
//   score_b = c + bu[u_b] + bi[i_b] + <P[u_b], Q[i_b]>
//   loss    = (1/B) sum_b BCE-with-logits(score_b, y_b)
//   penalty = (l2/B) sum_b (|P[u_b]|^2 + bu[u_b]^2 + |Q[i_b]|^2 + bi[i_b]^2)      once per occurrence
//   x      <- x - lr * d(loss + penalty)/dx for every parameter, all gradients taken before the step
//
// which is what the autograd path computes for DotMF with model.l2 = l2 and SGD without momentum.
// With g_b = (sigmoid(score_b) - y_b) / B and r = 2 l2 / B, the gradient an occurrence b sends is
//   P[u_b]: g_b Q[i_b] + r P[u_b]     bu[u_b]: g_b + r bu[u_b]     (Q, bi: the same, roles swapped)
//   c:      g_b
// so one pass over the batch reads each row once, and nothing else is materialised.
//
// Deterministic on both devices. CPU: the occurrences of a row are applied one after another in
// batch order, each row by one thread (rows are dealt to threads by index), so the bits are the
// same for any thread count. GPU: the gradient rows (the bias as one more column) are summed per
// unique row by segment_sum_rows (sorted, no float atomics) and written once. The two devices round
// differently (per occurrence vs per row), by a few ulps of a parameter per step.
//
// Every tensor on one device; P, Q, bu, bi, c and labels (B,) f32 or f64 alike; users, items (B,) i32
// in range (checked before anything is written). Returns the loss (1,) before the step, without the
// penalty, as the autograd step reports it.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

struct DotTables {
  Tensor user, item;            // P (users, d), Q (items, d)
  Tensor user_bias, item_bias;  // bu (users, 1), bi (items, 1)
  Tensor bias;                  // c (1,)
};

Tensor dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                              const Tensor& labels, double lr, double l2);

namespace reference {
// The textbook step, CPU only: every gradient summed densely in f64, then one subtraction per
// parameter. Same arguments and result as above.
Tensor dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                              const Tensor& labels, double lr, double l2);
}  // namespace reference

}  // namespace ncf::ops
