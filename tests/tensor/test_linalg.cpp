// The linear-algebra ops (tensor/ops/linalg.h) on the CPU against their textbook references, on
// random SPD matrices whose condition number kappa is known (linalg_test_util.h: eigenvalues from 1
// to kappa, so ||A||_2 = kappa and ||A^-1||_2 = 1). Every tolerance is a rounding-error bound with
// u the unit roundoff of the dtype (2^-24, 2^-53) and gamma_n = n u / (1 - n u) (Higham, "Accuracy
// and Stability of Numerical Algorithms", 2nd ed.):
//   gram, componentwise:      |G^ - G| <= gamma_m |A|^T |A|                              (Thm 3.5)
//   Cholesky, componentwise:  |A - L^ L^^T| <= gamma_{k+1} |L^| |L^^T|                  (Thm 10.3)
//   Cholesky, forward:        ||L^ - L||_F <= kappa ||L||_2 ||A - L^ L^^T||_F / ||A||_2  (Sun's
//                             first-order perturbation bound, with the measured perturbation)
//   solve, componentwise:     |b - A x^| <= gamma_{3k+1} |L^| |L^^T| |x^|                (Thm 10.4)
//   solve, forward:           ||x^ - x||_2 <= ||A^-1||_2 ||b - A x^||_2 = ||b - A x^||_2 (exact)
//   inverse, forward:         ||P^ - A^-1||_F <= n u kappa ||A^-1||_F                    (first order)
// The bounds are evaluated in f64, whose own rounding is covered by a factor 2 on the first-order
// terms (it matters for f64 results only). The measured errors are printed beside the bounds.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "tensor/ops/linalg.h"
#include "tests/tensor/linalg_test_util.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

using test::frobenius;
using test::random_csr;
using test::relative_difference;
using test::unit_roundoff;
using test::values_of;

double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }

// Checks the Cholesky factor l (k x k at l[0..k*k)) of a: the componentwise backward bound and the
// forward bound against the reference factor. Returns {backward ratio, forward error}.
struct FactorCheck {
  double worst_backward_ratio = 0.0;  // max |A - L L^T|_ij / bound_ij (<= 1 passes)
  double forward_error = 0.0, forward_bound = 0.0;
};

FactorCheck check_factor(const double* a, const double* l, const double* l_ref, int64_t k, double kappa,
                         double u) {
  FactorCheck result;
  double residual_sq = 0.0, magnitude_sq = 0.0;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double product = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        product += l[i * k + p] * l[j * k + p];
        magnitude += std::fabs(l[i * k + p] * l[j * k + p]);
      }
      const double residual = std::fabs(a[i * k + j] - product);
      const double bound = 2.0 * gamma_n(static_cast<double>(k + 1), u) * magnitude + 1e-300;
      result.worst_backward_ratio = std::max(result.worst_backward_ratio, residual / bound);
      residual_sq += residual * residual;
      magnitude_sq += magnitude * magnitude;
    }
  double diff_sq = 0.0;
  for (int64_t e = 0; e < k * k; ++e) diff_sq += (l[e] - l_ref[e]) * (l[e] - l_ref[e]);
  // With ||A||_2 = kappa and ||L||_2 = sqrt(kappa) the bound is sqrt(kappa) ||dA||_F. dA is the
  // measured residual plus what f64 cannot see: its own evaluation error and the reference factor's
  // backward error, each at most gamma_{k+1}(2^-53) || |L^| |L^^T| ||_F.
  result.forward_error = std::sqrt(diff_sq);
  result.forward_bound = std::sqrt(kappa) * (std::sqrt(residual_sq) +
                                             2.0 * gamma_n(static_cast<double>(k + 1), std::ldexp(1.0, -53)) *
                                                 std::sqrt(magnitude_sq));
  return result;
}

