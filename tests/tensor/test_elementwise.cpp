// Element-wise ops on the CPU against plain loops in double (or long double) written here, with
// their own formulas. Tolerances: f64 within 1e-13 relative; f32 within 2e-6 relative + 1e-6
// absolute (a few ulps of the float result, since f32 math runs in single precision).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/ops/elementwise.h"
#include "tensor/philox.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::test;

namespace {

// The inputs as the op saw them (rounded to T), so references start from the same numbers.
template <class T>
std::vector<double> rounded(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values) out.push_back(static_cast<double>(static_cast<T>(v)));
  return out;
}

double reference_unary(ops::UnaryOp op, double x) {
  const long double v = x;
  switch (op) {
    case ops::UnaryOp::relu:
      return x > 0 ? x : 0.0;
    case ops::UnaryOp::log_sigmoid:
      return static_cast<double>(-std::log1p(std::exp(-v)));
  }
  return 0.0;
}

const std::vector<ops::UnaryOp> kAllUnary = {ops::UnaryOp::relu, ops::UnaryOp::log_sigmoid};

template <class T>
void check_unary_ops(size_t n) {
  const double atol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  const double rtol = std::is_same_v<T, float> ? 2e-6 : 1e-13;
  for (ops::UnaryOp op : kAllUnary) {
    const auto raw = test_values(n, -8.0, 8.0);
    const auto x = rounded<T>(raw);
    std::vector<double> want;
    for (double v : x) want.push_back(reference_unary(op, v));
    const Tensor out = ops::unary(op, make<T>(raw, Shape{static_cast<int64_t>(n)}));
    CAPTURE(static_cast<int>(op));
    CHECK(out.shape() == Shape{static_cast<int64_t>(n)});
    CHECK(out.dtype() == ncf::dtype_of<T>);
    NCF_CHECK_CLOSE(values_of(out), want, atol, rtol);
  }
}

}  // namespace

TEST_CASE("unary ops match long-double references (f32, f64; small and multi-threaded sizes)") {
  check_unary_ops<float>(1000);
  check_unary_ops<double>(1000);
  check_unary_ops<float>(100003);  // above the OpenMP threshold
  check_unary_ops<double>(100003);
}

TEST_CASE("log_sigmoid stays finite and correct at extreme inputs") {
  const std::vector<double> x = {-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4};
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor in = dtype == DType::f32 ? make<float>(x, Shape{7}) : make<double>(x, Shape{7});
    const auto ls = values_of(ops::log_sigmoid(in));
    for (size_t i = 0; i < x.size(); ++i) {
      CAPTURE(x[i]);
      CHECK(std::isfinite(ls[i]));
    }
    CHECK(ls[3] == doctest::Approx(-std::log(2.0)).epsilon(1e-7));
    CHECK(ls[0] == doctest::Approx(-1e4).epsilon(1e-7));  // log(sigmoid(x)) ~ x for very negative x
    CHECK(ls[1] == doctest::Approx(-100.0).epsilon(1e-7));
    CHECK(std::fabs(ls[5]) < 1e-30);  // log(sigmoid(100)) = -exp(-100) ~ -3.7e-44 (0 in f32)
    CHECK(ls[6] == 0.0);
  }
}

