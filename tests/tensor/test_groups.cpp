// The group ops (tensor/ops/groups.h) against element-by-element loops written out here, in f32 and
// f64: copies and in-order sums, so the comparisons are exact.
#include <doctest/doctest.h>

#include <vector>

#include "tensor/ops/groups.h"
#include "tests/test_util.h"

using namespace ncf;
using test::make;
using test::test_values;

TEST_CASE_TEMPLATE("group ops: expand_groups, add_groups_ and sum_groups against plain loops", T, float,
                   double) {
  const int64_t groups = 37, group = 5, d = 9, rows = groups * group;
  const std::vector<double> x_raw = test_values(static_cast<size_t>(groups * d), -1.0, 1.0, 3);
  const std::vector<double> y_raw = test_values(static_cast<size_t>(rows * d), -1.0, 1.0, 4);
  const Tensor x = make<T>(x_raw, Shape{groups, d}), y0 = make<T>(y_raw, Shape{rows, d});
  const std::vector<T> xv = x.to_vector<T>(), yv = y0.to_vector<T>();

  std::vector<T> expanded(static_cast<size_t>(rows * d)), added(yv), summed(static_cast<size_t>(groups * d));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < d; ++c) {
      expanded[r * d + c] = xv[(r / group) * d + c];
      added[r * d + c] = yv[r * d + c] + xv[(r / group) * d + c];
    }
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t c = 0; c < d; ++c) {
      T sum = yv[(g * group) * d + c];
      for (int64_t j = 1; j < group; ++j) sum += yv[(g * group + j) * d + c];
      summed[g * d + c] = sum;
    }
  CHECK(ops::expand_groups(x, group).to_vector<T>() == expanded);
  Tensor y = y0.clone();
  ops::add_groups_(y, x, group);
  CHECK(y.to_vector<T>() == added);
  CHECK(ops::sum_groups(y0, group).to_vector<T>() == summed);
  // Groups of one: the identity, and an empty batch.
  CHECK(ops::sum_groups(y0, 1).to_vector<T>() == yv);
  CHECK(ops::expand_groups(make<T>({}, Shape{0, d}), group).shape() == Shape{0, d});
}

TEST_CASE("group ops: group_firsts takes each group's user and refuses rows that are not grouped") {
  const Tensor users = Tensor::from_vector(std::vector<int32_t>{7, 7, 7, 2, 2, 2, 9, 9, 9}, {9});
  CHECK(ops::group_firsts(users, 3).to_vector<int32_t>() == std::vector<int32_t>{7, 2, 9});
  CHECK(ops::group_firsts(users, 1).to_vector<int32_t>() == users.to_vector<int32_t>());
  const Tensor mixed = Tensor::from_vector(std::vector<int32_t>{7, 7, 7, 2, 5, 2}, {6});
  CHECK_THROWS_WITH_AS(ops::group_firsts(mixed, 3), doctest::Contains("row 4 holds 5"), ncf::Error);
  CHECK_THROWS_WITH_AS(ops::group_firsts(users, 4), doctest::Contains("whole groups of 4"), ncf::Error);
  CHECK_THROWS_WITH_AS(ops::sum_groups(Tensor::zeros({10, 2}), 3), doctest::Contains("whole groups of 3"),
                       ncf::Error);
  Tensor y = Tensor::zeros({6, 2});
  CHECK_THROWS_WITH_AS(ops::add_groups_(y, Tensor::zeros({3, 2}), 3), doctest::Contains("one row per group"),
                       ncf::Error);
}