template <class T>
void check_batched_factor(int64_t batch, int64_t k, double kappa) {
  CAPTURE(k);
  CAPTURE(std::string(dtype_name(dtype_of<T>)));
  const Tensor a = test::random_spd_batch<T>(batch, k, kappa, 100 + static_cast<uint64_t>(k));
  Tensor l = a.clone();
  ops::cholesky_batched_(l);
  const Tensor l_ref = ops::reference::cholesky(a);
  const std::vector<double> av = values_of(a), lv = values_of(l), rv = values_of(l_ref);
  const double u = unit_roundoff(dtype_of<T>);
  double worst_ratio = 0.0, worst_forward = 0.0;
  for (int64_t s = 0; s < batch; ++s) {
    const FactorCheck c =
        check_factor(av.data() + s * k * k, lv.data() + s * k * k, rv.data() + s * k * k, k, kappa, u);
    CHECK(c.worst_backward_ratio <= 1.0);
    CHECK(c.forward_error <= c.forward_bound);
    worst_ratio = std::max(worst_ratio, c.worst_backward_ratio);
    worst_forward = std::max(worst_forward, c.forward_error / c.forward_bound);
  }
  for (int64_t s = 0; s < batch; ++s)  // the strict upper triangle is exactly zero
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = i + 1; j < k; ++j) REQUIRE(lv[(s * k + i) * k + j] == 0.0);
  std::printf(
      "cholesky_batched_ %s k=%3lld: backward error at most %.3f of its bound, forward %.3f of its bound\n",
      dtype_name(dtype_of<T>), static_cast<long long>(k), worst_ratio, worst_forward);
}

}  // namespace

TEST_CASE("cholesky_batched_: backward and forward error bounds, f32 and f64, k from 1 to 256") {
  for (int64_t k : {1, 2, 7, 16, 33, 64, 100, 256}) {
    check_batched_factor<float>(4, k, 1e3);
    check_batched_factor<double>(4, k, 1e3);
  }
}

TEST_CASE("cholesky_batched_: the check can fail: a perturbed factor breaks the backward bound") {
  // Guards the guard: one wrong entry of relative size 1e-3 must exceed the f32 bound.
  const int64_t k = 32;
  const Tensor a = test::random_spd_batch<float>(1, k, 1e3, 7);
  Tensor l = a.clone();
  ops::cholesky_batched_(l);
  std::vector<double> lv = values_of(l);
  lv[10 * k + 3] *= 1.001;
  const std::vector<double> av = values_of(a), rv = values_of(ops::reference::cholesky(a));
  const FactorCheck c = check_factor(av.data(), lv.data(), rv.data(), k, 1e3, unit_roundoff(DType::f32));
  CHECK(c.worst_backward_ratio > 1.0);
}

