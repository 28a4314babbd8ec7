// gemm / matmul on the CPU against a plain triple loop in f64, for every transpose combination,
// sizes that cross the kernel's tile and block edges, alpha/beta, empty sizes, thread-count
// independence and the error messages. Ends with a small benchmark that prints GFLOP/s for the
// products of an NCF training step (no timing is asserted).
#include <doctest/doctest.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/ops/elementwise.h"
#include "tensor/ops/matmul.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

template <class T>
Tensor random_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<T> values(static_cast<size_t>(rows * cols));
  for (T& v : values) v = static_cast<T>(uniform(rng));
  return Tensor::from_vector(values, {rows, cols});
}

// out = alpha * op(a) op(b) + beta * out0 by the library's plain triple loop, on f64 copies of the
// inputs, so the reference carries no f32 rounding of its own.
template <class T>
std::vector<double> reference_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                                   const std::vector<T>& out0, double alpha, double beta) {
  const int64_t m = trans_a ? a.dim(1) : a.dim(0), n = trans_b ? b.dim(0) : b.dim(1);
  Tensor out = out0.empty() ? Tensor::zeros({m, n}, DType::f64)
                            : ops::cast(Tensor::from_vector(out0, {m, n}), DType::f64);
  ops::gemm_reference(ops::cast(a, DType::f64), trans_a, ops::cast(b, DType::f64), trans_b, out, alpha, beta);
  return out.to_vector<double>();
}

template <class T>
void check_all_transposes(int64_t m, int64_t n, int64_t k, double alpha, double beta, double atol,
                          double rtol) {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true}) {
      CAPTURE(m);
      CAPTURE(n);
      CAPTURE(k);
      CAPTURE(trans_a);
      CAPTURE(trans_b);
      const Tensor a = trans_a ? random_matrix<T>(k, m, 1) : random_matrix<T>(m, k, 1);
      const Tensor b = trans_b ? random_matrix<T>(n, k, 2) : random_matrix<T>(k, n, 2);
      Tensor out = random_matrix<T>(m, n, 3);
      const std::vector<T> out0 = out.to_vector<T>();
      ops::gemm(a, trans_a, b, trans_b, out, alpha, beta);
      NCF_CHECK_CLOSE(out.to_vector<T>(), reference_gemm<T>(a, trans_a, b, trans_b, out0, alpha, beta), atol,
                      rtol);
    }
}

}  // namespace

TEST_CASE("gemm_reference: a product computed by hand, with transposes, alpha and beta") {
  const Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});     // [[1 2 3] [4 5 6]]
  const Tensor b = Tensor::from_vector<double>({7, 8, 9, 10, 11, 12}, {3, 2});  // [[7 8] [9 10] [11 12]]
  Tensor out = Tensor::from_vector<double>({1, 1, 1, 1}, {2, 2});
  ops::gemm_reference(a, false, b, false, out, 1.0, 0.0);
  CHECK(out.to_vector<double>() == std::vector<double>{58, 64, 139, 154});
  ops::gemm_reference(b, true, a, true, out, 0.5, 2.0);  // 0.5 * (a b)^T + 2 * out
  CHECK(out.to_vector<double>() == std::vector<double>{145, 197.5, 310, 385});
}

// Inputs are uniform in [-1, 1], so each product term is at most 1 and the rounding error of a
// k-term f32 sum stays well below k * 2^-24 ~ 2e-5 for k <= 300: atol 1e-4, rtol 1e-4.
// f64: atol 1e-12, rtol 1e-12.
TEST_CASE("gemm: f32 and f64 against a plain f64 loop, all transposes, tile and block edges") {
  // Shapes: smaller than one tile, not a multiple of 6 x 16, crossing the 256-deep k block,
  // crossing the 256-column n block, and a large one that runs on several threads.
  const int64_t shapes[][3] = {{1, 1, 1},     {5, 7, 3},      {13, 37, 11},
                               {64, 32, 256}, {31, 300, 257}, {200, 70, 129}};
  for (const auto& s : shapes) {
    check_all_transposes<float>(s[0], s[1], s[2], 1.0, 0.0, 1e-4, 1e-4);
    check_all_transposes<double>(s[0], s[1], s[2], 1.0, 0.0, 1e-12, 1e-12);
  }
}

TEST_CASE("gemm: alpha and beta, with k crossing a block so later blocks accumulate") {
  check_all_transposes<float>(17, 33, 300, 0.5, -2.0, 1e-4, 1e-4);
  check_all_transposes<double>(17, 33, 300, -1.5, 0.25, 1e-12, 1e-12);
}

