// Reductions on the CPU against plain long-double loops written here. Tolerances: f64 results
// within 1e-13 relative (+1e-12 absolute for sums near 0); f32 results within 1e-6 relative
// (+1e-5 absolute): the library accumulates in double, so the only error left is the final
// rounding to float. Also: the same bits with 1, 2 and 4 OpenMP threads.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/ops/reduce.h"
#include "tests/test_util.h"

using namespace ncf;
using ncf::test::make;
using ncf::test::values_of;

namespace {

std::vector<double> test_values(size_t n, uint64_t seed) {
  std::vector<double> values(n);
  uint64_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    values[i] = -1.0 + 2.0 * static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0) + 0.1;
  }
  return values;
}

template <class T>
double rounded(double v) {
  return static_cast<double>(static_cast<T>(v));
}

// Reference sum along `axis` with plain nested loops over a row-major 4-D index.
template <class T>
std::vector<double> reference_sum_axis(const std::vector<double>& x, const std::vector<int64_t>& dims,
                                       int axis, bool mean) {
  std::vector<int64_t> d = dims;
  while (d.size() < 4) d.push_back(1);  // trailing dimensions of size 1 change nothing
  std::vector<int64_t> out_dims = d;
  out_dims[axis] = 1;
  std::vector<long double> acc(out_dims[0] * out_dims[1] * out_dims[2] * out_dims[3], 0.0L);
  int64_t idx[4];
  for (idx[0] = 0; idx[0] < d[0]; ++idx[0])
    for (idx[1] = 0; idx[1] < d[1]; ++idx[1])
      for (idx[2] = 0; idx[2] < d[2]; ++idx[2])
        for (idx[3] = 0; idx[3] < d[3]; ++idx[3]) {
          const int64_t in = ((idx[0] * d[1] + idx[1]) * d[2] + idx[2]) * d[3] + idx[3];
          int64_t o[4] = {idx[0], idx[1], idx[2], idx[3]};
          o[axis] = 0;
          const int64_t out = ((o[0] * out_dims[1] + o[1]) * out_dims[2] + o[2]) * out_dims[3] + o[3];
          acc[out] += rounded<T>(x[in]);
        }
  std::vector<double> result;
  for (long double a : acc) result.push_back(static_cast<double>(mean ? a / d[axis] : a));
  return result;
}

template <class T>
void check_full_sum(size_t n) {
  const auto raw = test_values(n, n);
  long double want = 0.0L;
  for (double v : raw) want += rounded<T>(v);
  const Tensor x = make<T>(raw, Shape{static_cast<int64_t>(n)});
  const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
  const double atol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const Tensor s = ops::sum(x);
  CHECK(s.shape() == Shape{1});
  CHECK(s.dtype() == x.dtype());
  NCF_CHECK_CLOSE(values_of(s), std::vector<double>{static_cast<double>(want)}, atol, rtol);
  NCF_CHECK_CLOSE(values_of(ops::mean(x)), std::vector<double>{static_cast<double>(want / n)}, atol, rtol);
}

}  // namespace

TEST_CASE("sum and mean of all elements match a long-double loop") {
  for (size_t n : {size_t{1}, size_t{7}, size_t{4096}, size_t{4097}, size_t{100001}, size_t{5000003}}) {
    CAPTURE(n);
    check_full_sum<float>(n);
    check_full_sum<double>(n);
  }
  // A 2-D tensor sums all of its elements too.
  const Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  CHECK(ops::sum(m).item<float>() == 21.0f);
  CHECK(ops::mean(m).item<float>() == 3.5f);
  CHECK(ops::sum(Tensor::zeros(Shape{0})).item<float>() == 0.0f);
}