TEST_CASE("cholesky_solve_batched_: residual and forward error bounds, b as rows of a larger matrix") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t k : {1, 5, 64, 200}) {
      CAPTURE(k);
      CAPTURE(std::string(dtype_name(dtype)));
      const int64_t batch = 3;
      const double kappa = 1e3, u = unit_roundoff(dtype);
      Tensor a = dtype == DType::f32 ? test::random_spd_batch<float>(batch, k, kappa, 300 + k)
                                     : test::random_spd_batch<double>(batch, k, kappa, 300 + k);
      const std::vector<double> b_values =
          test::test_values(static_cast<size_t>((batch + 2) * k), -1.0, 1.0, 9);
      const Tensor b_all = dtype == DType::f32 ? test::make<float>(b_values, {batch + 2, k})
                                               : test::make<double>(b_values, {batch + 2, k});
      Tensor x = b_all.clone();
      Tensor x_rows = x.rows(1, 1 + batch);  // a view in the middle: rows 0 and batch+1 stay untouched
      Tensor l = a.clone();
      ops::cholesky_batched_(l);
      ops::cholesky_solve_batched_(l, x_rows);
      const std::vector<double> xv = values_of(x), bv = values_of(b_all), av = values_of(a),
                                lv = values_of(l);
      for (int64_t c = 0; c < k; ++c) {
        CHECK(xv[c] == bv[c]);
        CHECK(xv[(batch + 1) * k + c] == bv[(batch + 1) * k + c]);
      }
      const Tensor x_ref =
          ops::reference::cholesky_solve(ops::reference::cholesky(a), b_all.rows(1, 1 + batch));
      const std::vector<double> rv = values_of(x_ref);
      for (int64_t s = 0; s < batch; ++s) {
        const double* as = av.data() + s * k * k;
        const double* ls = lv.data() + s * k * k;
        const double* xs = xv.data() + (s + 1) * k;
        const double* bs = bv.data() + (s + 1) * k;
        std::vector<double> llt_abs(static_cast<size_t>(k * k), 0.0);
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j)
            for (int64_t p = 0; p < k; ++p) llt_abs[i * k + j] += std::fabs(ls[i * k + p] * ls[j * k + p]);
        // The residual of a solution v, ||b - A v||_2, plus the f64 rounding of its evaluation.
        auto residual_norm = [&](const double* v) {
          double sum_sq = 0.0, slack_sq = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            double r = bs[i], magnitude = std::fabs(bs[i]);
            for (int64_t j = 0; j < k; ++j) {
              r -= as[i * k + j] * v[j];
              magnitude += std::fabs(as[i * k + j] * v[j]);
            }
            sum_sq += r * r;
            slack_sq += magnitude * magnitude;
          }
          return std::sqrt(sum_sq) +
                 gamma_n(static_cast<double>(k + 1), std::ldexp(1.0, -53)) * std::sqrt(slack_sq);
        };
        double diff_sq = 0.0, worst_ratio = 0.0;
        for (int64_t i = 0; i < k; ++i) {
          double ax = 0.0, bound = 0.0;
          for (int64_t j = 0; j < k; ++j) {
            ax += as[i * k + j] * xs[j];
            bound += llt_abs[i * k + j] * std::fabs(xs[j]);
          }
          bound *= 2.0 * gamma_n(static_cast<double>(3 * k + 1), u);
          worst_ratio = std::max(worst_ratio, std::fabs(bs[i] - ax) / bound);
          diff_sq += (xs[i] - rv[s * k + i]) * (xs[i] - rv[s * k + i]);
        }
        CHECK(worst_ratio <= 1.0);
        // x^ - x = A^-1 (A x^ - b) exactly, with ||A^-1||_2 = 1: both solutions lie within their
        // residual's norm of the exact one.
        CHECK(std::sqrt(diff_sq) <= residual_norm(xs) + residual_norm(rv.data() + s * k));
      }
    }
  }
}

