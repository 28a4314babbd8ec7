// gather_rows, segment_sum_rows, scatter_add_rows_, axpy_row_sparse_ and to_dense on the CPU against plain loops:
// values, the order duplicates are summed in (checked to the bit against a loop that adds in
// original order), empty inputs and the error messages.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "tensor/ops/index.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

using test::random_indices;

template <class T>
std::vector<T> random_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<T> values(count);
  for (T& v : values) v = static_cast<T>(uniform(rng));
  return values;
}

// index -> its rows summed left to right in original order, in the type T itself.
template <class T>
std::map<int32_t, std::vector<T>> reference_segments(const std::vector<int32_t>& idx,
                                                     const std::vector<T>& rows, int64_t d) {
  std::map<int32_t, std::vector<T>> sums;
  for (size_t i = 0; i < idx.size(); ++i) {
    auto found = sums.find(idx[i]);
    if (found == sums.end()) {
      sums[idx[i]] = std::vector<T>(rows.begin() + i * d, rows.begin() + (i + 1) * d);
    } else {
      for (int64_t c = 0; c < d; ++c) found->second[c] += rows[i * d + c];
    }
  }
  return sums;
}

template <class T>
void check_segment_sum(size_t b, int64_t d, int32_t num_rows, uint32_t seed) {
  const std::vector<int32_t> idx = random_indices(b, num_rows, seed);
  const std::vector<T> values = random_values<T>(b * d, seed + 1);
  const ops::RowSparse sparse = ops::segment_sum_rows(Tensor::from_vector(idx, {int64_t(b)}),
                                                      Tensor::from_vector(values, {int64_t(b), d}), num_rows);
  const auto want = reference_segments(idx, values, d);
  CHECK(sparse.num_rows == num_rows);
  REQUIRE(sparse.indices.numel() == int64_t(want.size()));
  REQUIRE(sparse.rows.shape() == Shape{int64_t(want.size()), d});
  const std::vector<int32_t> got_idx = sparse.indices.to_vector<int32_t>();
  const std::vector<T> got_rows = sparse.rows.to_vector<T>();
  size_t s = 0;
  for (const auto& [index, sum] : want) {  // std::map iterates in ascending index order
    CHECK(got_idx[s] == index);
    // Same additions in the same order: the same bits.
    CHECK(std::vector<T>(got_rows.begin() + s * d, got_rows.begin() + (s + 1) * d) == sum);
    ++s;
  }
}

}  // namespace

TEST_CASE("gather_rows: copies table rows by index, any dtype") {
  const std::vector<float> table = random_values<float>(10 * 3, 1);
  const std::vector<int32_t> idx{4, 0, 9, 4, 4, 2};
  const Tensor out = ops::gather_rows(Tensor::from_vector(table, {10, 3}), Tensor::from_vector(idx, {6}));
  REQUIRE(out.shape() == Shape{6, 3});
  const std::vector<float> got = out.to_vector<float>();
  for (size_t i = 0; i < idx.size(); ++i)
    for (int c = 0; c < 3; ++c) CHECK(got[i * 3 + c] == table[idx[i] * 3 + c]);

  const Tensor doubles = ops::gather_rows(Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}),
                                          Tensor::from_vector(std::vector<int32_t>{1, 1, 0}, {3}));
  CHECK(doubles.to_vector<double>() == std::vector<double>{3, 4, 3, 4, 1, 2});
  const Tensor ints = ops::gather_rows(Tensor::from_vector(std::vector<int32_t>{7, 8, 9}, {3, 1}),
                                       Tensor::from_vector(std::vector<int32_t>{2, 0}, {2}));
  CHECK(ints.to_vector<int32_t>() == std::vector<int32_t>{9, 7});
  CHECK(ops::gather_rows(Tensor::zeros({3, 4}), Tensor::empty({0}, DType::i32)).shape() == Shape{0, 4});
}

TEST_CASE("gather_rows: a bad index is named with its position") {
  const Tensor table = Tensor::zeros({5, 2});
  CHECK_THROWS_WITH_AS(ops::gather_rows(table, Tensor::from_vector(std::vector<int32_t>{1, 5, 0}, {3})),
                       doctest::Contains("index 5 at position 1"), Error);
  CHECK_THROWS_WITH_AS(ops::gather_rows(table, Tensor::from_vector(std::vector<int32_t>{-1}, {1})),
                       doctest::Contains("index -1"), Error);
  CHECK_THROWS_AS(ops::gather_rows(table, Tensor::zeros({3})), Error);  // f32 indices
  CHECK_THROWS_AS(ops::gather_rows(Tensor::zeros({5}), Tensor::zeros({1}, DType::i32)), Error);
}

