// The linear-algebra ops, iALS and EASE on the GPU, held to the same rounding-error bounds as on the
// CPU (tests/tensor/test_linalg.cpp states them) and compared with the CPU results:
//   - integer-valued results (csr_gram, csr_gemm on multiples of 1/8, the diagonal helpers) must be
//     identical on both devices;
//   - factorisations and solves must meet the componentwise backward bounds of Higham's theorems
//     (gamma_{k+1} |L||L^T| for Cholesky, gamma_{3k+1} for the solve), since cuSOLVER's algorithms
//     are backward stable like ours;
//   - where two devices' solutions of one system are compared, the exact bound
//     ||x_gpu - x_cpu||_2 <= (||r_gpu||_2 + ||r_cpu||_2) ||A^-1||_2 is used, with ||A^-1||_2 known
//     from the construction (the smallest eigenvalue is bounded below by the regularisation).
// These cases run only where a GPU answers; the suite's main skips them otherwise.
#include <cmath>
#include <string>
#include <vector>

#include "recsys/ease.h"
#include "recsys/ials.h"
#include "tensor/ops/linalg.h"
#include "tensor/ops/matmul.h"
#include "tests/recsys/random_implicit.h"
#include "tests/tensor/linalg_test_util.h"
#include "tests/test_util.h"

using namespace ncf;
using test::random_csr;
using test::values_of;

namespace {

const Device kGpu = Device::cuda(0);
const Device kCpu = Device::cpu();

double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }

Tensor make(DType dtype, const std::vector<double>& values, const Shape& shape) {
  return dtype == DType::f32 ? test::make<float>(values, shape) : test::make<double>(values, shape);
}

// max over entries of |A - L L^T| / (2 gamma_{k+1} (|L||L^T|)) for each (k x k) matrix of a batch.
double worst_factor_ratio(const std::vector<double>& a, const std::vector<double>& l, int64_t batch,
                          int64_t k, double u) {
  double worst = 0.0;
  for (int64_t s = 0; s < batch; ++s)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double product = 0.0, magnitude = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const double term = l[(s * k + i) * k + p] * l[(s * k + j) * k + p];
          product += term;
          magnitude += std::fabs(term);
        }
        const double bound = 2.0 * gamma_n(static_cast<double>(k + 1), u) * magnitude + 1e-300;
        worst = std::max(worst, std::fabs(a[(s * k + i) * k + j] - product) / bound);
      }
  return worst;
}

}  // namespace

TEST_CASE("cuda gram: within gamma_m |a|^T |a| of the f64 sum, exactly symmetric, TF32 or not") {
  // gram must use exact f32 products whatever gemm's TF32 switch says (TF32 keeps 10 mantissa bits:
  // its errors would be ~2^-11, thousands of times this bound).
  for (bool tf32 : {true, false}) {
    ops::set_matmul_tf32(tf32);
    for (DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(tf32);
      CAPTURE(std::string(dtype_name(dtype)));
      const int64_t m = 700, n = 64;
      const std::vector<double> values = test::test_values(static_cast<size_t>(m * n), -1.0, 1.0, 1);
      const Tensor a = make(dtype, values, {m, n});
      const std::vector<double> got = values_of(ops::gram(a.to(kGpu))),
                                want = values_of(ops::reference::gram(a));
      double worst = 0.0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double magnitude = 0.0;
          for (int64_t p = 0; p < m; ++p) magnitude += std::fabs(values[p * n + i] * values[p * n + j]);
          worst = std::max(
              worst, std::fabs(got[i * n + j] - want[i * n + j]) /
                         (2.0 * gamma_n(static_cast<double>(m), test::unit_roundoff(dtype)) * magnitude));
          REQUIRE(got[i * n + j] == got[j * n + i]);
        }
      CHECK(worst <= 1.0);
    }
  }
  ops::set_matmul_tf32(true);  // the default
}