TEST_CASE("cholesky_batched_: a matrix that is not positive definite is named, with its pivot") {
  std::vector<double> values;
  for (int s = 0; s < 3; ++s)
    for (double v : test::random_spd(4, 10.0, 50 + s)) values.push_back(v);
  values[2 * 16 + 2 * 4 + 2] = -5.0;  // matrix 2, row 2: its pivot turns negative
  Tensor a = test::make<float>(values, {3, 4, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_batched_(a),
                       doctest::Contains("matrix 2 of Tensor(f32, (3, 4, 4), cpu)"), Error);
  Tensor b = test::make<double>(values, {3, 4, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_batched_(b), doctest::Contains("pivot 2 is"), Error);
  values[0] = std::numeric_limits<double>::quiet_NaN();
  Tensor c = test::make<double>(values, {3, 4, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_batched_(c), doctest::Contains("matrix 0"), Error);
}

TEST_CASE("cholesky_: the blocked factor meets the bounds across block edges") {
  for (int64_t n : {1, 5, 255, 256, 257, 600}) {
    for (DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(n);
      CAPTURE(std::string(dtype_name(dtype)));
      const double kappa = 1e3;
      const Tensor a = dtype == DType::f32 ? test::random_spd_matrix<float>(n, kappa, 400 + n)
                                           : test::random_spd_matrix<double>(n, kappa, 400 + n);
      Tensor l = a.clone();
      ops::cholesky_(l);
      const std::vector<double> av = values_of(a), lv = values_of(l),
                                rv = values_of(ops::reference::cholesky(a));
      const FactorCheck c = check_factor(av.data(), lv.data(), rv.data(), n, kappa, unit_roundoff(dtype));
      CHECK(c.worst_backward_ratio <= 1.0);
      CHECK(c.forward_error <= c.forward_bound);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j) REQUIRE(lv[i * n + j] == 0.0);
      std::printf(
          "cholesky_ %s n=%3lld: backward error at most %.3f of its bound, forward %.3f of its bound\n",
          dtype_name(dtype), static_cast<long long>(n), c.worst_backward_ratio,
          c.forward_error / c.forward_bound);
    }
  }
}

TEST_CASE("cholesky_: a matrix that is not positive definite names the pivot, also past the first block") {
  std::vector<double> values = test::random_spd(300, 10.0, 11);
  values[280 * 300 + 280] = -100.0;
  Tensor a = test::make<double>(values, {300, 300});
  CHECK_THROWS_WITH_AS(ops::cholesky_(a), doctest::Contains("pivot 280"), Error);
}

TEST_CASE("spd_inverse_: matches Gauss-Jordan within n u kappa, exactly symmetric, across block edges") {
  for (int64_t n : {1, 3, 256, 300, 600}) {
    for (DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(n);
      CAPTURE(std::string(dtype_name(dtype)));
      const double kappa = dtype == DType::f32 ? 1e2 : 1e4;
      const Tensor a = dtype == DType::f32 ? test::random_spd_matrix<float>(n, kappa, 500 + n)
                                           : test::random_spd_matrix<double>(n, kappa, 500 + n);
      Tensor p = a.clone();
      ops::spd_inverse_(p);
      const std::vector<double> pv = values_of(p), rv = values_of(ops::reference::inverse(a));
      const double error = relative_difference(pv, rv);
      const double bound = static_cast<double>(n) * unit_roundoff(dtype) * kappa + 1e-13;
      CHECK(error <= bound);
      // Exactly: P^ - A^-1 = A^-1 (A P^ - I), so ||P^ - A^-1||_F <= ||A^-1||_2 ||A P^ - I||_F with
      // ||A^-1||_2 = 1; the Gauss-Jordan reference adds its own f64 error (bounded by the f64 bound).
      const std::vector<double> av = values_of(a);
      std::vector<double> residual(static_cast<size_t>(n * n));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double sum = i == j ? -1.0 : 0.0;
          for (int64_t q = 0; q < n; ++q) sum += av[i * n + q] * pv[q * n + j];
          residual[i * n + j] = sum;
        }
      std::vector<double> diff(pv.size());
      for (size_t e = 0; e < pv.size(); ++e) diff[e] = pv[e] - rv[e];
      CHECK(frobenius(diff) <=
            frobenius(residual) + static_cast<double>(n) * std::ldexp(1.0, -53) * kappa * frobenius(rv));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < i; ++j) REQUIRE(pv[i * n + j] == pv[j * n + i]);
      std::printf("spd_inverse_ %s n=%3lld kappa=%.0e: relative error %.2e, bound %.2e\n", dtype_name(dtype),
                  static_cast<long long>(n), kappa, error, bound);
    }
  }
}

TEST_CASE("spd_inverse_ and cholesky_batched_: the same bits whatever the thread count") {
  const Tensor a = test::random_spd_matrix<float>(600, 1e3, 77);
  const Tensor batch = test::random_spd_batch<double>(37, 48, 1e3, 78);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> inverses, factors;
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    Tensor p = a.clone();
    ops::spd_inverse_(p);
    inverses.push_back(values_of(p));
    Tensor l = batch.clone();
    ops::cholesky_batched_(l);
    factors.push_back(values_of(l));
  }
  omp_set_num_threads(threads);
  CHECK(inverses[0] == inverses[1]);
  CHECK(inverses[0] == inverses[2]);
  CHECK(factors[0] == factors[1]);
  CHECK(factors[0] == factors[2]);
}

