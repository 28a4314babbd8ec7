// concat_cols, split_cols and repeat_rows on the CPU against element-by-element loops, for each
// dtype, zero-width parts, round trips and the error messages.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tensor/ops/concat.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

// A (rows, cols) tensor whose element (r, c) is base + 100 r + c: every value tells where it came from.
template <class T>
Tensor labelled(int64_t rows, int64_t cols, int base) {
  std::vector<T> values(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) values[r * cols + c] = static_cast<T>(base + 100 * r + c);
  return Tensor::from_vector(values, {rows, cols});
}

template <class T>
void check_concat_and_split(const std::vector<int64_t>& widths, int64_t rows) {
  CAPTURE(rows);
  std::vector<Tensor> parts;
  for (size_t p = 0; p < widths.size(); ++p) parts.push_back(labelled<T>(rows, widths[p], 10 * int(p)));
  const Tensor joined = ops::concat_cols(parts);
  int64_t total = 0;
  for (int64_t w : widths) total += w;
  REQUIRE(joined.shape() == Shape{rows, total});
  // Reference: walk the parts element by element.
  std::vector<T> want;
  for (int64_t r = 0; r < rows; ++r)
    for (const Tensor& part : parts) {
      const std::vector<T> values = part.to_vector<T>();
      for (int64_t c = 0; c < part.dim(1); ++c) want.push_back(values[r * part.dim(1) + c]);
    }
  CHECK(joined.to_vector<T>() == want);

  const std::vector<Tensor> back = ops::split_cols(joined, widths);
  REQUIRE(back.size() == parts.size());
  for (size_t p = 0; p < parts.size(); ++p) {
    CHECK(back[p].shape() == parts[p].shape());
    CHECK(back[p].to_vector<T>() == parts[p].to_vector<T>());
  }
}

}  // namespace

TEST_CASE("concat_cols / split_cols: every dtype, a round trip gives the parts back") {
  check_concat_and_split<float>({8, 8}, 5);
  check_concat_and_split<float>({3, 1, 7}, 4);
  check_concat_and_split<double>({2, 5}, 3);
  check_concat_and_split<int32_t>({1, 2, 3, 4}, 6);
  check_concat_and_split<uint8_t>({3, 5}, 7);
  check_concat_and_split<float>({0, 4, 0, 2}, 3);  // zero-width parts
  check_concat_and_split<float>({64, 32}, 5000);   // large enough for the parallel loop
  check_concat_and_split<float>({6}, 2);           // a single part
  check_concat_and_split<float>({2, 3}, 0);        // no rows
}

TEST_CASE("concat_cols / split_cols: errors name the shapes") {
  try {
    ops::concat_cols({Tensor::zeros({3, 2}), Tensor::zeros({4, 2})});
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(3, 2)") != std::string::npos);
    CHECK(message.find("(4, 2)") != std::string::npos);
  }
  CHECK_THROWS_AS(ops::concat_cols({Tensor::zeros({3, 2}), Tensor::zeros({3, 2}, DType::f64)}), Error);
  CHECK_THROWS_AS(ops::concat_cols({}), Error);
  CHECK_THROWS_AS(ops::concat_cols({Tensor::zeros({3})}), Error);
  CHECK_THROWS_WITH_AS(ops::split_cols(Tensor::zeros({3, 5}), {2, 2}), doctest::Contains("(3, 5)"), Error);
  CHECK_THROWS_AS(ops::split_cols(Tensor::zeros({3, 5}), {6, -1}), Error);
}

TEST_CASE("repeat_rows: (d,) or (1, d) copied to every row") {
  const Tensor row = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  const Tensor out = ops::repeat_rows(row, 4);
  CHECK(out.shape() == Shape{4, 3});
  CHECK(out.to_vector<float>() == std::vector<float>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
  const Tensor from_matrix = ops::repeat_rows(Tensor::from_vector(std::vector<int32_t>{7, 9}, {1, 2}), 2);
  CHECK(from_matrix.to_vector<int32_t>() == std::vector<int32_t>{7, 9, 7, 9});
  CHECK(ops::repeat_rows(row, 0).shape() == Shape{0, 3});
  CHECK_THROWS_WITH_AS(ops::repeat_rows(Tensor::zeros({2, 3}), 4), doctest::Contains("(2, 3)"), Error);
}

}  // namespace ncf
