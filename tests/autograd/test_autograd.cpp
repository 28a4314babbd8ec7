// Every differentiable function against central finite differences in f64 (gradcheck), plus the
// engine's rules: accumulation over several uses, no-grad mode, sparse embedding gradients.
#include <random>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "tests/test_util.h"

using namespace ncf;
using ag::Variable;

namespace {
// Values in [lo, hi) from a fixed seed; `away_from_zero` keeps |x| >= 0.1 so ReLU's kink is not probed.
Variable random_variable(const Shape& shape, unsigned seed, bool requires_grad = true, double lo = -1.0,
                         double hi = 1.0, bool away_from_zero = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> values(static_cast<size_t>(shape.numel()));
  for (double& v : values) {
    v = dist(rng);
    if (away_from_zero && std::fabs(v) < 0.1) v += v < 0 ? -0.1 : 0.1;
  }
  return Variable(Tensor::from_vector(values, shape), requires_grad);
}

void check_gradients(const std::function<Variable(const std::vector<Variable>&)>& f,
                     const std::vector<Variable>& inputs) {
  const ag::GradcheckResult result = ag::gradcheck(f, inputs);
  INFO(result.first_failure);
  CHECK(result.ok);
}

// Weighted sum so that every output element gets a different upstream gradient.
Variable weighted_sum(const Variable& y) {
  std::vector<double> weights(static_cast<size_t>(y.value().numel()));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.3 + 0.1 * static_cast<double>(i % 7);
  return ag::sum(ag::mul(y, Variable(Tensor::from_vector(weights, y.shape()))));
}
}  // namespace

TEST_CASE("gradcheck: add, sub, mul with same shape, a broadcast row, a broadcast column and a scalar") {
  const Variable a = random_variable({3, 4}, 1), b = random_variable({3, 4}, 2);
  const Variable row = random_variable({4}, 3), scalar = random_variable({1}, 4);
  const Variable column = random_variable({3, 1}, 13);
  for (const Variable& other : {b, row, column, scalar}) {
    check_gradients([](auto& v) { return weighted_sum(ag::add(v[0], v[1])); }, {a, other});
    check_gradients([](auto& v) { return weighted_sum(ag::sub(v[0], v[1])); }, {a, other});
    check_gradients([](auto& v) { return weighted_sum(ag::mul(v[0], v[1])); }, {a, other});
  }
}

TEST_CASE("gradcheck: scale and the activations") {
  const Variable x = random_variable({5, 3}, 5, true, -3.0, 3.0, /*away_from_zero=*/true);
  check_gradients([](auto& v) { return weighted_sum(ag::scale(v[0], -2.5)); }, {x});
  check_gradients([](auto& v) { return weighted_sum(ag::relu(v[0])); }, {x});
  check_gradients([](auto& v) { return weighted_sum(ag::log_sigmoid(v[0])); }, {x});
}

TEST_CASE("gradcheck: reductions") {
  const Variable x = random_variable({4, 6}, 6);
  check_gradients([](auto& v) { return ag::sum(v[0]); }, {x});
  check_gradients([](auto& v) { return ag::mean(v[0]); }, {x});
  check_gradients([](auto& v) { return weighted_sum(ag::sum_cols(v[0])); }, {x});
}

TEST_CASE("gradcheck: linear") {
  const Variable x = random_variable({4, 3}, 9), w = random_variable({3, 2}, 10),
                 bias = random_variable({2}, 11);
  check_gradients([](auto& v) { return weighted_sum(ag::linear(v[0], v[1], v[2])); }, {x, w, bias});
}

TEST_CASE("gradcheck: grouped_linear and expand_groups, and grouped_linear is linear of the expanded input") {
  // 3 groups of 4 rows: per-group part (3, 2), per-row part (12, 5), weight (7, 6).
  const Variable u = random_variable({3, 2}, 21), v = random_variable({12, 5}, 22);
  const Variable w = random_variable({7, 6}, 23), b = random_variable({6}, 24);
  check_gradients([](auto& x) { return weighted_sum(ag::grouped_linear(x[0], x[1], x[2], x[3], 4)); },
                  {u, v, w, b});
  check_gradients([](auto& x) { return weighted_sum(ag::expand_groups(x[0], 4)); }, {u});
  ag::NoGradGuard no_grad;
  const std::vector<double> grouped = ag::grouped_linear(u, v, w, b, 4).value().to_vector<double>();
  const std::vector<double> plain =
      ag::linear(ag::concat_cols({ag::expand_groups(u, 4), v}), w, b).value().to_vector<double>();
  NCF_CHECK_CLOSE(grouped, plain, 1e-14, 1e-13);  // f64: the two orders of summation agree to rounding
  CHECK_THROWS_WITH_AS(ag::grouped_linear(u, v, w, b, 3), doctest::Contains("in groups of 3"), ncf::Error);
}