TEST_CASE("gram: a^T a within gamma_m |a|^T |a|, exactly symmetric") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (auto [m, n] : {std::pair<int64_t, int64_t>{1, 1}, {7, 3}, {300, 64}, {1000, 130}}) {
      CAPTURE(m);
      CAPTURE(n);
      const std::vector<double> values = test::test_values(static_cast<size_t>(m * n), -1.0, 1.0, 21);
      const Tensor a =
          dtype == DType::f32 ? test::make<float>(values, {m, n}) : test::make<double>(values, {m, n});
      const Tensor g = ops::gram(a);
      REQUIRE(g.shape() == Shape{n, n});
      const std::vector<double> gv = values_of(g), rv = values_of(ops::reference::gram(a)), av = values_of(a);
      double worst = 0.0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double magnitude = 0.0;
          for (int64_t p = 0; p < m; ++p) magnitude += std::fabs(av[p * n + i] * av[p * n + j]);
          const double bound = 2.0 * gamma_n(static_cast<double>(m), unit_roundoff(dtype)) * magnitude;
          worst = std::max(worst, std::fabs(gv[i * n + j] - rv[i * n + j]) / bound);
          REQUIRE(gv[i * n + j] == gv[j * n + i]);
        }
      CHECK(worst <= 1.0);
    }
  }
}

TEST_CASE("csr_gram and csr_matmul: exact against dense products, also on a range of rows") {
  const ops::BinaryCsr x = random_csr(90, 70, 0.2, 31);
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 90}, {13, 57}, {20, 20}}) {
      CAPTURE(begin);
      const ops::BinaryCsr part = x.row_range(begin, end);
      const Tensor dense = ops::reference::dense_from_csr(part);
      // Counts are integers and the reference sums them exactly: equality is required.
      CHECK(values_of(ops::csr_gram(part, dtype)) == values_of(ops::reference::gram(dense)));
      // Multiples of 1/8 in [-4, 4]: every partial sum of at most 70 of them is exact in f32.
      std::vector<double> values = test::test_values(70 * 9, -32.0, 32.0, 5);
      for (double& v : values) v = std::round(v) / 8.0;
      const Tensor b =
          dtype == DType::f32 ? test::make<float>(values, {70, 9}) : test::make<double>(values, {70, 9});
      CHECK(values_of(ops::csr_matmul(part, b)) == values_of(ops::reference::matmul(dense, b)));
    }
  }
}

TEST_CASE("csr_row_grams: within gamma_{m+2} of the f64 sums, exactly symmetric, k across tile edges") {
  // 400 columns at density 0.5: rows hold ~200 entries, crossing the 128-row gathering blocks.
  const ops::BinaryCsr x = random_csr(6, 400, 0.5, 41).row_range(1, 6);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t k : {1, 5, 16, 17, 64, 70}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(k);
      auto make = [&](const std::vector<double>& v, const Shape& shape) {
        return dtype == DType::f32 ? test::make<float>(v, shape) : test::make<double>(v, shape);
      };
      const Tensor table = make(test::test_values(static_cast<size_t>(400 * k), -1.0, 1.0, 42), {400, k});
      std::vector<double> base_values = test::random_spd(k, 10.0, 43);
      const Tensor base = make(base_values, {k, k});
      const Tensor shift = make(test::test_values(5, 0.0, 2.0, 44), {5});
      Tensor out = Tensor::empty({5, k, k}, dtype);
      ops::csr_row_grams(x, table, base, shift, out);
      const std::vector<double> got = values_of(out),
                                want = values_of(ops::reference::csr_row_grams(x, table, base, shift));
      const std::vector<double> tv = values_of(table), sv = values_of(shift);
      const std::vector<int32_t> offsets = x.offsets.to_vector<int32_t>(),
                                 indices = x.indices.to_vector<int32_t>();
      double worst = 0.0;
      for (int64_t s = 0; s < 5; ++s) {
        const int64_t m = offsets[s + 1] - offsets[s];
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            double magnitude = std::fabs(base_values[std::max(i, j) * k + std::min(i, j)]) +
                               (i == j ? std::fabs(sv[s]) : 0.0);
            for (int32_t e = offsets[s]; e < offsets[s + 1]; ++e)
              magnitude += std::fabs(tv[indices[e] * k + i] * tv[indices[e] * k + j]);
            const double bound = 2.0 * gamma_n(static_cast<double>(m + 2), unit_roundoff(dtype)) * magnitude;
            const int64_t e = (s * k + i) * k + j;
            worst = std::max(worst, std::fabs(got[e] - want[e]) / bound);
            REQUIRE(got[e] == got[(s * k + j) * k + i]);
          }
      }
      CHECK(worst <= 1.0);
    }
  }
}