TEST_CASE("cuda csr_gram, csr_gemm and the diagonal helpers: identical to the CPU") {
  const ops::BinaryCsr cpu = random_csr(120, 90, 0.2, 2, kCpu);
  const ops::BinaryCsr gpu = random_csr(120, 90, 0.2, 2, kGpu);
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    CHECK(values_of(ops::csr_gram(gpu.row_range(10, 100), dtype)) ==
          values_of(ops::csr_gram(cpu.row_range(10, 100), dtype)));
    std::vector<double> dyadic = test::test_values(90 * 33, -32.0, 32.0, 3);
    for (double& v : dyadic) v = std::round(v) / 8.0;  // partial sums of <= 90 of them are exact in f32
    const Tensor dense = make(dtype, dyadic, {90, 33});
    CHECK(values_of(ops::csr_matmul(gpu, dense.to(kGpu))) == values_of(ops::csr_matmul(cpu, dense)));
    Tensor square_cpu = make(dtype, test::test_values(50 * 50, -1.0, 1.0, 4), {50, 50});
    Tensor square_gpu = square_cpu.to(kGpu);
    CHECK(values_of(ops::diagonal(square_gpu)) == values_of(ops::diagonal(square_cpu)));
    ops::add_diagonal_(square_gpu, 0.5);
    ops::add_diagonal_(square_cpu, 0.5);
    const Tensor factors = make(dtype, test::test_values(50, -2.0, 2.0, 5), {50});
    ops::scale_columns_(square_gpu, factors.to(kGpu));
    ops::scale_columns_(square_cpu, factors);
    ops::fill_diagonal_(square_gpu, 0.0);
    ops::fill_diagonal_(square_cpu, 0.0);
    CHECK(values_of(square_gpu) == values_of(square_cpu));
  }
}

TEST_CASE("cuda csr_row_grams: within gamma_{m+2} of the f64 sums, exactly symmetric") {
  const ops::BinaryCsr x = random_csr(6, 300, 0.5, 6, kCpu).row_range(1, 6);
  const ops::BinaryCsr x_gpu{x.offsets.to(kGpu), x.indices.to(kGpu), x.rows, x.cols};
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t k : {1, 17, 64, 200}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(k);
      const std::vector<double> tv = test::test_values(static_cast<size_t>(300 * k), -1.0, 1.0, 7);
      const std::vector<double> bv = test::random_spd(k, 10.0, 8), sv = test::test_values(5, 0.0, 2.0, 9);
      const Tensor table = make(dtype, tv, {300, k}), base = make(dtype, bv, {k, k}),
                   shift = make(dtype, sv, {5});
      Tensor out = Tensor::empty({5, k, k}, dtype, kGpu);
      ops::csr_row_grams(x_gpu, table.to(kGpu), base.to(kGpu), shift.to(kGpu), out);
      const std::vector<double> got = values_of(out),
                                want = values_of(ops::reference::csr_row_grams(x, table, base, shift));
      const std::vector<int32_t> offsets = x.offsets.to_vector<int32_t>(),
                                 indices = x.indices.to_vector<int32_t>();
      double worst = 0.0;
      for (int64_t s = 0; s < 5; ++s)
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            double magnitude =
                std::fabs(bv[std::max(i, j) * k + std::min(i, j)]) + (i == j ? std::fabs(sv[s]) : 0.0);
            for (int32_t e = offsets[s]; e < offsets[s + 1]; ++e)
              magnitude += std::fabs(tv[indices[e] * k + i] * tv[indices[e] * k + j]);
            const int64_t m = offsets[s + 1] - offsets[s];
            const int64_t at = (s * k + i) * k + j;
            worst = std::max(
                worst,
                std::fabs(got[at] - want[at]) /
                    (2.0 * gamma_n(static_cast<double>(m + 2), test::unit_roundoff(dtype)) * magnitude));
            REQUIRE(got[at] == got[(s * k + j) * k + i]);
          }
      CHECK(worst <= 1.0);
    }
  }
}

