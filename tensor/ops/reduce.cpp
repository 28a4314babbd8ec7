// Reductions, CPU side and dispatch: sum / mean of all elements -> (1,), and the sum along one axis
// of an up-to-4-D tensor, the axis removed ((rows, cols) axis 0 -> (cols,); a 1-D input -> (1,)).
//
// Sums accumulate in double (also for f32, so adding 16k small gradients loses nothing) and in a
// fixed order, so a result has the same bits whatever the number of OpenMP threads:
//   - sum/mean: cpu_blocked_sum (fixed blocks whose sums are added in block order);
//   - sum_axis: each output element is added up by one thread, from the first index to the last.
// An axis reduction views the tensor as (outer, len, inner): outer = product of the dimensions
// before the axis, len = the axis, inner = product of those after it.
#include "tensor/ops/reduce.h"
#include "tensor/ops/reduce_cuda.h"

#include "tensor/cpu_parallel.h"

namespace ncf::ops {

namespace {

void check_float_input(const Tensor& x, const char* op) {
  NCF_CHECK(x.defined(), op << ": undefined tensor");
  NCF_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64,
            op << ": expects f32 or f64, got " << x.describe());
}

// out[0] = (sum of x) / divisor.
Tensor sum_all(const Tensor& x, double divisor, const char* op) {
  check_float_input(x, op);
  Tensor out = Tensor::empty(Shape{1}, x.dtype(), x.device());
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_sum(x, divisor, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(x.dtype(), op, [&] {
    const scalar_t* p = x.data<scalar_t>();
    const double total = cpu_blocked_sum(x.numel(), [p](int64_t i) { return static_cast<double>(p[i]); });
    out.data<scalar_t>()[0] = static_cast<scalar_t>(total / divisor);
  });
  return out;
}

// x seen as (outer, len, inner); out[o, k] = (sum over j of x[o, j, k]) / divisor.
template <class T>
void cpu_sum_axis(const T* x, int64_t outer, int64_t len, int64_t inner, double divisor, T* out) {
  const bool parallel = outer * len * inner >= kParallelThreshold;
  if (inner == 1) {
    // Each output is the sum of one contiguous row of length len.
    auto row_sum = [&](int64_t o) {
      const T* row = x + o * len;
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < len; ++j) acc += static_cast<double>(row[j]);
      out[o] = static_cast<T>(acc / divisor);
    };
    if (parallel) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
      for (int64_t o = 0; o < outer; ++o) row_sum(o);
    } else {
      for (int64_t o = 0; o < outer; ++o) row_sum(o);
    }
    return;
  }
  // inner > 1: add whole rows of `inner` contiguous values into a row of accumulators, which
  // vectorises. The accumulators live on the stack, a chunk of columns at a time.
  constexpr int64_t kColumnChunk = 256;
  const int64_t chunks_per_outer = (inner + kColumnChunk - 1) / kColumnChunk;
  auto column_chunk = [&](int64_t task) {
    const int64_t o = task / chunks_per_outer;
    const int64_t k0 = (task % chunks_per_outer) * kColumnChunk;
    const int64_t width = inner - k0 < kColumnChunk ? inner - k0 : kColumnChunk;
    double acc[kColumnChunk];
    for (int64_t k = 0; k < width; ++k) acc[k] = 0.0;
    for (int64_t j = 0; j < len; ++j) {
      const T* src = x + (o * len + j) * inner + k0;
#pragma omp simd
      for (int64_t k = 0; k < width; ++k) acc[k] += static_cast<double>(src[k]);
    }
    T* dst = out + o * inner + k0;
    for (int64_t k = 0; k < width; ++k) dst[k] = static_cast<T>(acc[k] / divisor);
  };
  const int64_t tasks = outer * chunks_per_outer;
  if (parallel) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
    for (int64_t t = 0; t < tasks; ++t) column_chunk(t);
  } else {
    for (int64_t t = 0; t < tasks; ++t) column_chunk(t);
  }
}

Tensor reduce_axis(const Tensor& x, int axis, const char* op) {
  check_float_input(x, op);
  const int ndim = x.ndim();
  NCF_CHECK(ndim >= 1, op << ": needs at least one dimension, got " << x.describe());
  NCF_CHECK(axis >= -ndim && axis < ndim, op << ": axis " << axis << " out of range for " << x.describe());
  if (axis < 0) axis += ndim;

  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dim(i);
  for (int i = axis + 1; i < ndim; ++i) inner *= x.dim(i);
  const int64_t len = x.dim(axis);

  // The remaining dimensions, in order; a 1-D input reduces to (1,).
  int64_t kept[Shape::kMaxDims];
  int kept_count = 0;
  for (int i = 0; i < ndim; ++i)
    if (i != axis) kept[kept_count++] = x.dim(i);
  const Shape out_shape = kept_count == 0   ? Shape{1}
                          : kept_count == 1 ? Shape{kept[0]}
                          : kept_count == 2 ? Shape{kept[0], kept[1]}
                                            : Shape{kept[0], kept[1], kept[2]};
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  const double divisor = 1.0;
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_sum_axis(x, outer, len, inner, divisor, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(x.dtype(), op, [&] {
    cpu_sum_axis<scalar_t>(x.data<scalar_t>(), outer, len, inner, divisor, out.data<scalar_t>());
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_all(x, 1.0, "sum"); }

Tensor mean(const Tensor& x) {
  NCF_CHECK(x.defined() && x.numel() > 0, "mean: needs at least one element, got " << x.describe());
  return sum_all(x, static_cast<double>(x.numel()), "mean");
}

Tensor sum_axis(const Tensor& x, int axis) { return reduce_axis(x, axis, "sum_axis"); }

}  // namespace ncf::ops
