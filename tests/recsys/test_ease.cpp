// EASE (recsys/ease.h) on a small random data set, against a dense computation written without
// any of the library's linear algebra: G = X^T X + lambda I by loops, P by Gauss-Jordan elimination
// with partial pivoting, B[i][j] = -P[i][j] / P[j][j] off the diagonal. Also an optimality check
// that does not use the closed form at all: the Lagrangian of min ||X - XB||^2 + lambda ||B||^2
// s.t. diag(B) = 0 gives (G + lambda I) B = G - diag(mu), so every off-diagonal entry of
// (G + lambda I) B - G must vanish.
//
// Tolerance: the inverse's first-order bound n u kappa (Higham ch. 14) with kappa <= ||A||_F ||A^-1||_F
// (an upper bound of the 2-norm condition number), doubled for the column scaling's division.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "recsys/ease.h"
#include "tests/recsys/random_implicit.h"
#include "tests/test_util.h"

using namespace ncf;
using test::values_of;

namespace {

double unit_roundoff(DType d) { return d == DType::f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53); }

std::vector<double> gauss_jordan_inverse(std::vector<double> a, int64_t n) {
  std::vector<double> inv(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  for (int64_t c = 0; c < n; ++c) {
    int64_t pivot = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[pivot * n + c])) pivot = r;
    for (int64_t j = 0; j < n; ++j) {
      std::swap(a[c * n + j], a[pivot * n + j]);
      std::swap(inv[c * n + j], inv[pivot * n + j]);
    }
    const double scale = 1.0 / a[c * n + c];
    for (int64_t j = 0; j < n; ++j) {
      a[c * n + j] *= scale;
      inv[c * n + j] *= scale;
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      for (int64_t j = 0; j < n; ++j) {
        a[r * n + j] -= f * a[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}

double frobenius(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

TEST_CASE(
    "EASE: zero diagonal, matches the dense Gauss-Jordan computation, satisfies the optimality conditions") {
  const data::ImplicitDataset d = test::random_implicit(60, 25, 0.3, 21);
  const int64_t n = d.num_items;
  const double lambda = 3.0;
  const std::vector<double> x = test::dense_training_matrix(d);
  std::vector<double> g(static_cast<size_t>(n * n), 0.0);  // X^T X
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) g[i * n + j] += x[u * n + i] * x[u * n + j];
  std::vector<double> a = g;
  for (int64_t i = 0; i < n; ++i) a[i * n + i] += lambda;
  const std::vector<double> p = gauss_jordan_inverse(a, n);
  std::vector<double> b_want(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) b_want[i * n + j] = i == j ? 0.0 : -p[i * n + j] / p[j * n + j];
  const double kappa = frobenius(a) * frobenius(p);

  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor b = recsys::ease_weights(d, recsys::EaseConfig{lambda, dtype}, Device::cpu());
    REQUIRE(b.shape() == Shape{n, n});
    const std::vector<double> got = values_of(b);
    for (int64_t j = 0; j < n; ++j) CHECK(got[j * n + j] == 0.0);
    std::vector<double> diff(got.size());
    for (size_t e = 0; e < got.size(); ++e) diff[e] = got[e] - b_want[e];
    const double error = frobenius(diff) / frobenius(b_want);
    const double bound = 2.0 * static_cast<double>(n) * unit_roundoff(dtype) * kappa + 1e-13;
    CHECK(error <= bound);
    // Off the diagonal, (G + lambda I) B - G = 0 up to rounding. This residual is far smaller than the
    // forward error: it is held to 4 n u (|A| |B| + |G|), the size of the rounding of the products.
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        if (i == j) continue;
        double value = -g[i * n + j], magnitude = std::fabs(g[i * n + j]);
        for (int64_t q = 0; q < n; ++q) {
          value += a[i * n + q] * got[q * n + j];
          magnitude += std::fabs(a[i * n + q] * got[q * n + j]);
        }
        worst = std::max(
            worst, std::fabs(value) / (4.0 * static_cast<double>(n) * unit_roundoff(dtype) * magnitude));
      }
    CHECK(worst <= 1.0);
    MESSAGE("EASE " << std::string(dtype_name(dtype)) << ": relative error " << error << " (bound " << bound
                    << "), optimality residual at most " << worst << " of its bound");

    // Scores of users 10..29: x_u B, by a dense product.
    const ops::BinaryCsr by_user = ops::make_binary_csr(d.train_offsets, d.train_item, n);
    const std::vector<double> scores = values_of(recsys::ease_scores(by_user, b, 10, 30));
    std::vector<double> scores_want(static_cast<size_t>(20 * n), 0.0);
    for (int64_t u = 0; u < 20; ++u)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) scores_want[u * n + j] += x[(u + 10) * n + i] * got[i * n + j];
    NCF_CHECK_CLOSE(scores, scores_want, 1e-5, 1e-5);
  }
}

TEST_CASE("EASE: lambda must be positive; the weights must fit the catalogue") {
  const data::ImplicitDataset d = test::random_implicit(10, 6, 0.4, 22);
  CHECK_THROWS_WITH_AS(recsys::ease_weights(d, recsys::EaseConfig{0.0, DType::f32}),
                       doctest::Contains("lambda"), Error);
  const ops::BinaryCsr by_user = ops::make_binary_csr(d.train_offsets, d.train_item, d.num_items);
  CHECK_THROWS_WITH_AS(recsys::ease_scores(by_user, Tensor::zeros({5, 5}), 0, 2), doctest::Contains("(6, 6)"),
                       Error);
}