TEST_CASE("segment_sum_rows: sorted unique indices, duplicates summed in original order") {
  check_segment_sum<float>(1, 4, 3, 10);
  check_segment_sum<float>(200, 5, 20, 11);    // about 10 repeats per index
  check_segment_sum<float>(5000, 33, 50, 12);  // large enough for the parallel loop
  // The radix sort takes one pass per byte of the largest index: two, three and four passes.
  check_segment_sum<float>(3000, 2, 60000, 13);
  check_segment_sum<double>(3000, 3, 1 << 20, 14);
  check_segment_sum<float>(2000, 1, 2000000000, 15);  // few repeats: mostly single-row segments
  check_segment_sum<double>(300, 8, 7, 13);

  // A hand-made case.
  const ops::RowSparse sparse =
      ops::segment_sum_rows(Tensor::from_vector(std::vector<int32_t>{3, 1, 3, 3}, {4}),
                            Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}), 6);
  CHECK(sparse.indices.to_vector<int32_t>() == std::vector<int32_t>{1, 3});
  CHECK(sparse.rows.to_vector<float>() == std::vector<float>{3, 4, 13, 16});

  const ops::RowSparse empty =
      ops::segment_sum_rows(Tensor::empty({0}, DType::i32), Tensor::empty({0, 3}), 4);
  CHECK(empty.indices.numel() == 0);
  CHECK(empty.rows.shape() == Shape{0, 3});
}

TEST_CASE("segment_sum_rows: errors name shapes and bad indices") {
  const Tensor idx = Tensor::from_vector(std::vector<int32_t>{0, 1, 2}, {3});
  try {
    ops::segment_sum_rows(idx, Tensor::zeros({4, 2}), 5);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(3,)") != std::string::npos);
    CHECK(message.find("(4, 2)") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(ops::segment_sum_rows(idx, Tensor::zeros({3, 2}), 2), doctest::Contains("index 2"),
                       Error);
  CHECK_THROWS_AS(ops::segment_sum_rows(idx, Tensor::zeros({3, 2}, DType::i32), 5), Error);
}

TEST_CASE("scatter_add_rows_: table rows gain the sums of their duplicates") {
  const int64_t n = 30, d = 6, b = 400;
  const std::vector<double> table0 = random_values<double>(n * d, 20);
  const std::vector<int32_t> idx = random_indices(b, 12, 21);
  const std::vector<double> rows = random_values<double>(b * d, 22);
  Tensor table = Tensor::from_vector(table0, {n, d});
  ops::scatter_add_rows_(table, Tensor::from_vector(idx, {b}), Tensor::from_vector(rows, {b, d}));
  // Reference in f64 with plain accumulation; the op sums duplicates first, so allow rounding.
  std::vector<double> want = table0;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t c = 0; c < d; ++c) want[idx[i] * d + c] += rows[i * d + c];
  NCF_CHECK_CLOSE(table.to_vector<double>(), want, 1e-12, 1e-12);

  // f32, exact on small integers.
  Tensor small = Tensor::from_vector(std::vector<float>{1, 1, 1, 1, 1, 1}, {3, 2});
  ops::scatter_add_rows_(small, Tensor::from_vector(std::vector<int32_t>{2, 0, 2}, {3}),
                         Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}));
  CHECK(small.to_vector<float>() == std::vector<float>{4, 5, 1, 1, 7, 9});

  CHECK_THROWS_WITH_AS(
      ops::scatter_add_rows_(small, Tensor::from_vector(std::vector<int32_t>{3}, {1}), Tensor::zeros({1, 2})),
      doctest::Contains("index 3"), Error);
  CHECK_THROWS_AS(
      ops::scatter_add_rows_(small, Tensor::from_vector(std::vector<int32_t>{0}, {1}), Tensor::zeros({1, 3})),
      Error);
}

TEST_CASE("to_dense: rows placed at their indices, zeros elsewhere") {
  ops::RowSparse sparse;
  sparse.indices = Tensor::from_vector(std::vector<int32_t>{0, 3}, {2});
  sparse.rows = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  sparse.num_rows = 5;
  const Tensor dense = ops::to_dense(sparse);
  CHECK(dense.shape() == Shape{5, 2});
  CHECK(dense.to_vector<float>() == std::vector<float>{1, 2, 0, 0, 0, 0, 3, 4, 0, 0});
  sparse.num_rows = 3;
  CHECK_THROWS_WITH_AS(ops::to_dense(sparse), doctest::Contains("index 3"), Error);
}