TEST_CASE("csr_row_gram_solve: solves every row's system within the residual bound, into a view") {
  // Rows of ~200 entries cross the 128-row gathering blocks; k = 17 and 70 cross the tile edges.
  const ops::BinaryCsr x = random_csr(7, 400, 0.5, 61).row_range(1, 7);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t k : {1, 17, 70}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(k);
      auto make = [&](const std::vector<double>& v, const Shape& shape) {
        return dtype == DType::f32 ? test::make<float>(v, shape) : test::make<double>(v, shape);
      };
      const Tensor table = make(test::test_values(static_cast<size_t>(400 * k), -0.5, 0.5, 62), {400, k});
      const Tensor base = make(test::random_spd(k, 10.0, 63), {k, k});
      const Tensor shift = make(test::test_values(6, 0.5, 2.0, 64), {6});
      Tensor all = Tensor::zeros({8, k}, dtype);
      Tensor out = all.rows(1, 7);
      ops::csr_row_gram_solve(x, table, base, shift, out);
      const std::vector<double> got_all = values_of(all);
      for (int64_t c = 0; c < k; ++c) CHECK((got_all[c] == 0.0 && got_all[7 * k + c] == 0.0));
      const std::vector<double> got(got_all.begin() + k, got_all.begin() + 7 * k);
      // Componentwise residual bound of the assembled-and-solved system: assembling A_s and b_s adds
      // m + 2 terms per entry, the Cholesky solve adds gamma_{3k+1}: |b - A x| <= 2 gamma_{m+3k+3} (|A||x| +
      // |b|).
      const std::vector<double> a = values_of(ops::reference::csr_row_grams(x, table, base, shift));
      const std::vector<double> b =
          values_of(ops::reference::matmul(ops::reference::dense_from_csr(x), table));
      const std::vector<double> tv = values_of(table);
      const std::vector<int32_t> offsets = x.offsets.to_vector<int32_t>(),
                                 indices = x.indices.to_vector<int32_t>();
      double worst = 0.0;
      for (int64_t s = 0; s < 6; ++s) {
        const int64_t m = offsets[s + 1] - offsets[s];
        for (int64_t i = 0; i < k; ++i) {
          double ax = 0.0, magnitude = std::fabs(b[s * k + i]);
          for (int64_t j = 0; j < k; ++j) {
            ax += a[(s * k + i) * k + j] * got[s * k + j];
            double a_abs = std::fabs(values_of(base)[std::max(i, j) * k + std::min(i, j)]) +
                           (i == j ? std::fabs(values_of(shift)[s]) : 0.0);
            for (int32_t e = offsets[s]; e < offsets[s + 1]; ++e)
              a_abs += std::fabs(tv[indices[e] * k + i] * tv[indices[e] * k + j]);
            magnitude += a_abs * std::fabs(got[s * k + j]);
          }
          const double bound =
              2.0 * gamma_n(static_cast<double>(m + 3 * k + 3), unit_roundoff(dtype)) * magnitude;
          worst = std::max(worst, std::fabs(b[s * k + i] - ax) / bound);
        }
      }
      CHECK(worst <= 1.0);
      // The separate ops (the GPU's path) and the f64 reference give the same solutions up to
      // rounding, bounded exactly: x^ - x = A^-1 (A x^ - b) and ||A_s^-1||_2 <= 1 / 1.5, since base has
      // eigenvalues >= 1, the shift is >= 0.5 and the gathered Gram is positive semidefinite. So
      // ||x^ - x_ref||_2 <= (||r(x^)||_2 + ||r(x_ref)||_2) / 1.5, residuals evaluated in f64 (whose own
      // error, at most gamma_{m+k}(2^-53) (|A||x| + |b|), is added).
      Tensor systems = Tensor::empty({6, k, k}, dtype);
      ops::csr_row_grams(x, table, base, shift, systems);
      Tensor composed = Tensor::empty({6, k}, dtype);
      ops::csr_gemm(x, table, composed);
      ops::cholesky_batched_(systems);
      ops::cholesky_solve_batched_(systems, composed);
      const std::vector<double> ref = values_of(ops::reference::csr_row_gram_solve(x, table, base, shift));
      const std::vector<double> composed_values = values_of(composed);
      for (int64_t s = 0; s < 6; ++s) {
        const int64_t m = offsets[s + 1] - offsets[s];
        auto residual = [&](const std::vector<double>& v) {  // ||b - A v||_2 + its f64 evaluation error
          double sum_sq = 0.0, slack_sq = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            double r = b[s * k + i], magnitude = std::fabs(b[s * k + i]);
            for (int64_t j = 0; j < k; ++j) {
              r -= a[(s * k + i) * k + j] * v[s * k + j];
              magnitude += std::fabs(a[(s * k + i) * k + j] * v[s * k + j]);
            }
            sum_sq += r * r;
            slack_sq += magnitude * magnitude;
          }
          return std::sqrt(sum_sq) +
                 gamma_n(static_cast<double>(m + k + 2), std::ldexp(1.0, -53)) * std::sqrt(slack_sq);
        };
        auto distance = [&](const std::vector<double>& v) {
          double sum_sq = 0.0;
          for (int64_t i = 0; i < k; ++i)
            sum_sq += (v[s * k + i] - ref[s * k + i]) * (v[s * k + i] - ref[s * k + i]);
          return std::sqrt(sum_sq);
        };
        CHECK(distance(got) <= (residual(got) + residual(ref)) / 1.5);
        CHECK(distance(composed_values) <= (residual(composed_values) + residual(ref)) / 1.5);
      }
    }
  }
}

