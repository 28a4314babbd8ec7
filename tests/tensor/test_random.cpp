// The counter-based generator and the random tensors built on it (CPU):
//   - Philox4x32-10 against the published known answers stored in tests/reference;
//   - uniform_/normal_: element i is the documented function of philox_draw(seed, stream, i),
//     the range holds, moments of 1e6 samples lie within ~5 standard errors, and the values do not
//     depend on the number of OpenMP threads;
//   - randperm is a permutation, deterministic, ordered by the documented keys.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/ops/random.h"
#include "tensor/philox.h"
#include "tests/test_util.h"

using ncf::DType;
using ncf::Shape;
using ncf::Tensor;
namespace ops = ncf::ops;

namespace {

uint32_t hex_word(const nlohmann::json& j) {
  return static_cast<uint32_t>(std::stoul(j.get<std::string>(), nullptr, 16));
}

struct Moments {
  double mean = 0, stddev = 0, min = 1e300, max = -1e300;
};

template <class T>
Moments moments(const std::vector<T>& v) {
  Moments m;
  long double sum = 0, sum_sq = 0;
  for (T x : v) {
    sum += x;
    m.min = std::min(m.min, static_cast<double>(x));
    m.max = std::max(m.max, static_cast<double>(x));
  }
  m.mean = static_cast<double>(sum / v.size());
  for (T x : v) sum_sq += (x - m.mean) * (x - m.mean);
  m.stddev = static_cast<double>(std::sqrt(sum_sq / v.size()));
  return m;
}

}  // namespace

TEST_CASE("Philox4x32-10 matches the published known answers") {
  std::ifstream file(ncf::test::source_dir() + "/tests/reference/neumf_tiny_reference.json");
  REQUIRE(file.good());
  const auto cases = nlohmann::json::parse(file)["philox4x32_10"]["cases"];
  REQUIRE(cases.size() >= 3);
  for (const auto& c : cases) {
    ncf::Philox4 counter{{hex_word(c["counter"][0]), hex_word(c["counter"][1]), hex_word(c["counter"][2]),
                          hex_word(c["counter"][3])}};
    const ncf::Philox4 out = ncf::philox4x32_10(counter, hex_word(c["key"][0]), hex_word(c["key"][1]));
    for (int w = 0; w < 4; ++w) {
      CAPTURE(c.dump());
      CHECK(out.v[w] == hex_word(c["output"][w]));
    }
  }
}

TEST_CASE("uniform_: element i from philox_draw(seed, stream, i), in range, mean and spread") {
  const int64_t n = 1000000;
  Tensor f = Tensor::empty(Shape{1000, 1000});
  ops::uniform_(f, -0.5, 1.5, 42, 3);
  const auto fv = f.to_vector<float>();
  // The documented formula, written independently: low + (high - low) * (top 24 bits / 2^24).
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{777}, n - 1}) {
    const uint32_t word = ncf::philox_draw(42, 3, static_cast<uint64_t>(i)).v[0];
    const double want = -0.5 + 2.0 * (static_cast<double>(word >> 8) / 16777216.0);
    CHECK(fv[i] == doctest::Approx(want).epsilon(1e-7));
  }
  const Moments m = moments(fv);
  CHECK(m.min >= -0.5);
  CHECK(m.max < 1.5);
  CHECK(std::fabs(m.mean - 0.5) < 5 * (2.0 / std::sqrt(12.0)) / std::sqrt(n));  // ~0.0029
  CHECK(std::fabs(m.stddev - 2.0 / std::sqrt(12.0)) < 0.003);

  Tensor d = Tensor::empty(Shape{n}, DType::f64);
  ops::uniform_(d, 0.0, 1.0, 42, 3);
  const auto dv = d.to_vector<double>();
  const Moments md = moments(dv);
  CHECK(md.min >= 0.0);
  CHECK(md.max < 1.0);
  CHECK(std::fabs(md.mean - 0.5) < 0.0015);
  // f64 uses 53 bits: the values are not all multiples of 2^-24.
  int64_t finer = 0;
  for (int64_t i = 0; i < 1000; ++i) finer += std::fmod(dv[i] * 16777216.0, 1.0) != 0.0;
  CHECK(finer > 900);
}