TEST_CASE("f32 sums accumulate in double") {
  // 2^25 followed by 4095 ones: in a float accumulator each 1 is lost against 2^25 (whose float
  // spacing is 4); in double the sum is 33558527 exactly, which rounds to the float 33558528.
  std::vector<float> values(4096, 1.0f);
  values[0] = 33554432.0f;
  const Tensor x = Tensor::from_vector(values, Shape{4096});
  CHECK(ops::sum(x).item<float>() == 33558528.0f);
  CHECK(ops::sum_axis(x.view(Shape{1, 4096}), 1).item<float>() == 33558528.0f);
  CHECK(ops::sum_axis(x.view(Shape{4096, 1}), 0).item<float>() == 33558528.0f);
}

TEST_CASE("sum_axis along every axis of 1-D to 4-D tensors") {
  const std::vector<std::vector<int64_t>> shapes = {{11},        {6, 9},     {3, 4, 5}, {2, 3, 4, 5},
                                                    {5, 7, 300}, {300, 200}, {40, 1000}};
  for (const auto& dims : shapes) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    const auto raw = test_values(n, 99 + n);
    const Shape shape = dims.size() == 1   ? Shape{dims[0]}
                        : dims.size() == 2 ? Shape{dims[0], dims[1]}
                        : dims.size() == 3 ? Shape{dims[0], dims[1], dims[2]}
                                           : Shape{dims[0], dims[1], dims[2], dims[3]};
    for (int axis = 0; axis < static_cast<int>(dims.size()); ++axis) {
      CAPTURE(shape);
      CAPTURE(axis);
      std::vector<int64_t> kept;
      for (int i = 0; i < static_cast<int>(dims.size()); ++i)
        if (i != axis) kept.push_back(dims[i]);
      if (kept.empty()) kept.push_back(1);

      const Tensor xd = make<double>(raw, shape);
      const Tensor s = ops::sum_axis(xd, axis);
      REQUIRE(s.ndim() == static_cast<int>(kept.size()));
      for (int i = 0; i < s.ndim(); ++i) CHECK(s.dim(i) == kept[i]);
      NCF_CHECK_CLOSE(values_of(s), reference_sum_axis<double>(raw, dims, axis, false), 1e-12, 1e-13);
      // The negative spelling of the same axis gives the same result.
      CHECK(values_of(ops::sum_axis(xd, axis - static_cast<int>(dims.size()))) == values_of(s));

      const Tensor xf = make<float>(raw, shape);
      NCF_CHECK_CLOSE(values_of(ops::sum_axis(xf, axis)), reference_sum_axis<float>(raw, dims, axis, false),
                      1e-5, 1e-6);
    }
  }
}

TEST_CASE("reductions give the same bits with 1, 2 and 4 threads") {
  const auto raw = test_values(3000017, 5);
  const Tensor x = make<float>(raw, Shape{3000017});
  const Tensor m = make<float>(std::vector<double>(raw.begin(), raw.begin() + 400 * 3000), Shape{400, 3000});
  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> sums, rows, cols;
  for (int threads : {1, 2, 4}) {
    omp_set_num_threads(threads);
    sums.push_back(ops::sum(x).to_vector<float>());
    rows.push_back(ops::sum_axis(m, 1).to_vector<float>());
    cols.push_back(ops::sum_axis(m, 0).to_vector<float>());
  }
  omp_set_num_threads(saved);
  CHECK(sums[0] == sums[1]);
  CHECK(sums[0] == sums[2]);
  CHECK(rows[0] == rows[1]);
  CHECK(rows[0] == rows[2]);
  CHECK(cols[0] == cols[1]);
  CHECK(cols[0] == cols[2]);
}

TEST_CASE("reductions reject bad arguments") {
  const Tensor x = Tensor::zeros(Shape{2, 3});
  CHECK_THROWS_AS(ops::sum_axis(x, 2), ncf::Error);
  CHECK_THROWS_AS(ops::sum_axis(x, -3), ncf::Error);
  CHECK_THROWS_AS(ops::sum(Tensor::zeros(Shape{3}, DType::i32)), ncf::Error);
  CHECK_THROWS_AS(ops::mean(Tensor::zeros(Shape{0})), ncf::Error);
}