TEST_CASE(
    "cuda cholesky_batched_ and cholesky_solve_batched_: Higham's backward bounds, errors name the matrix") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t k : {1, 7, 64, 256}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(k);
      const int64_t batch = 5;
      const Tensor a = dtype == DType::f32 ? test::random_spd_batch<float>(batch, k, 1e3, 10 + k)
                                           : test::random_spd_batch<double>(batch, k, 1e3, 10 + k);
      Tensor l = a.to(kGpu);
      ops::cholesky_batched_(l);
      const std::vector<double> av = values_of(a), lv = values_of(l);
      CHECK(worst_factor_ratio(av, lv, batch, k, test::unit_roundoff(dtype)) <= 1.0);
      for (int64_t s = 0; s < batch; ++s)
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = i + 1; j < k; ++j) REQUIRE(lv[(s * k + i) * k + j] == 0.0);
      const std::vector<double> bv = test::test_values(static_cast<size_t>(batch * k), -1.0, 1.0, 11);
      Tensor x = make(dtype, bv, {batch, k}).to(kGpu);
      ops::cholesky_solve_batched_(l, x);
      const std::vector<double> xv = values_of(x);
      double worst = 0.0;
      for (int64_t s = 0; s < batch; ++s)
        for (int64_t i = 0; i < k; ++i) {
          double r = bv[s * k + i], bound = 0.0;
          for (int64_t j = 0; j < k; ++j) {
            r -= av[(s * k + i) * k + j] * xv[s * k + j];
            double llt = 0.0;
            for (int64_t p = 0; p < k; ++p)
              llt += std::fabs(lv[(s * k + i) * k + p] * lv[(s * k + j) * k + p]);
            bound += llt * std::fabs(xv[s * k + j]);
          }
          bound *= 2.0 * gamma_n(static_cast<double>(3 * k + 1), test::unit_roundoff(dtype));
          worst = std::max(worst, std::fabs(r) / bound);
        }
      CHECK(worst <= 1.0);
    }
  }
  std::vector<double> values;
  for (int s = 0; s < 3; ++s)
    for (double v : test::random_spd(4, 10.0, 20 + s)) values.push_back(v);
  values[1 * 16 + 3 * 4 + 3] = -5.0;
  Tensor bad = test::make<float>(values, {3, 4, 4}).to(kGpu);
  CHECK_THROWS_WITH_AS(ops::cholesky_batched_(bad), doctest::Contains("matrix 1 of"), Error);
}

TEST_CASE("cuda cholesky_ and spd_inverse_: backward bound, n u kappa against Gauss-Jordan, symmetric") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (int64_t n : {1, 300, 600}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(n);
      const double kappa = dtype == DType::f32 ? 1e2 : 1e4;
      const Tensor a = dtype == DType::f32 ? test::random_spd_matrix<float>(n, kappa, 30 + n)
                                           : test::random_spd_matrix<double>(n, kappa, 30 + n);
      Tensor l = a.to(kGpu);
      ops::cholesky_(l);
      CHECK(worst_factor_ratio(values_of(a), values_of(l), 1, n, test::unit_roundoff(dtype)) <= 1.0);
      Tensor p = a.to(kGpu);
      ops::spd_inverse_(p);
      const std::vector<double> pv = values_of(p);
      CHECK(test::relative_difference(pv, values_of(ops::reference::inverse(a))) <=
            static_cast<double>(n) * test::unit_roundoff(dtype) * kappa + 1e-13);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < i; ++j) REQUIRE(pv[i * n + j] == pv[j * n + i]);
    }
  }
  std::vector<double> values = test::random_spd(50, 10.0, 40);
  values[20 * 50 + 20] = -100.0;
  Tensor bad = test::make<double>(values, {50, 50}).to(kGpu);
  CHECK_THROWS_WITH_AS(ops::spd_inverse_(bad), doctest::Contains("not positive definite"), Error);
}

TEST_CASE("cuda csr_row_gram_solve: the GPU and CPU solutions agree within the exact residual bound") {
  const ops::BinaryCsr x = random_csr(40, 300, 0.3, 50, kCpu);
  const ops::BinaryCsr x_gpu{x.offsets.to(kGpu), x.indices.to(kGpu), x.rows, x.cols};
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const int64_t k = 32;
    const Tensor table =
        make(dtype, test::test_values(static_cast<size_t>(300 * k), -0.5, 0.5, 51), {300, k});
    const Tensor base = make(dtype, test::random_spd(k, 10.0, 52), {k, k});  // eigenvalues >= 1
    const Tensor shift = make(dtype, test::test_values(40, 0.5, 2.0, 53), {40});
    Tensor cpu = Tensor::empty({40, k}, dtype);
    Tensor gpu = Tensor::empty({40, k}, dtype, kGpu);
    ops::csr_row_gram_solve(x, table, base, shift, cpu);
    ops::csr_row_gram_solve(x_gpu, table.to(kGpu), base.to(kGpu), shift.to(kGpu), gpu);
    const std::vector<double> a = values_of(ops::reference::csr_row_grams(x, table, base, shift));
    const std::vector<double> b = values_of(ops::reference::matmul(ops::reference::dense_from_csr(x), table));
    const std::vector<double> cv = values_of(cpu), gv = values_of(gpu);
    for (int64_t s = 0; s < 40; ++s) {
      auto residual = [&](const std::vector<double>& v) {
        double sum_sq = 0.0, slack_sq = 0.0;
        for (int64_t i = 0; i < k; ++i) {
          double r = b[s * k + i], magnitude = std::fabs(r);
          for (int64_t j = 0; j < k; ++j) {
            r -= a[(s * k + i) * k + j] * v[s * k + j];
            magnitude += std::fabs(a[(s * k + i) * k + j] * v[s * k + j]);
          }
          sum_sq += r * r;
          slack_sq += magnitude * magnitude;
        }
        return std::sqrt(sum_sq) + gamma_n(400.0, std::ldexp(1.0, -53)) * std::sqrt(slack_sq);
      };
      double distance_sq = 0.0;
      for (int64_t i = 0; i < k; ++i)
        distance_sq += (gv[s * k + i] - cv[s * k + i]) * (gv[s * k + i] - cv[s * k + i]);
      // ||A_s^-1||_2 <= 1 / (1 + 0.5): base's eigenvalues are >= 1 and the shift >= 0.5.
      CHECK(std::sqrt(distance_sq) <= (residual(gv) + residual(cv)) / 1.5);
    }
  }
}

