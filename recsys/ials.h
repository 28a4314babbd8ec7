// Implicit alternating least squares (iALS; Hu, Koren & Volinsky 2008) in the formulation of
// Rendle, Krichene, Zhang & Koren, "Revisiting the Performance of iALS on Item Recommendation
// Benchmarks" (RecSys 2022). With user factors W (users, d), item factors H (items, d), the training
// positives S, I_u the items of user u and U_i the users of item i:
//
//   L(W, H) =          sum_{(u,i) in S} (1 - <w_u, h_i>)^2           observed pairs, target 1
//           + alpha0 * sum_{u, i}      <w_u, h_i>^2                  every pair, target 0
//           + lambda * ( sum_u (|I_u| + alpha0 |I|)^nu ||w_u||^2
//                      + sum_i (|U_i| + alpha0 |U|)^nu ||h_i||^2 )    frequency-scaled L2 (nu = 0: plain)
//
// For fixed H, L is a quadratic in each w_u alone; setting its gradient to zero gives
//   (sum_{i in I_u} h_i h_i^T + alpha0 H^T H + lambda_u I) w_u = sum_{i in I_u} h_i,
//   lambda_u = lambda (|I_u| + alpha0 |I|)^nu,
// and symmetrically for h_i with W fixed. The Gramian H^T H is the same for every user, so it is
// computed once per half-sweep (the "Gramian trick"): a user's system then costs O(|I_u| d^2) to
// build and O(d^3) to solve, instead of O(|I| d^2). Each half-sweep solves every system exactly
// (Cholesky), so it minimises L over one factor matrix given the other: L never increases.
//
// The same trick makes the loss exact at O(|S| d + (|U| + |I|) d^2):
//   sum_{u,i} <w_u, h_i>^2 = sum_u w_u^T (H^T H) w_u = <W^T W, H^T H>_F.
//
// Both devices run the same linear-algebra ops (tensor/ops/linalg.h): ops::gram for the Gramian
// (cuBLAS syrk on the GPU), ops::csr_row_gram_solve for all the systems of one side (on the CPU one
// fused pass per row; on the GPU batched kernels and cuSOLVER's batched potrf, in chunks). The
// initial factors are drawn with Philox (normal_, streams 0 and 1), so both devices start equal.
#pragma once

#include <cstdint>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/config.h"
#include "tensor/ops/linalg.h"
#include "tensor/tensor.h"

namespace ncf::recsys {

// The weights (alpha0, lambda, nu: recsys/config.h) and how to solve.
struct IalsConfig : IalsWeights {
  int64_t dim = 64;  // d
  // Entries of W and H start as N(0, init_stddev^2). (Rendle et al. draw N(0, (sigma / sqrt(d))^2):
  // pass sigma / sqrt(dim) to match them.)
  double init_stddev = 0.1;
  int sweeps = 10;  // fit(): this many sweeps, each users then items
  uint64_t seed = 1;
  DType dtype = DType::f32;
};

// Throws naming the first invalid field (dim >= 1, alpha0 >= 0, lambda >= 0, nu finite,
// init_stddev >= 0, sweeps >= 0, dtype f32 or f64).
void validate(const IalsConfig& config);

// The training positives of a data set in both directions, on one device.
struct ImplicitCsr {
  ops::BinaryCsr by_user;  // (users, items): row u lists I_u
  ops::BinaryCsr by_item;  // (items, users): row i lists U_i
};
ImplicitCsr make_implicit_csr(const data::ImplicitDataset& data, Device device);

// lambda * (count[r] + alpha0 * other_side)^nu for each row r: the diagonal shift of its system.
std::vector<double> ials_regularization(const ops::BinaryCsr& rows, int64_t other_side,
                                        const IalsConfig& config);

// L(W, H) above, exactly (Gramian trick), evaluated in f64 on the host (factors on a GPU are
// copied over). users (users, d) and items (items, d) in f32 or f64.
double ials_loss(const ImplicitCsr& csr, const Tensor& users, const Tensor& items, const IalsConfig& config);

class Ials {
 public:
  Ials(const IalsConfig& config, const data::ImplicitDataset& data, Device device);
  Ials(const IalsConfig& config, ImplicitCsr csr);

  void solve_users();  // W <- argmin_W L(W, H)
  void solve_items();  // H <- argmin_H L(W, H)
  void sweep() {
    solve_users();
    solve_items();
  }
  void fit() {
    for (int s = 0; s < config_.sweeps; ++s) sweep();
  }
  double loss() const { return ials_loss(csr_, users_, items_, config_); }

  const Tensor& user_factors() const { return users_; }  // (users, d)
  const Tensor& item_factors() const { return items_; }  // (items, d)
  Tensor& user_factors() { return users_; }
  Tensor& item_factors() { return items_; }
  const ImplicitCsr& csr() const { return csr_; }
  const IalsConfig& config() const { return config_; }
  Device device() const { return csr_.by_user.device(); }

 private:
  // solved (rows.rows, d) <- the exact solutions given `fixed` (rows.cols, d).
  void solve_side(const ops::BinaryCsr& rows, const Tensor& shift, const Tensor& fixed, Tensor& solved,
                  const char* side);

  IalsConfig config_;
  ImplicitCsr csr_;
  Tensor users_, items_;
  Tensor user_shift_, item_shift_;  // (users,), (items,): ials_regularization on the device
};

}  // namespace ncf::recsys
