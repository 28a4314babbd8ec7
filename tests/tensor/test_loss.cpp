// Losses on the CPU against independent references: BCE written as the textbook
// -(y log s + (1-y) log(1-s)) in long double (for moderate logits, where that form is accurate),
// closed forms at extreme logits, and central finite differences for the gradients.
// Tolerances: f64 within 1e-12 relative; f32 within 1e-5 relative (float terms, double sum).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/ops/loss.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::test;

namespace {

std::vector<double> labels(size_t n, uint64_t seed) {
  auto u = test_values(n, 0.0, 1.0, seed);
  for (double& v : u) v = v < 0.3 ? 1.0 : 0.0;
  return u;
}

double textbook_bce(const std::vector<double>& x, const std::vector<double>& y) {
  long double total = 0.0L;
  for (size_t i = 0; i < x.size(); ++i) {
    const long double s = 1.0L / (1.0L + std::exp(-static_cast<long double>(x[i])));
    total += -(y[i] * std::log(s) + (1.0L - y[i]) * std::log(1.0L - s));
  }
  return static_cast<double>(total / x.size());
}

}  // namespace

TEST_CASE("bce_with_logits matches the textbook formula for moderate logits") {
  for (size_t n : {size_t{6}, size_t{16384}, size_t{100000}}) {
    CAPTURE(n);
    const auto x = test_values(n, -8.0, 8.0, n);
    const auto y = labels(n, n + 1);
    const double want = textbook_bce(x, y);
    const Tensor loss = ops::bce_with_logits(make<double>(x, Shape{static_cast<int64_t>(n)}),
                                             make<double>(y, Shape{static_cast<int64_t>(n)}));
    CHECK(loss.shape() == Shape{1});
    CHECK(loss.item<double>() == doctest::Approx(want).epsilon(1e-12));
    std::vector<double> xf;  // the float inputs the f32 op sees
    for (double v : x) xf.push_back(static_cast<float>(v));
    const Tensor loss_f = ops::bce_with_logits(make<float>(x, Shape{static_cast<int64_t>(n) / 2, 2}),
                                               make<float>(y, Shape{static_cast<int64_t>(n) / 2, 2}));
    CHECK(loss_f.dtype() == DType::f32);
    CHECK(loss_f.item<float>() == doctest::Approx(textbook_bce(xf, y)).epsilon(1e-5));
  }
}

TEST_CASE("bce_with_logits is finite and exact at logits of +-100 and +-1e4") {
  // loss(x, y) = max(x,0) - x y + log1p(exp(-|x|)): for |x| >= 100 the log term is below 4e-44.
  const std::vector<double> x = {100.0, 100.0, -100.0, -100.0, 1e4, 1e4, -1e4, -1e4};
  const std::vector<double> y = {1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0};
  const std::vector<double> per_element = {0.0, 100.0, 100.0, 0.0, 0.0, 1e4, 1e4, 0.0};
  for (size_t i = 0; i < x.size(); ++i) {
    CAPTURE(i);
    for (DType dtype : {DType::f32, DType::f64}) {
      const Tensor xi = dtype == DType::f32 ? make<float>({x[i]}, Shape{1}) : make<double>({x[i]}, Shape{1});
      const Tensor yi = dtype == DType::f32 ? make<float>({y[i]}, Shape{1}) : make<double>({y[i]}, Shape{1});
      const Tensor one = dtype == DType::f32 ? make<float>({1.0}, Shape{1}) : make<double>({1.0}, Shape{1});
      const Tensor loss = ops::bce_with_logits(xi, yi);
      const Tensor grad = ops::bce_with_logits_backward(xi, yi, one);
      const double l = dtype == DType::f32 ? loss.item<float>() : loss.item<double>();
      const double g = dtype == DType::f32 ? grad.item<float>() : grad.item<double>();
      CHECK(std::isfinite(l));
      CHECK(std::isfinite(g));
      CHECK(l == doctest::Approx(per_element[i]).epsilon(1e-7));
      // sigmoid(x) - y: 0 or +-1 here, to within exp(-100).
      const double want_g = (x[i] > 0 ? 1.0 : 0.0) - y[i];
      CHECK(std::fabs(g - want_g) < 1e-30);
    }
  }
}