TEST_CASE("csr_row_gram_solve: a row whose system is not positive definite is named; threads do not matter") {
  const ops::BinaryCsr x = random_csr(50, 40, 0.3, 71);
  const Tensor table = test::make<float>(test::test_values(40 * 12, -1.0, 1.0, 72), {40, 12});
  const Tensor base = Tensor::zeros({12, 12});
  std::vector<double> shifts(50, 0.1);
  shifts[33] = -1e3;
  Tensor out = Tensor::empty({50, 12});
  CHECK_THROWS_WITH_AS(ops::csr_row_gram_solve(x, table, base, test::make<float>(shifts, {50}), out),
                       doctest::Contains("row 33 (of 50)"), Error);
  shifts[33] = 0.1;
  const Tensor shift = test::make<float>(shifts, {50});
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> results;
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    ops::csr_row_gram_solve(x, table, base, shift, out);
    results.push_back(values_of(out));
  }
  omp_set_num_threads(threads);
  CHECK(results[0] == results[1]);
  CHECK(results[0] == results[2]);
}

TEST_CASE("csr_gather_sum: the entries of X w at the asked pairs, exact on dyadic values; indices checked") {
  const ops::BinaryCsr x = random_csr(40, 30, 0.25, 17);
  // Multiples of 1/8 in [-4, 4]: every partial sum of at most 30 of them is exact in f32.
  std::vector<double> values = test::test_values(30 * 12, -32.0, 32.0, 3);
  for (double& v : values) v = std::round(v) / 8.0;
  const std::vector<int32_t> rows = test::random_indices(200, 40, 5), cols = test::random_indices(200, 12, 6);
  const Tensor row_tensor = Tensor::from_vector(rows, {200}), col_tensor = Tensor::from_vector(cols, {200});
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor w = dtype == DType::f32 ? test::make<float>(values, {30, 12}) : test::make<double>(values, {30, 12});
    const std::vector<double> got = values_of(ops::csr_gather_sum(x, w, row_tensor, col_tensor));
    const std::vector<double> want = values_of(ops::reference::csr_gather_sum(x, w, row_tensor, col_tensor));
    // Independently: the full product X w, read at each pair.
    const std::vector<double> product = values_of(ops::reference::matmul(ops::reference::dense_from_csr(x), w));
    REQUIRE(got.size() == 200);
    for (size_t k = 0; k < rows.size(); ++k) CHECK(got[k] == product[static_cast<size_t>(rows[k]) * 12 + cols[k]]);
    CHECK(got == want);
  }
  const Tensor w = test::make<float>(values, {30, 12});
  const Tensor bad = Tensor::from_vector<int32_t>({0, 12}, {2});
  CHECK_THROWS_WITH(ops::csr_gather_sum(x, w, Tensor::from_vector<int32_t>({0, 1}, {2}), bad),
                    doctest::Contains("pair 1 (1, 12) is outside the 40 rows and 12 columns"));
}

