// Top-k along rows on the CPU:
//   topk_rows     scores (rows, cols) f32, k <= cols -> values (rows, k) f32, indices (rows, k) i32
// Order rule, shared with the GPU (CUB radix sort): larger first, equal values in ascending column order (a
// stable sort), -0.0 equal to +0.0, NaN above +inf. (On the GPU a NaN with its sign bit set sorts below -inf
// instead; scores should not be NaN.) Rows are independent, so the loops over rows run in parallel when there
// is enough work.
#include "tensor/ops/sort.h"
#include "tensor/cpu_parallel.h"
#include "tensor/ops/sort_cuda.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace ncf::ops {

namespace {

constexpr int64_t kParallelElements = 1 << 15;  // row elements from which OpenMP pays

template <class T>
bool is_nan(T v) {
  return v != v;  // false for every integer
}

// Does (value a at column i) come before (value b at column j)? A strict weak order, NaNs included.
template <class T>
bool comes_before(T a, int32_t i, T b, int32_t j, bool descending) {
  if (a < b) return !descending;
  if (b < a) return descending;
  const bool a_nan = is_nan(a), b_nan = is_nan(b);
  if (a_nan != b_nan) return descending ? a_nan : b_nan;  // NaN is the largest value
  return i < j;                                           // equal: the earlier column first
}

// The thread's reusable column buffer, filled with 0, 1, ..., cols-1.
std::vector<int32_t>& column_order(int64_t cols) {
  thread_local std::vector<int32_t> order;
  order.resize(static_cast<size_t>(cols));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

void ensure_output(Tensor& t, const Shape& shape, DType dtype, Device device) {
  if (!t.defined() || t.shape() != shape || t.dtype() != dtype || t.device() != device)
    t = Tensor::empty(shape, dtype, device);
}

}  // namespace

void topk_rows(const Tensor& scores, int64_t k, Tensor& values, Tensor& indices) {
  NCF_CHECK(scores.ndim() == 2, "topk_rows: scores must be 2-D, got " << scores.describe());
  check_dtype(scores, DType::f32, "topk_rows", "scores");
  const int64_t rows = scores.dim(0), cols = scores.dim(1);
  NCF_CHECK(k >= 0 && k <= cols,
            "topk_rows: k = " << k << " must be in [0, " << cols << "] for scores " << scores.shape());
  NCF_CHECK(cols <= INT32_MAX, "topk_rows: column indices are i32, got " << cols << " columns");
  // The caller may pass tensors of the right shape to be reused; anything else is replaced.
  ensure_output(values, Shape{rows, k}, DType::f32, scores.device());
  ensure_output(indices, Shape{rows, k}, DType::i32, scores.device());
  if (rows == 0 || k == 0) return;
  if (scores.is_cuda()) return NCF_ON_CUDA(cuda_topk_rows(scores, k, values, indices));
  const float* s = scores.data<float>();
  float* top_values = values.data<float>();
  int32_t* top_indices = indices.data<int32_t>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(dynamic, 8) if (rows * cols >= kParallelElements && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = s + r * cols;
    std::vector<int32_t>& order = column_order(cols);
    // Only the first k places are put in order: O(cols log k) instead of a full sort.
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [row](int32_t i, int32_t j) { return comes_before(row[i], i, row[j], j, true); });
    for (int64_t t = 0; t < k; ++t) {
      top_indices[r * k + t] = order[t];
      top_values[r * k + t] = row[order[t]];
    }
  }
}

}  // namespace ncf::ops