TEST_CASE("gemm: beta = 0 ignores whatever out held, NaN included") {
  const Tensor a = random_matrix<float>(9, 4, 1), b = random_matrix<float>(4, 5, 2);
  Tensor out = Tensor::from_vector(std::vector<float>(45, std::numeric_limits<float>::quiet_NaN()), {9, 5});
  ops::gemm(a, false, b, false, out, 1.0, 0.0);
  for (float v : out.to_vector<float>()) CHECK(std::isfinite(v));
}

TEST_CASE("gemm: k = 0 gives beta * out, empty m or n give empty results") {
  const Tensor a = Tensor::empty({3, 0}), b = Tensor::empty({0, 2});
  Tensor out = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  ops::gemm(a, false, b, false, out, 1.0, 2.0);
  CHECK(out.to_vector<float>() == std::vector<float>{2, 4, 6, 8, 10, 12});
  ops::gemm(a, false, b, false, out, 1.0, 0.0);
  CHECK(out.to_vector<float>() == std::vector<float>(6, 0.0f));
  const Tensor empty = ops::matmul(Tensor::empty({0, 4}), Tensor::empty({4, 3}));
  CHECK(empty.shape() == Shape{0, 3});
}

TEST_CASE("matmul: allocates (m, n) and agrees with gemm") {
  const Tensor a = random_matrix<double>(6, 4, 5), b = random_matrix<double>(3, 4, 6);
  const Tensor out = ops::matmul(a, b, false, true);
  CHECK(out.shape() == Shape{6, 3});
  CHECK(out.dtype() == DType::f64);
  NCF_CHECK_CLOSE(out.to_vector<double>(), reference_gemm<double>(a, false, b, true, {}, 1.0, 0.0), 1e-12,
                  1e-12);
}

TEST_CASE("gemm: the same bits whatever the thread count") {
  const Tensor a = random_matrix<float>(300, 150, 7), b = random_matrix<float>(150, 90, 8);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = ops::matmul(a, b).to_vector<float>();
  omp_set_num_threads(std::max(threads, 3));
  const std::vector<float> many = ops::matmul(a, b).to_vector<float>();
  omp_set_num_threads(threads);
  CHECK(one == many);
}

TEST_CASE("gemm: errors name the shapes involved") {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  try {
    ops::matmul(a, b);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(2, 3)") != std::string::npos);
    CHECK(message.find("(4, 5)") != std::string::npos);
  }
  Tensor wrong_out = Tensor::zeros({2, 4});
  CHECK_THROWS_WITH_AS(ops::gemm(a, false, Tensor::zeros({3, 5}), false, wrong_out),
                       doctest::Contains("(2, 4)"), Error);
  CHECK_THROWS_AS(ops::matmul(a, Tensor::zeros({3, 5}, DType::f64)), Error);
  CHECK_THROWS_AS(ops::matmul(Tensor::zeros({2, 3}, DType::i32), Tensor::zeros({3, 5}, DType::i32)), Error);
  CHECK_THROWS_AS(ops::matmul(Tensor::zeros({6}), Tensor::zeros({6, 1})), Error);
}

// Not a test of speed: prints single-thread GFLOP/s for the products of a training step with batch
// 256 (forward x @ W^T-like, and the two backward products), so regressions are easy to see.
TEST_CASE("gemm: benchmark of training-step shapes (prints GFLOP/s, one thread)") {
  struct Case {
    const char* name;
    int64_t m, n, k;
    bool trans_a, trans_b;
  };
  const Case cases[] = {{"(256x64) @ (64x32)       a b  ", 256, 32, 64, false, false},
                        {"(64x256) @ (256x32)      a^T b", 64, 32, 256, true, false},
                        {"(256x32) @ (32x64)       a b^T", 256, 64, 32, false, true}};
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  for (const Case& c : cases) {
    const Tensor a = c.trans_a ? random_matrix<float>(c.k, c.m, 1) : random_matrix<float>(c.m, c.k, 1);
    const Tensor b = c.trans_b ? random_matrix<float>(c.n, c.k, 2) : random_matrix<float>(c.k, c.n, 2);
    Tensor out = Tensor::empty({c.m, c.n});
    for (int i = 0; i < 20; ++i) ops::gemm(a, c.trans_a, b, c.trans_b, out);  // warm caches and buffers
    const int reps = 2000;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) ops::gemm(a, c.trans_a, b, c.trans_b, out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("gemm benchmark %s: %6.1f GFLOP/s (%.1f us per product)\n", c.name,
                2.0 * c.m * c.n * c.k * reps / seconds * 1e-9, seconds / reps * 1e6);
  }
  omp_set_num_threads(threads);
}

}  // namespace ncf