TEST_CASE("csr_gemm: writes into a view of rows and leaves the rest alone") {
  const ops::BinaryCsr x = random_csr(10, 30, 0.3, 51);
  const Tensor dense = test::make<double>(test::test_values(30 * 4, -1.0, 1.0, 52), {30, 4});
  Tensor target = Tensor::zeros({14, 4}, DType::f64);
  Tensor middle = target.rows(2, 12);
  ops::csr_gemm(x, dense, middle);
  const std::vector<double> got = values_of(target),
                            want =
                                values_of(ops::reference::matmul(ops::reference::dense_from_csr(x), dense));
  for (int64_t c = 0; c < 8; ++c) {
    CHECK(got[c] == 0.0);
    CHECK(got[12 * 4 + c] == 0.0);
  }
  NCF_CHECK_CLOSE(std::vector<double>(got.begin() + 8, got.begin() + 48), want, 1e-14, 1e-14);
}

TEST_CASE("transpose: the columns as rows, each in increasing order; make_binary_csr rejects bad input") {
  const ops::BinaryCsr x = ops::make_binary_csr({0, 2, 2, 5}, {1, 3, 0, 1, 3}, 4);
  const ops::BinaryCsr t = ops::transpose(x);
  CHECK(t.rows == 4);
  CHECK(t.cols == 3);
  CHECK(t.offsets.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 3, 3, 5});
  CHECK(t.indices.to_vector<int32_t>() == std::vector<int32_t>{2, 0, 2, 0, 2});
  CHECK_THROWS_WITH_AS(ops::make_binary_csr({0, 2}, {3, 1}, 4), doctest::Contains("out of order"), Error);
  CHECK_THROWS_WITH_AS(ops::make_binary_csr({0, 1}, {4}, 4), doctest::Contains("column 4 of row 0"), Error);
  CHECK_THROWS_WITH_AS(ops::make_binary_csr({0, 2, 1, 2}, {0, 1}, 4), doctest::Contains("decrease at row 1"),
                       Error);
  CHECK_THROWS_WITH_AS(ops::make_binary_csr({0, 3}, {0, 1}, 4), doctest::Contains("from 0 to 3"), Error);
}

TEST_CASE("linalg: errors name the shapes and dtypes") {
  Tensor rect = Tensor::zeros({3, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_(rect), doctest::Contains("(3, 4)"), Error);
  CHECK_THROWS_WITH_AS(ops::spd_inverse_(rect), doctest::Contains("(3, 4)"), Error);
  Tensor not_batch = Tensor::zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_batched_(not_batch), doctest::Contains("(2, 3, 4)"), Error);
  Tensor ints = Tensor::zeros({2, 2}, DType::i32);
  CHECK_THROWS_WITH_AS(ops::cholesky_(ints), doctest::Contains("f32 or f64"), Error);
  const Tensor l = Tensor::zeros({2, 3, 3});
  Tensor wrong_b = Tensor::zeros({2, 4});
  CHECK_THROWS_WITH_AS(ops::cholesky_solve_batched_(l, wrong_b), doctest::Contains("(2, 3)"), Error);
  Tensor f64_b = Tensor::zeros({2, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(ops::cholesky_solve_batched_(l, f64_b), doctest::Contains("dtypes differ"), Error);
  const ops::BinaryCsr x = ops::make_binary_csr({0, 1}, {0}, 2);
  CHECK_THROWS_WITH_AS(ops::csr_matmul(x, Tensor::zeros({3, 2})), doctest::Contains("(3, 2)"), Error);
  CHECK_THROWS_WITH_AS(ops::csr_gram(x, DType::i32), doctest::Contains("i32"), Error);
  CHECK_THROWS_WITH_AS(x.row_range(0, 2), doctest::Contains("[0, 2)"), Error);
}

}  // namespace ncf