TEST_CASE("gradcheck: embedding with repeated indices, dense and row-sparse table gradients") {
  const Tensor indices = Tensor::from_vector<int32_t>({2, 0, 2, 4, 2}, {5});
  for (bool sparse : {false, true}) {
    Variable table = random_variable({6, 3}, 12);
    table.set_sparse_gradient(sparse);
    check_gradients([&](auto& v) { return weighted_sum(ag::embedding(v[0], indices)); }, {table});
  }
}

TEST_CASE("embedding's sparse gradient holds only the looked-up rows, summed, in index order") {
  Variable table(Tensor::from_vector<double>({0, 0, 1, 1, 2, 2, 3, 3}, {4, 2}), true);
  table.set_sparse_gradient(true);
  const Tensor indices = Tensor::from_vector<int32_t>({3, 1, 3}, {3});
  ag::sum(ag::embedding(table, indices)).backward();
  CHECK(!table.grad().defined());
  CHECK(table.sparse_grad().indices.to_vector<int32_t>() == std::vector<int32_t>{1, 3});
  CHECK(table.sparse_grad().rows.to_vector<double>() == std::vector<double>{1, 1, 2, 2});
  // A second lookup of the same table in the same graph merges into one row set.
  table.zero_grad();
  ag::sum(ag::add(ag::embedding(table, indices),
                  ag::embedding(table, Tensor::from_vector<int32_t>({0, 1, 2}, {3}))))
      .backward();
  CHECK(table.sparse_grad().indices.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2, 3});
  CHECK(table.sparse_grad().rows.to_vector<double>() == std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2});
}

TEST_CASE("gradcheck: concat_cols") {
  const Variable a = random_variable({3, 2}, 13), b = random_variable({3, 4}, 14),
                 c = random_variable({3, 1}, 15);
  check_gradients([](auto& v) { return weighted_sum(ag::concat_cols({v[0], v[1], v[2]})); }, {a, b, c});
}

TEST_CASE("gradcheck: losses, including large logits") {
  const Variable logits = random_variable({6, 1}, 16, true, -4.0, 4.0);
  const Tensor targets = Tensor::from_vector<double>({1, 0, 1, 1, 0, 0}, {6, 1});
  check_gradients([&](auto& v) { return ag::bce_with_logits(v[0], targets); }, {logits});
  check_gradients([&](auto& v) { return ag::mse(v[0], targets); }, {logits});
  // At |x| = 30 the loss is still finite and the gradient is (sigmoid(x) - y) / n.
  Variable big(Tensor::from_vector<double>({30.0, -30.0}, {2}), true);
  Variable loss = ag::bce_with_logits(big, Tensor::from_vector<double>({0.0, 1.0}, {2}));
  loss.backward();
  CHECK(loss.value().item<double>() == doctest::Approx(30.0).epsilon(1e-9));
  NCF_CHECK_CLOSE(big.grad().to_vector<double>(), (std::vector<double>{0.5, -0.5}), 1e-12, 1e-9);
}

TEST_CASE("gradcheck: dropout with a fixed mask") {
  const Variable x = random_variable({8, 4}, 17);
  check_gradients([](auto& v) { return weighted_sum(ag::dropout(v[0], 0.3, 99, 5)); }, {x});
}

TEST_CASE("a variable used twice receives the sum of both gradients") {
  Variable x(Tensor::from_vector<double>({1.0, 2.0, 3.0}, {3}), true);
  ag::sum(ag::add(ag::mul(x, x), x)).backward();  // d/dx (x^2 + x) = 2x + 1
  CHECK(x.grad().to_vector<double>() == std::vector<double>{3.0, 5.0, 7.0});
  ag::sum(x).backward();  // leaves accumulate across backward() calls until zero_grad()
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4.0, 6.0, 8.0});
  x.zero_grad();
  CHECK(!x.has_grad());
}

TEST_CASE("no-grad mode records nothing; backward needs a scalar that requires a gradient") {
  Variable x(Tensor::from_vector<double>({1.0, 2.0}, {2}), true);
  {
    ag::NoGradGuard guard;
    CHECK(!ag::grad_enabled());
    CHECK(!ag::mul(x, x).requires_grad());
  }
  CHECK(ag::grad_enabled());
  CHECK_THROWS_WITH_AS(ag::mul(x, x).backward(), doctest::Contains("scalar"), Error);
  Variable constant(Tensor::from_vector<double>({1.0}, {1}), false);
  CHECK_THROWS_AS(ag::sum(constant).backward(), Error);
}

TEST_CASE("mismatched shapes name both shapes") {
  Variable a(Tensor::zeros({2, 3}, DType::f64), true), b(Tensor::zeros({3, 2}, DType::f64), true);
  try {
    ag::add(a, b);
    FAIL("add of (2, 3) and (3, 2) did not throw");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(2, 3)") != std::string::npos);
    CHECK(message.find("(3, 2)") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(ag::linear(a, a, Variable(Tensor::zeros({3}, DType::f64))),
                       doctest::Contains("(2, 3)"), Error);
}