TEST_CASE("binary ops: same shape, row broadcast (cols,) and (1, cols), column broadcast (rows, 1), scalar") {
  const int64_t rows = 37, cols = 13;
  const auto a_raw = test_values(rows * cols, -3.0, 3.0, 1);
  const auto row_raw = test_values(cols, 0.5, 2.0, 2);
  const auto column_raw = test_values(rows, 0.5, 2.0, 8);
  const auto full_raw = test_values(rows * cols, 0.5, 2.0, 3);
  auto reference = [](ops::BinaryOp op, double a, double b) {
    switch (op) {
      case ops::BinaryOp::add:
        return a + b;
      case ops::BinaryOp::sub:
        return a - b;
      case ops::BinaryOp::mul:
        return a * b;
    }
    return 0.0;
  };
  for (ops::BinaryOp op : {ops::BinaryOp::add, ops::BinaryOp::sub, ops::BinaryOp::mul}) {
    CAPTURE(static_cast<int>(op));
    // f64: exact up to one rounding, so the reference (one rounding in double) agrees to 1e-15.
    const Tensor a = make<double>(a_raw, Shape{rows, cols});
    std::vector<double> want_same, want_row, want_column, want_scalar;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const double av = a_raw[r * cols + c];
        want_same.push_back(reference(op, av, full_raw[r * cols + c]));
        want_row.push_back(reference(op, av, row_raw[c]));
        want_column.push_back(reference(op, av, column_raw[r]));
        want_scalar.push_back(reference(op, av, 1.75));
      }
    NCF_CHECK_CLOSE(values_of(ops::binary(op, a, make<double>(full_raw, Shape{rows, cols}))), want_same, 0,
                    1e-15);
    NCF_CHECK_CLOSE(values_of(ops::binary(op, a, make<double>(row_raw, Shape{cols}))), want_row, 0, 1e-15);
    NCF_CHECK_CLOSE(values_of(ops::binary(op, a, make<double>(row_raw, Shape{1, cols}))), want_row, 0, 1e-15);
    NCF_CHECK_CLOSE(values_of(ops::binary(op, a, make<double>(column_raw, Shape{rows, 1}))), want_column, 0,
                    1e-15);
    NCF_CHECK_CLOSE(values_of(ops::binary(op, a, make<double>({1.75}, Shape{1}))), want_scalar, 0, 1e-15);
    // f32: the same, within float rounding.
    const Tensor af = make<float>(a_raw, Shape{rows, cols});
    const Tensor row_f = make<float>(row_raw, Shape{cols});
    std::vector<double> want_f;
    const auto a_r = rounded<float>(a_raw), row_r = rounded<float>(row_raw);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) want_f.push_back(reference(op, a_r[r * cols + c], row_r[c]));
    NCF_CHECK_CLOSE(values_of(ops::binary(op, af, row_f)), want_f, 1e-7, 1e-6);
  }
  // A large row broadcast goes through the threaded path.
  const int64_t big_rows = 4000, big_cols = 64;
  const auto big = test_values(big_rows * big_cols, -1.0, 1.0, 4);
  const auto bias = test_values(big_cols, -1.0, 1.0, 5);
  std::vector<double> want_big;
  for (int64_t i = 0; i < big_rows * big_cols; ++i) want_big.push_back(big[i] + bias[i % big_cols]);
  NCF_CHECK_CLOSE(
      values_of(ops::add(make<double>(big, Shape{big_rows, big_cols}), make<double>(bias, Shape{big_cols}))),
      want_big, 0, 1e-15);
  // And a large column broadcast.
  const auto per_row = test_values(big_rows, -1.0, 1.0, 9);
  std::vector<double> want_column_big;
  for (int64_t i = 0; i < big_rows * big_cols; ++i) want_column_big.push_back(big[i] * per_row[i / big_cols]);
  NCF_CHECK_CLOSE(values_of(ops::mul(make<double>(big, Shape{big_rows, big_cols}),
                                     make<double>(per_row, Shape{big_rows, 1}))),
                  want_column_big, 0, 1e-15);
}

TEST_CASE("binary ops reject shapes that do not broadcast, naming both shapes") {
  const Tensor a = Tensor::zeros(Shape{4, 3});
  for (const Shape& bad :
       {Shape{4}, Shape{3, 4}, Shape{2, 3}, Shape{3, 1}, Shape{4, 2}, Shape{4, 1, 1}, Shape{1, 1, 3}}) {
    try {
      ops::add(a, Tensor::zeros(bad));
      FAIL("no error for b " << bad);
    } catch (const ncf::Error& e) {
      const std::string message = e.what();
      CHECK(message.find("(4, 3)") != std::string::npos);
      CHECK(message.find(bad.str()) != std::string::npos);
    }
  }
  CHECK_THROWS_AS(ops::add(a, Tensor::zeros(Shape{4, 3}, DType::f64)), ncf::Error);  // dtypes differ
  CHECK_THROWS_AS(ops::relu(Tensor::zeros(Shape{3}, DType::i32)), ncf::Error);       // not a float
  CHECK_THROWS_AS(ops::add(Tensor::zeros(Shape{3}), a), ncf::Error);                 // only b broadcasts
}