TEST_CASE("axpy_row_sparse_: table rows move by alpha times their row, others untouched") {
  const int64_t rows = 6, d = 3;
  const std::vector<float> table0 = random_values<float>(rows * d, 11);
  const std::vector<float> grad = random_values<float>(3 * d, 12);
  ops::RowSparse sparse;
  sparse.indices = Tensor::from_vector(std::vector<int32_t>{0, 2, 5}, {3});
  sparse.rows = Tensor::from_vector(grad, {3, d});
  sparse.num_rows = rows;
  Tensor table = Tensor::from_vector(table0, {rows, d});
  ops::axpy_row_sparse_(table, -0.25, sparse);
  // Reference: the dense update table + alpha * to_dense(sparse), element by element in float.
  std::vector<float> want = table0;
  const std::vector<int32_t> idx{0, 2, 5};
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t c = 0; c < d; ++c) want[idx[s] * d + c] += -0.25f * grad[s * d + c];
  CHECK(table.to_vector<float>() == want);  // one product and one add per element: exact
  sparse.num_rows = 5;
  CHECK_THROWS_WITH_AS(ops::axpy_row_sparse_(table, 1.0, sparse), doctest::Contains("5 rows"), Error);
  sparse.num_rows = rows;
  sparse.indices = Tensor::from_vector(std::vector<int32_t>{0, 6, 5}, {3});
  CHECK_THROWS_WITH_AS(ops::axpy_row_sparse_(table, 1.0, sparse), doctest::Contains("index 6"), Error);
}

TEST_CASE(
    "bad indices (past the table, negative) are rejected before anything changes, by name and position") {
  // Index 130 of a 100-row table: the case the GPU's low-bit sort got wrong (130 & 127 == 2).
  const int64_t rows = 100, d = 3;
  const std::vector<float> table0(static_cast<size_t>(rows * d), 1.0f);
  for (const int32_t bad : {130, 100, -1}) {
    CAPTURE(bad);
    const Tensor idx = Tensor::from_vector(std::vector<int32_t>{2, bad, 2, 2}, {4});
    const Tensor values = Tensor::from_vector(std::vector<float>(12, 0.5f), {4, d});
    const std::string named = "index " + std::to_string(bad) + " at position 1";
    Tensor table = Tensor::from_vector(table0, {rows, d});
    CHECK_THROWS_WITH_AS(ops::scatter_add_rows_(table, idx, values), doctest::Contains(named.c_str()), Error);
    CHECK(table.to_vector<float>() == table0);  // nothing was added, row 2 included
    CHECK_THROWS_WITH_AS(ops::segment_sum_rows(idx, values, rows), doctest::Contains(named.c_str()), Error);
    CHECK_THROWS_WITH_AS(ops::gather_rows(table, idx), doctest::Contains(named.c_str()), Error);
  }
}

TEST_CASE("add_row_sparse: the sum of two row-sparse gradients of one table") {
  ops::RowSparse a =
      ops::segment_sum_rows(Tensor::from_vector(std::vector<int32_t>{4, 1, 4}, {3}),
                            Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}), 6);
  ops::RowSparse b =
      ops::segment_sum_rows(Tensor::from_vector(std::vector<int32_t>{0, 4}, {2}),
                            Tensor::from_vector(std::vector<float>{10, 20, 30, 40}, {2, 2}), 6);
  const ops::RowSparse sum = ops::add_row_sparse(a, b);
  CHECK(sum.num_rows == 6);
  CHECK(sum.indices.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 4});
  CHECK(sum.rows.to_vector<float>() == std::vector<float>{10, 20, 3, 4, 1 + 5 + 30, 2 + 6 + 40});
  // Equal to the dense sum.
  const std::vector<float> dense_a = ops::to_dense(a).to_vector<float>(),
                           dense_b = ops::to_dense(b).to_vector<float>();
  std::vector<float> want(dense_a.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = dense_a[i] + dense_b[i];
  CHECK(ops::to_dense(sum).to_vector<float>() == want);
  // Different tables are refused.
  b.num_rows = 7;
  CHECK_THROWS_AS(ops::add_row_sparse(a, b), Error);
}

}  // namespace ncf
