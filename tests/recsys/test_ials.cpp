// iALS (recsys/ials.h) on small random data sets, against formulations written independently of
// the Gramian trick:
//   - the loss is compared with a double loop over every (user, item) pair;
//   - each solved factor must satisfy the normal equations of the dense weighted least-squares
//     problem of Hu, Koren & Volinsky: confidence c_ui = 1 + alpha0 and preference p_ui = 1/(1 + alpha0)
//     on a positive, c_ui = alpha0 and p_ui = 0 elsewhere (the same quadratic as ials.h's loss),
//       (sum_i c_ui h_i h_i^T + lambda_u I) w_u = sum_i c_ui p_ui h_i,
//     built by looping over all items. The residual is held to the componentwise rounding bound
//     |r| <= 2 gamma_m (|A| |w| + |b|), m = |I_u| + 3d + 3 (assembly of |I_u| + 2 terms, Cholesky
//     solve of a d x d system, Higham Thm 10.4);
//   - every half-sweep minimises the loss exactly over one factor matrix, so the loss never rises.
//     With f32 factors the minimiser is rounded: w^ = w* + delta raises L by delta^T A delta, second
//     order in the rounding, far below the 1e-9 relative slack allowed (f64: 1e-12).
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "recsys/ials.h"
#include "tests/recsys/random_implicit.h"
#include "tests/test_util.h"

using namespace ncf;
using recsys::Ials;
using recsys::IalsConfig;
using test::values_of;

namespace {

double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }
double unit_roundoff(DType d) { return d == DType::f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53); }

IalsConfig small_config(DType dtype, double nu) {
  IalsConfig c;
  c.dim = 8;
  c.unobserved_weight = 0.3;
  c.regularization = 0.05;
  c.frequency_exponent = nu;
  c.init_stddev = 0.5;
  c.seed = 5;
  c.dtype = dtype;
  return c;
}

// lambda (count + alpha0 * other)^nu, written out again.
double regularization_of(int64_t count, int64_t other, const IalsConfig& c) {
  return c.regularization *
         std::pow(static_cast<double>(count) + c.unobserved_weight * other, c.frequency_exponent);
}

// The loss by a double loop over every pair (no Gramian).
double naive_loss(const data::ImplicitDataset& d, const std::vector<double>& w, const std::vector<double>& h,
                  const IalsConfig& c) {
  const std::vector<double> x = test::dense_training_matrix(d);
  const int64_t k = c.dim;
  std::vector<int64_t> item_count(static_cast<size_t>(d.num_items), 0);
  for (int32_t i : d.train_item) ++item_count[i];
  double loss = 0.0;
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int32_t i = 0; i < d.num_items; ++i) {
      double s = 0.0;
      for (int64_t f = 0; f < k; ++f) s += w[u * k + f] * h[i * k + f];
      const bool positive = x[static_cast<size_t>(u) * d.num_items + i] != 0.0;
      loss += (positive ? (1.0 - s) * (1.0 - s) : 0.0) + c.unobserved_weight * s * s;
    }
  for (int32_t u = 0; u < d.num_users; ++u) {
    double norm = 0.0;
    for (int64_t f = 0; f < k; ++f) norm += w[u * k + f] * w[u * k + f];
    loss += regularization_of(d.user_count(u), d.num_items, c) * norm;
  }
  for (int32_t i = 0; i < d.num_items; ++i) {
    double norm = 0.0;
    for (int64_t f = 0; f < k; ++f) norm += h[i * k + f] * h[i * k + f];
    loss += regularization_of(item_count[i], d.num_users, c) * norm;
  }
  return loss;
}

