// Test matrices for the linear-algebra ops: symmetric positive definite matrices with a chosen
// spectrum, so every tolerance can be written in terms of the condition number, and the norms the
// error bounds are stated in; random binary CSR matrices. Shared by tests/tensor/test_linalg.cpp and tests/cuda.
//
// random_spd(n, kappa): A = Q diag(d) Q^T with Q orthonormal (modified Gram-Schmidt, twice, of a
// Gaussian matrix) and eigenvalues d_i = kappa^(i / (n - 1)), geometrically from 1 to kappa: the
// 2-norm condition number is kappa (||A||_2 = kappa, ||A^-1||_2 = 1). Built in f64 and made exactly
// symmetric; rounding it to f32 moves the eigenvalues by about 2^-24 kappa, far below 1.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tensor/ops/linalg.h"
#include "tensor/tensor.h"
#include "tests/test_util.h"

namespace ncf::test {

inline std::vector<double> random_spd(int64_t n, double kappa, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> q(static_cast<size_t>(n * n));  // columns are q[i * n + c] for row i
  for (double& v : q) v = normal(rng);
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t c = 0; c < n; ++c) {
      for (int64_t prev = 0; prev < c; ++prev) {
        double proj = 0.0;
        for (int64_t i = 0; i < n; ++i) proj += q[i * n + c] * q[i * n + prev];
        for (int64_t i = 0; i < n; ++i) q[i * n + c] -= proj * q[i * n + prev];
      }
      double norm = 0.0;
      for (int64_t i = 0; i < n; ++i) norm += q[i * n + c] * q[i * n + c];
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < n; ++i) q[i * n + c] /= norm;
    }
  std::vector<double> d(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) d[i] = n == 1 ? 1.0 : std::pow(kappa, static_cast<double>(i) / (n - 1));
  std::vector<double> a(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = 0.0;
      for (int64_t c = 0; c < n; ++c) sum += q[i * n + c] * d[c] * q[j * n + c];
      a[i * n + j] = a[j * n + i] = sum;
    }
  return a;
}

// `batch` independent random_spd(k, kappa) matrices as one (batch, k, k) tensor of dtype T.
template <class T>
Tensor random_spd_batch(int64_t batch, int64_t k, double kappa, uint64_t seed) {
  std::vector<T> values;
  values.reserve(static_cast<size_t>(batch * k * k));
  for (int64_t s = 0; s < batch; ++s)
    for (double v : random_spd(k, kappa, seed + static_cast<uint64_t>(s)))
      values.push_back(static_cast<T>(v));
  return Tensor::from_vector(values, {batch, k, k});
}

template <class T>
Tensor random_spd_matrix(int64_t n, double kappa, uint64_t seed) {
  const std::vector<double> a = random_spd(n, kappa, seed);
  return Tensor::from_vector(std::vector<T>(a.begin(), a.end()), {n, n});
}

// The unit roundoff of T: 2^-24 for f32, 2^-53 for f64.
inline double unit_roundoff(DType dtype) {
  return dtype == DType::f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
}

inline double frobenius(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

// ||a - b||_F / ||b||_F.
inline double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> diff(a.size());
  for (size_t i = 0; i < a.size(); ++i) diff[i] = a[i] - b[i];
  return frobenius(diff) / frobenius(b);
}

// A random binary CSR on `device`: each of `rows` rows holds each column with probability `density`.
inline ops::BinaryCsr random_csr(int64_t rows, int64_t cols, double density, uint64_t seed,
                                 Device device = Device::cpu()) {
  const std::vector<double> draws = test_values(static_cast<size_t>(rows * cols), 0.0, 1.0, seed);
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> indices;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      if (draws[r * cols + c] < density) indices.push_back(static_cast<int32_t>(c));
    offsets.push_back(static_cast<int64_t>(indices.size()));
  }
  return ops::make_binary_csr(offsets, indices, cols, device);
}

}  // namespace ncf::test