TEST_CASE("cuda iALS: same start as the CPU, first half-sweep within the residual bound, loss never rises") {
  const data::ImplicitDataset d = test::random_implicit(60, 45, 0.2, 60);
  recsys::IalsConfig config;
  config.dim = 16;
  config.unobserved_weight = 0.3;
  config.regularization = 0.5;
  config.init_stddev = 0.3;
  config.dtype = DType::f64;
  recsys::Ials cpu(config, d, kCpu), gpu(config, d, kGpu);
  // Philox normals: the same draws on both devices (Box-Muller in f64 differs by at most an ulp or two).
  NCF_CHECK_CLOSE(values_of(gpu.item_factors()), values_of(cpu.item_factors()), 1e-15, 1e-13);
  cpu.solve_users();
  gpu.solve_users();
  // Each user's system has smallest eigenvalue >= lambda_u = 0.5 (nu = 0), so ||A^-1||_2 <= 2, and
  // ||A||_2 <= 0.5 + 1.3 ||H||_2^2 ~ 10 here. Inputs equal to ~1e-16 and backward-stable solves
  // (residuals ~ d u ||A|| ||w||) put the two solutions within ~2 * 10 * 16 * 2^-53 ||w|| ~ 1e-14 ||w||;
  // 1e-10 relative leaves a margin of 10^4 for the constants not measured.
  NCF_CHECK_CLOSE(values_of(gpu.user_factors()), values_of(cpu.user_factors()), 1e-12, 1e-10);
  double previous = gpu.loss();
  for (int half = 0; half < 6; ++half) {
    if (half % 2)
      gpu.solve_users();
    else
      gpu.solve_items();
    const double now = gpu.loss();
    CHECK(now <= previous * (1.0 + 1e-12));
    previous = now;
  }
  for (int half = 0; half < 6; ++half) (half % 2) ? cpu.solve_users() : cpu.solve_items();
  CHECK(std::fabs(gpu.loss() - cpu.loss()) <= 1e-9 * cpu.loss());
}

TEST_CASE("cuda EASE: the GPU's B matches the CPU's within twice the inverse's bound; zero diagonal") {
  const data::ImplicitDataset d = test::random_implicit(200, 120, 0.1, 70);
  const int64_t n = d.num_items;
  // kappa_2(G + lambda I) <= ||A||_F ||A^-1||_F, both from the f64 reference (Gauss-Jordan).
  Tensor a = ops::csr_gram(ops::make_binary_csr(d.train_offsets, d.train_item, d.num_items), DType::f64);
  ops::add_diagonal_(a, 10.0);
  const double kappa = test::frobenius(values_of(a)) * test::frobenius(values_of(ops::reference::inverse(a)));
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const recsys::EaseConfig config{10.0, dtype};
    const std::vector<double> gpu = values_of(recsys::ease_weights(d, config, kGpu));
    const std::vector<double> cpu = values_of(recsys::ease_weights(d, config, kCpu));
    for (int64_t j = 0; j < n; ++j) CHECK(gpu[j * n + j] == 0.0);
    // Each device's B is within 2 n u kappa of the exact one (tests/recsys/test_ease.cpp): twice that apart.
    CHECK(test::relative_difference(gpu, cpu) <=
          2.0 * 2.0 * static_cast<double>(n) * test::unit_roundoff(dtype) * kappa);
  }
}
