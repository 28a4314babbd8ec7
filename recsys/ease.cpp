// EASE (formulas in ease.h): P = (X^T X + lambda I)^-1 in place, then B = -P scaled by column
// by 1 / P[j][j], with an exact zero written on the diagonal (-P[j][j] * (1 / P[j][j]) may round to
// -1 + an ulp, and the constraint is diag(B) = 0 exactly).
#include "recsys/ease.h"

#include <cmath>
#include <vector>

namespace ncf::recsys {

Tensor ease_weights(const ops::BinaryCsr& by_user, double lambda, DType dtype) {
  NCF_CHECK(lambda > 0.0 && std::isfinite(lambda),
            "EASE: lambda must be finite and > 0 (X^T X alone may be singular), got " << lambda);
  Tensor p = ops::csr_gram(by_user, dtype);
  ops::add_diagonal_(p, lambda);
  ops::spd_inverse_(p);
  // factors[j] = -1 / P[j][j], computed on the host in f64 (n values) and rounded once.
  const Tensor diagonal = ops::diagonal(p);
  std::vector<double> factors(static_cast<size_t>(p.dim(0)));
  if (dtype == DType::f64) {
    const std::vector<double> d = diagonal.to_vector<double>();
    for (size_t j = 0; j < d.size(); ++j) factors[j] = -1.0 / d[j];
    ops::scale_columns_(p, Tensor::from_vector(factors, {p.dim(0)}, p.device()));
  } else {
    const std::vector<float> d = diagonal.to_vector<float>();
    std::vector<float> f(d.size());
    for (size_t j = 0; j < d.size(); ++j) f[j] = static_cast<float>(-1.0 / static_cast<double>(d[j]));
    ops::scale_columns_(p, Tensor::from_vector(f, {p.dim(0)}, p.device()));
  }
  ops::fill_diagonal_(p, 0.0);
  return p;
}

Tensor ease_weights(const data::ImplicitDataset& data, const EaseConfig& config, Device device) {
  return ease_weights(ops::make_binary_csr(data.train_offsets, data.train_item, data.num_items, device),
                      config.lambda, config.dtype);
}

Tensor ease_scores(const ops::BinaryCsr& by_user, const Tensor& weights, int64_t user_begin,
                   int64_t user_end) {
  NCF_CHECK(weights.defined() && weights.ndim() == 2 && weights.dim(0) == by_user.cols &&
                weights.dim(1) == by_user.cols,
            "EASE: weights must be (" << by_user.cols << ", " << by_user.cols << ") for " << by_user.cols
                                      << " items, got " << weights.describe());
  return ops::csr_matmul(by_user.row_range(user_begin, user_end), weights);
}

}  // namespace ncf::recsys