TEST_CASE("scale and axpy_") {
  const auto x_raw = test_values(50000, -2.0, 2.0, 6);
  const auto y_raw = test_values(50000, -2.0, 2.0, 7);
  const Tensor x = make<double>(x_raw, Shape{500, 100});
  std::vector<double> want_scale, want_axpy;
  for (size_t i = 0; i < x_raw.size(); ++i) {
    want_scale.push_back(-0.37 * x_raw[i]);
    want_axpy.push_back(y_raw[i] + 0.25 * x_raw[i]);
  }
  NCF_CHECK_CLOSE(values_of(ops::scale(x, -0.37)), want_scale, 0, 1e-15);
  Tensor y = make<double>(y_raw, Shape{500, 100});
  ops::axpy_(y, 0.25, x);
  NCF_CHECK_CLOSE(values_of(y), want_axpy, 1e-15, 1e-15);

  Tensor yf = make<float>(y_raw, Shape{500, 100});
  ops::axpy_(yf, 0.25, make<float>(x_raw, Shape{500, 100}));
  NCF_CHECK_CLOSE(values_of(yf), want_axpy, 1e-6, 1e-6);
  CHECK_THROWS_AS(ops::axpy_(y, 1.0, make<double>(x_raw, Shape{100, 500})), ncf::Error);
}

TEST_CASE("fill_ and cast for every dtype") {
  Tensor f = Tensor::empty(Shape{3, 5});
  ops::fill_(f, 1.5);
  for (float v : f.to_vector<float>()) CHECK(v == 1.5f);
  Tensor d = Tensor::empty(Shape{40000}, DType::f64);
  ops::fill_(d, -2.25);
  for (double v : d.to_vector<double>()) CHECK(v == -2.25);
  Tensor i = Tensor::empty(Shape{7}, DType::i32);
  ops::fill_(i, 42);
  for (int32_t v : i.to_vector<int32_t>()) CHECK(v == 42);
  Tensor u = Tensor::empty(Shape{9}, DType::u8);
  ops::fill_(u, 1);
  for (uint8_t v : u.to_vector<uint8_t>()) CHECK(v == 1);

  const Tensor x = Tensor::from_vector<double>({-1.75, -0.5, 0.0, 2.9, 1e3}, Shape{5});
  CHECK(ops::cast(x, DType::i32).to_vector<int32_t>() == std::vector<int32_t>{-1, 0, 0, 2, 1000});
  CHECK(ops::cast(x, DType::f32).to_vector<float>() == std::vector<float>{-1.75f, -0.5f, 0.0f, 2.9f, 1e3f});
  const Tensor ids = Tensor::from_vector<int32_t>({3, -4, 7}, Shape{3});
  CHECK(ops::cast(ids, DType::f64).to_vector<double>() == std::vector<double>{3.0, -4.0, 7.0});
  const Tensor mask = Tensor::from_vector<uint8_t>({0, 1, 1}, Shape{1, 3});
  const Tensor mask_f = ops::cast(mask, DType::f32);
  CHECK(mask_f.shape() == Shape{1, 3});
  CHECK(mask_f.to_vector<float>() == std::vector<float>{0.0f, 1.0f, 1.0f});
}

TEST_CASE("activation backwards") {
  const auto g_raw = test_values(2000, -1.0, 1.0, 8);
  const auto x_raw = test_values(2000, -6.0, 6.0, 9);
  const Tensor g = make<double>(g_raw, Shape{2000});
  const Tensor x = make<double>(x_raw, Shape{2000});
  std::vector<double> want_relu, want_logsig;
  for (size_t i = 0; i < g_raw.size(); ++i) {
    want_relu.push_back(x_raw[i] > 0 ? g_raw[i] : 0.0);
    const double s = 1.0 / (1.0 + std::exp(-x_raw[i]));
    want_logsig.push_back(g_raw[i] * (1.0 - s));  // d/dx log(sigmoid(x)) = 1 - sigmoid(x)
  }
  NCF_CHECK_CLOSE(values_of(ops::relu_backward(g, ops::relu(x))), want_relu, 0, 0);
  NCF_CHECK_CLOSE(values_of(ops::log_sigmoid_backward(g, x)), want_logsig, 1e-15, 1e-12);
  CHECK_THROWS_AS(ops::relu_backward(g, make<double>(x_raw, Shape{1000, 2})), ncf::Error);
}