// Checks that each row r of `solved` satisfies the dense confidence-weighted normal equations given
// `fixed`. positive(r, j) says whether (r, j) is a training positive; `other` = number of columns.
// Returns the worst |r_i| / bound_i.
template <class Positive>
double worst_normal_equation_ratio(const std::vector<double>& solved, const std::vector<double>& fixed,
                                   int64_t rows, int64_t other, int64_t k, const IalsConfig& c,
                                   Positive positive, double u) {
  const double alpha0 = c.unobserved_weight;
  double worst = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> a(static_cast<size_t>(k * k), 0.0), a_abs(static_cast<size_t>(k * k), 0.0),
        b(static_cast<size_t>(k), 0.0);
    int64_t count = 0;
    for (int64_t j = 0; j < other; ++j) {
      const bool pos = positive(r, j);
      count += pos;
      const double confidence = pos ? 1.0 + alpha0 : alpha0, preference = pos ? 1.0 / (1.0 + alpha0) : 0.0;
      const double* y = fixed.data() + j * k;
      for (int64_t p = 0; p < k; ++p) {
        b[p] += confidence * preference * y[p];
        for (int64_t q = 0; q < k; ++q) {
          a[p * k + q] += confidence * y[p] * y[q];
          a_abs[p * k + q] += std::fabs(confidence * y[p] * y[q]);
        }
      }
    }
    const double reg = regularization_of(count, other, c);
    for (int64_t p = 0; p < k; ++p) {
      a[p * k + p] += reg;
      a_abs[p * k + p] += reg;
    }
    const double* x = solved.data() + r * k;
    const double m = static_cast<double>(count + 3 * k + 3);
    for (int64_t p = 0; p < k; ++p) {
      double ax = 0.0, magnitude = std::fabs(b[p]);
      for (int64_t q = 0; q < k; ++q) {
        ax += a[p * k + q] * x[q];
        magnitude += a_abs[p * k + q] * std::fabs(x[q]);
      }
      const double bound = 2.0 * gamma_n(m, u) * magnitude + 1e-300;
      worst = std::max(worst, std::fabs(b[p] - ax) / bound);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("iALS: the loss never increases, half-sweep after half-sweep (f32, f64; nu 0 and 1)") {
  const data::ImplicitDataset d = test::random_implicit(40, 30, 0.25, 3);
  for (DType dtype : {DType::f64, DType::f32}) {
    for (double nu : {0.0, 1.0}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(nu);
      Ials model(small_config(dtype, nu), d, Device::cpu());
      const double slack = dtype == DType::f64 ? 1e-12 : 1e-9;
      double previous = model.loss();
      const double initial = previous;
      for (int half = 0; half < 12; ++half) {
        if (half % 2 == 0)
          model.solve_users();
        else
          model.solve_items();
        const double now = model.loss();
        CHECK(now <= previous * (1.0 + slack));
        previous = now;
      }
      // ...and it does go down: from random factors to a fit far better than the start.
      CHECK(previous < 0.5 * initial);
      std::printf("iALS %s nu=%.0f: loss %.6f -> %.6f after 6 sweeps\n", dtype_name(dtype), nu, initial,
                  previous);
    }
  }
}

TEST_CASE("iALS: loss() equals a double loop over every pair") {
  const data::ImplicitDataset d = test::random_implicit(25, 19, 0.3, 4);
  for (double nu : {0.0, 0.5, 1.0}) {
    CAPTURE(nu);
    Ials model(small_config(DType::f64, nu), d, Device::cpu());
    model.sweep();  // any factors would do; fitted ones have observed terms of both signs
    const double want =
        naive_loss(d, values_of(model.user_factors()), values_of(model.item_factors()), model.config());
    // Two f64 evaluations of the same ~500-term sums: they agree far below 1e-12 relative.
    CHECK(std::fabs(model.loss() - want) <= 1e-12 * want);
  }
}

TEST_CASE("iALS: every solved factor satisfies the dense confidence-weighted normal equations") {
  const data::ImplicitDataset d = test::random_implicit(40, 30, 0.25, 6);
  const std::vector<double> x = test::dense_training_matrix(d);
  for (DType dtype : {DType::f64, DType::f32}) {
    for (double nu : {0.0, 1.0}) {
      for (int64_t dim : {8, 200}) {  // 200 > items: wide systems, many register tiles, lambda keeps them SPD
        CAPTURE(std::string(dtype_name(dtype)));
        CAPTURE(nu);
        CAPTURE(dim);
        IalsConfig config = small_config(dtype, nu);
        config.dim = dim;
        Ials model(config, d, Device::cpu());
        model.solve_users();
        const std::vector<double> w = values_of(model.user_factors()), h = values_of(model.item_factors());
        const double u = unit_roundoff(dtype);
        const double users_ratio = worst_normal_equation_ratio(
            w, h, d.num_users, d.num_items, dim, config,
            [&](int64_t r, int64_t j) { return x[r * d.num_items + j] != 0.0; }, u);
        CHECK(users_ratio <= 1.0);
        model.solve_items();
        const std::vector<double> w2 = values_of(model.user_factors()), h2 = values_of(model.item_factors());
        const double items_ratio = worst_normal_equation_ratio(
            h2, w2, d.num_items, d.num_users, dim, config,
            [&](int64_t r, int64_t j) { return x[j * d.num_items + r] != 0.0; }, u);
        CHECK(items_ratio <= 1.0);
        std::printf(
            "iALS normal equations %s nu=%.0f d=%3lld: residual at most %.3f (users), %.3f (items) of the "
            "bound\n",
            dtype_name(dtype), nu, static_cast<long long>(dim), users_ratio, items_ratio);
        // The user and the item without any training positive get exactly zero factors.
        for (int64_t f = 0; f < dim; ++f) {
          CHECK(w[(d.num_users - 1) * dim + f] == 0.0);
          CHECK(h2[(d.num_items - 1) * dim + f] == 0.0);
        }
      }
    }
  }
}

TEST_CASE("iALS: the check can fail: a perturbed factor breaks the normal equations") {
  const data::ImplicitDataset d = test::random_implicit(20, 15, 0.3, 8);
  const std::vector<double> x = test::dense_training_matrix(d);
  IalsConfig config = small_config(DType::f32, 0.0);
  Ials model(config, d, Device::cpu());
  model.solve_users();
  std::vector<double> w = values_of(model.user_factors());
  w[3 * config.dim + 2] *= 1.0001;
  const double ratio = worst_normal_equation_ratio(
      w, values_of(model.item_factors()), d.num_users, d.num_items, config.dim, config,
      [&](int64_t r, int64_t j) { return x[r * d.num_items + j] != 0.0; }, unit_roundoff(DType::f32));
  CHECK(ratio > 1.0);
}

TEST_CASE("iALS: the same bits whatever the thread count") {
  const data::ImplicitDataset d = test::random_implicit(300, 120, 0.1, 9);
  IalsConfig config = small_config(DType::f32, 1.0);
  config.dim = 24;
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> users, items;
  std::vector<double> losses;
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    Ials model(config, d, Device::cpu());
    model.sweep();
    model.sweep();
    users.push_back(values_of(model.user_factors()));
    items.push_back(values_of(model.item_factors()));
    losses.push_back(model.loss());
  }
  omp_set_num_threads(threads);
  CHECK(users[0] == users[1]);
  CHECK(users[0] == users[2]);
  CHECK(items[0] == items[1]);
  CHECK(items[0] == items[2]);
  CHECK(losses[0] == losses[1]);
  CHECK(losses[0] == losses[2]);
}

TEST_CASE("iALS: the initial factors are Philox normals of the configured spread") {
  const data::ImplicitDataset d = test::random_implicit(200, 150, 0.1, 10);
  IalsConfig config = small_config(DType::f64, 0.0);
  config.init_stddev = 0.2;
  config.dim = 16;
  const Ials model(config, d, Device::cpu());
  const std::vector<double> w = values_of(model.user_factors());
  double sum = 0.0, sum_sq = 0.0;
  for (double v : w) {
    sum += v;
    sum_sq += v * v;
  }
  const double n = static_cast<double>(w.size()), mean = sum / n,
               stddev = std::sqrt(sum_sq / n - mean * mean);
  // 3200 draws: the sample mean's standard error is 0.2 / sqrt(3200) = 0.0035, the stddev's ~0.0025.
  CHECK(std::fabs(mean) < 0.015);
  CHECK(std::fabs(stddev - 0.2) < 0.01);
  // Users and items draw from different streams: the items' first rows are not the users'.
  const std::vector<double> h = values_of(model.item_factors());
  CHECK(std::vector<double>(h.begin(), h.begin() + 16) != std::vector<double>(w.begin(), w.begin() + 16));
  const Ials same(config, d, Device::cpu());
  CHECK(values_of(same.user_factors()) == w);  // a pure function of the seed
}

TEST_CASE("iALS: invalid settings are named") {
  const data::ImplicitDataset d = test::random_implicit(5, 5, 0.5, 11);
  IalsConfig c = small_config(DType::f32, 0.0);
  c.dim = 0;
  CHECK_THROWS_WITH_AS(Ials(c, d, Device::cpu()), doctest::Contains("dim must be >= 1, got 0"), Error);
  c = small_config(DType::f32, 0.0);
  c.unobserved_weight = -1.0;
  CHECK_THROWS_WITH_AS(Ials(c, d, Device::cpu()), doctest::Contains("alpha0"), Error);
  c = small_config(DType::f32, 0.0);
  c.regularization = -0.5;
  CHECK_THROWS_WITH_AS(Ials(c, d, Device::cpu()), doctest::Contains("lambda"), Error);
  c = small_config(DType::f32, 0.0);
  c.dtype = DType::i32;
  CHECK_THROWS_WITH_AS(Ials(c, d, Device::cpu()), doctest::Contains("i32"), Error);
  // alpha0 = lambda = 0 leaves the system of the user without positives singular: named, not NaN.
  c = small_config(DType::f64, 0.0);
  c.unobserved_weight = 0.0;
  c.regularization = 0.0;
  Ials singular(c, d, Device::cpu());
  CHECK_THROWS_WITH_AS(singular.solve_users(), doctest::Contains("not positive definite"), Error);
}