TEST_CASE("bce_with_logits_backward: (sigmoid(x) - y) / n * grad_out, and finite differences") {
  const size_t n = 50;
  const auto x = test_values(n, -5.0, 5.0, 3);
  const auto y = labels(n, 4);
  const Tensor xt = make<double>(x, Shape{5, 10});
  const Tensor yt = make<double>(y, Shape{5, 10});
  const double grad_out = 2.5;
  const Tensor grad = ops::bce_with_logits_backward(xt, yt, make<double>({grad_out}, Shape{1}));
  CHECK(grad.shape() == Shape{5, 10});
  const auto g = grad.to_vector<double>();
  std::vector<double> want;
  for (size_t i = 0; i < n; ++i) want.push_back((1.0 / (1.0 + std::exp(-x[i])) - y[i]) / n * grad_out);
  NCF_CHECK_CLOSE(g, want, 1e-15, 1e-12);
  // Central differences of grad_out * loss: an independent check of the formula itself.
  const double h = 1e-6;
  for (size_t i = 0; i < n; i += 7) {
    auto plus = x, minus = x;
    plus[i] += h;
    minus[i] -= h;
    const double numeric = grad_out * (textbook_bce(plus, y) - textbook_bce(minus, y)) / (2 * h);
    CHECK(g[i] == doctest::Approx(numeric).epsilon(1e-6));
  }
  // f32 within float rounding.
  const Tensor gf = ops::bce_with_logits_backward(make<float>(x, Shape{5, 10}), make<float>(y, Shape{5, 10}),
                                                  make<float>({grad_out}, Shape{1}));
  NCF_CHECK_CLOSE(gf.to_vector<float>(), want, 1e-7, 1e-5);
}

TEST_CASE("mse and its gradient") {
  const size_t n = 40000;
  const auto p = test_values(n, -3.0, 3.0, 5);
  const auto t = test_values(n, -3.0, 3.0, 6);
  long double total = 0.0L;
  std::vector<double> want_grad;
  for (size_t i = 0; i < n; ++i) {
    total += (static_cast<long double>(p[i]) - t[i]) * (static_cast<long double>(p[i]) - t[i]);
    want_grad.push_back(2.0 * (p[i] - t[i]) / n * -0.5);
  }
  const Tensor pt = make<double>(p, Shape{static_cast<int64_t>(n)});
  const Tensor tt = make<double>(t, Shape{static_cast<int64_t>(n)});
  CHECK(ops::mse(pt, tt).item<double>() == doctest::Approx(static_cast<double>(total / n)).epsilon(1e-12));
  NCF_CHECK_CLOSE(ops::mse_backward(pt, tt, make<double>({-0.5}, Shape{1})).to_vector<double>(), want_grad,
                  1e-18, 1e-12);
  const Tensor pf = make<float>(p, Shape{static_cast<int64_t>(n)});
  const Tensor tf = make<float>(t, Shape{static_cast<int64_t>(n)});
  CHECK(ops::mse(pf, tf).item<float>() == doctest::Approx(static_cast<double>(total / n)).epsilon(1e-5));
  NCF_CHECK_CLOSE(ops::mse_backward(pf, tf, make<float>({-0.5}, Shape{1})).to_vector<float>(), want_grad,
                  1e-9, 1e-5);
}

TEST_CASE("losses reject mismatched inputs, naming both shapes") {
  const Tensor x = Tensor::zeros(Shape{4, 2});
  try {
    ops::bce_with_logits(x, Tensor::zeros(Shape{8}));
    FAIL("no error");
  } catch (const ncf::Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(4, 2)") != std::string::npos);
    CHECK(message.find("(8,)") != std::string::npos);
  }
  CHECK_THROWS_AS(ops::mse(x, Tensor::zeros(Shape{4, 2}, DType::f64)), ncf::Error);
  CHECK_THROWS_AS(ops::bce_with_logits(Tensor::zeros(Shape{0}), Tensor::zeros(Shape{0})), ncf::Error);
  CHECK_THROWS_AS(ops::bce_with_logits_backward(x, x, Tensor::zeros(Shape{2})), ncf::Error);
  CHECK_THROWS_AS(ops::mse_backward(x, x, Tensor::zeros(Shape{1}, DType::f64)), ncf::Error);
}