TEST_CASE("normal_: mean and standard deviation of 1e6 samples, f32 and f64") {
  const int64_t n = 1000000;
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    Tensor t = Tensor::empty(Shape{n}, dtype);
    ops::normal_(t, 2.0, 0.5, 7, 1);
    const Moments m = dtype == DType::f32 ? moments(t.to_vector<float>()) : moments(t.to_vector<double>());
    // Standard errors: mean 0.5/1000 = 5e-4, stddev 0.5/sqrt(2e6) = 3.5e-4; allow ~5 of them.
    CHECK(std::fabs(m.mean - 2.0) < 0.0025);
    CHECK(std::fabs(m.stddev - 0.5) < 0.002);
    CHECK(m.min > 2.0 - 0.5 * 7);  // no value beyond 7 sigma in 1e6 draws
    CHECK(m.max < 2.0 + 0.5 * 7);
  }
  // f32 element 5 is mean + std * Box-Muller of the draw's first two words.
  Tensor t = Tensor::empty(Shape{10});
  ops::normal_(t, 2.0, 0.5, 7, 1);
  const ncf::Philox4 r = ncf::philox_draw(7, 1, 5);
  const double u1 = (r.v[0] + 1.0) / 4294967296.0, u2 = r.v[1] / 4294967296.0;
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  CHECK(t.to_vector<float>()[5] == doctest::Approx(2.0 + 0.5 * z).epsilon(1e-6));
}

TEST_CASE("random tensors are deterministic, differ across streams, and ignore the thread count") {
  Tensor a = Tensor::empty(Shape{100000}), b = Tensor::empty(Shape{100000}), c = Tensor::empty(Shape{100000});
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  ops::normal_(a, 0, 1, 99, 4);
  omp_set_num_threads(4);
  ops::normal_(b, 0, 1, 99, 4);
  omp_set_num_threads(saved);
  ops::normal_(c, 0, 1, 99, 5);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
  CHECK_THROWS_AS(ops::uniform_(a, 1.0, 0.0, 1, 1), ncf::Error);
  Tensor ids = Tensor::empty(Shape{3}, DType::i32);
  CHECK_THROWS_AS(ops::normal_(ids, 0, 1, 1, 1), ncf::Error);
}

TEST_CASE("randperm: a deterministic permutation ordered by its Philox keys") {
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{1000}, int64_t{100003}}) {
    CAPTURE(n);
    const Tensor perm = ops::randperm(n, 1234, 2, ncf::Device::cpu());
    CHECK(perm.dtype() == DType::i32);
    CHECK(perm.shape() == Shape{n});
    auto v = perm.to_vector<int32_t>();
    CHECK(ops::randperm(n, 1234, 2, ncf::Device::cpu()).to_vector<int32_t>() == v);
    // Keys along the permutation never decrease (key = word 0 high, word 1 low of draw i).
    auto key = [](int32_t i) {
      const ncf::Philox4 r = ncf::philox_draw(1234, 2, static_cast<uint64_t>(i));
      return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
    };
    for (int64_t i = 1; i < n; ++i)
      if (key(v[i - 1]) > key(v[i])) {
        FAIL_CHECK("keys out of order at " << i);
        break;
      }
    std::sort(v.begin(), v.end());
    for (int64_t i = 0; i < n; ++i)
      if (v[i] != i) {
        FAIL_CHECK("not a permutation: sorted[" << i << "] = " << v[i]);
        break;
      }
  }
  const auto p1 = ops::randperm(1000, 1, 0, ncf::Device::cpu()).to_vector<int32_t>();
  const auto p2 = ops::randperm(1000, 2, 0, ncf::Device::cpu()).to_vector<int32_t>();
  CHECK(p1 != p2);
  int64_t fixed_points = 0;  // a random permutation of 1000 has ~1 fixed point
  for (int64_t i = 0; i < 1000; ++i) fixed_points += p1[i] == i;
  CHECK(fixed_points < 10);
  CHECK_THROWS_AS(ops::randperm(-1, 1, 0, ncf::Device::cpu()), ncf::Error);
}
