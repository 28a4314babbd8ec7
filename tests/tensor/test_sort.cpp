// topk_rows on the CPU against a reference that sorts (value, column) pairs with the documented
// rule: larger first, ties by ascending column. Scores are
// drawn from a few values so that ties are everywhere.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tensor/ops/sort.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

template <class T>
std::vector<T> tied_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-3, 3);
  std::vector<T> values(count);
  for (T& v : values) v = static_cast<T>(pick(rng)) / T(2);
  return values;
}

// The column order of one row by an independent rule: sort (key, column) pairs lexicographically,
// with the key negated for a descending order.
template <class T>
std::vector<int32_t> reference_order(const T* row, int64_t cols, bool descending) {
  std::vector<std::pair<double, int32_t>> pairs;
  for (int64_t c = 0; c < cols; ++c)
    pairs.emplace_back(descending ? -double(row[c]) : double(row[c]), int32_t(c));
  std::sort(pairs.begin(), pairs.end());
  std::vector<int32_t> order;
  for (const auto& p : pairs) order.push_back(p.second);
  return order;
}

}  // namespace

TEST_CASE("topk_rows: the k largest, ties by ascending column, against a full reference sort") {
  for (const auto& [rows, cols, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 1, 1}, {3, 10, 4}, {7, 100, 10}, {5, 17, 17}, {64, 1000, 20}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    CAPTURE(k);
    const std::vector<float> scores =
        tied_values<float>(static_cast<size_t>(rows * cols), uint32_t(rows + cols));
    Tensor values, indices;
    ops::topk_rows(Tensor::from_vector(scores, {rows, cols}), k, values, indices);
    REQUIRE(values.shape() == Shape{rows, k});
    REQUIRE(indices.shape() == Shape{rows, k});
    const std::vector<float> got_values = values.to_vector<float>();
    const std::vector<int32_t> got_indices = indices.to_vector<int32_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<int32_t> want = reference_order(scores.data() + r * cols, cols, true);
      for (int64_t t = 0; t < k; ++t) {
        CHECK(got_indices[r * k + t] == want[t]);
        CHECK(got_values[r * k + t] == scores[r * cols + want[t]]);
      }
    }
  }
}

TEST_CASE("topk_rows: reuses outputs of the right shape, k = 0, NaN ranks first, errors") {
  const Tensor scores = Tensor::from_vector(std::vector<float>{0.5f, 2.f, -1.f, 2.f}, {1, 4});
  Tensor values = Tensor::empty({1, 2}), indices = Tensor::empty({1, 2}, DType::i32);
  const void* values_memory = values.raw_data();
  ops::topk_rows(scores, 2, values, indices);
  CHECK(values.raw_data() == values_memory);
  CHECK(indices.to_vector<int32_t>() == std::vector<int32_t>{1, 3});
  CHECK(values.to_vector<float>() == std::vector<float>{2.f, 2.f});

  ops::topk_rows(scores, 0, values, indices);
  CHECK(values.shape() == Shape{1, 0});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  ops::topk_rows(Tensor::from_vector(std::vector<float>{1.f, nan, 3.f}, {1, 3}), 2, values, indices);
  CHECK(indices.to_vector<int32_t>() == std::vector<int32_t>{1, 2});

  CHECK_THROWS_WITH_AS(ops::topk_rows(scores, 5, values, indices), doctest::Contains("(1, 4)"), Error);
  CHECK_THROWS_AS(ops::topk_rows(Tensor::zeros({1, 4}, DType::f64), 1, values, indices), Error);
  CHECK_THROWS_AS(ops::topk_rows(Tensor::zeros({4}), 1, values, indices), Error);
}

}  // namespace ncf