TEST_CASE("dropout: mask from Philox, kept values scaled by 1/(1-p), deterministic") {
  const int64_t n = 200000;
  const double p = 0.3;
  const auto x_raw = test_values(n, -1.0, 1.0, 10);
  const Tensor x = make<float>(x_raw, Shape{n / 100, 100});
  Tensor mask;
  const Tensor y = ops::dropout(x, p, 77, 5, mask);
  REQUIRE(mask.dtype() == DType::u8);
  REQUIRE(mask.shape() == x.shape());
  const auto m = mask.to_vector<uint8_t>();
  const auto yv = y.to_vector<float>();
  const auto xv = x.to_vector<float>();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    // The documented rule, written out: keep when the top 24 bits of word 0, as a fraction, are >= p.
    const uint32_t word = ncf::philox_draw(77, 5, static_cast<uint64_t>(i)).v[0];
    const bool keep =
        static_cast<double>(word >> 8) / 16777216.0 >= static_cast<double>(static_cast<float>(p));
    if (static_cast<bool>(m[i]) != keep) {
      FAIL_CHECK("mask differs at " << i);
      break;
    }
    kept += keep;
    const double want = keep ? xv[i] / (1.0 - p) : 0.0;
    if (std::fabs(yv[i] - want) > 1e-6 * (1.0 + std::fabs(want))) {
      FAIL_CHECK("value differs at " << i << ": " << yv[i] << " vs " << want);
      break;
    }
  }
  // Binomial(n, 0.7): standard deviation ~205; allow 5 of them.
  CHECK(std::fabs(static_cast<double>(kept) - 0.7 * n) < 5 * std::sqrt(n * 0.7 * 0.3));

  Tensor mask2;
  CHECK(ops::dropout(x, p, 77, 5, mask2).to_vector<float>() == yv);
  Tensor mask3;
  ops::dropout(x, p, 77, 6, mask3);
  CHECK(mask3.to_vector<uint8_t>() != m);  // another stream, another mask

  // Backward: the same mask and scale.
  const auto g_raw = test_values(n, -1.0, 1.0, 11);
  const Tensor g = make<float>(g_raw, x.shape());
  const auto gx = ops::dropout_backward(g, mask, p).to_vector<float>();
  const auto gv = g.to_vector<float>();
  std::vector<double> want_g(n);
  for (int64_t i = 0; i < n; ++i) want_g[i] = m[i] ? gv[i] / (1.0 - p) : 0.0;
  NCF_CHECK_CLOSE(gx, want_g, 1e-7, 1e-6);

  // A slice of rows [r0, r1) with first_index r0 * cols draws exactly the whole tensor's mask there
  // (what a rank training on a slice of a global batch needs).
  for (const auto& [r0, r1] : std::vector<std::pair<int64_t, int64_t>>{{0, 7}, {7, 2000}, {1333, 1334}}) {
    INFO("rows [" << r0 << ", " << r1 << ")");
    Tensor slice_mask;
    const Tensor slice = ops::dropout(x.rows(r0, r1), p, 77, 5, slice_mask, static_cast<uint64_t>(r0 * 100));
    CHECK(slice_mask.to_vector<uint8_t>() ==
          std::vector<uint8_t>(m.begin() + r0 * 100, m.begin() + r1 * 100));
    CHECK(slice.to_vector<float>() == std::vector<float>(yv.begin() + r0 * 100, yv.begin() + r1 * 100));
  }

  // p = 0 keeps everything unchanged.
  Tensor mask0;
  CHECK(ops::dropout(x, 0.0, 1, 1, mask0).to_vector<float>() == xv);
  CHECK_THROWS_AS(ops::dropout(x, 1.5, 1, 1, mask0), ncf::Error);
}
