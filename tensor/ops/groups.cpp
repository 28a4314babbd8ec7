// Group ops on the CPU (shapes and rules in groups.h); the GPU side is groups.cu.
#include "tensor/ops/groups.h"
#include "tensor/cpu_parallel.h"
#include "tensor/ops/groups_cuda.h"

#include <cstring>

namespace ncf::ops {

namespace {

constexpr int64_t kParallelElements = 1 << 16;  // elements touched from which OpenMP pays

// The number of groups of x's rows (checked to divide them), for an op named `op`.
int64_t checked_groups(const Tensor& x, int64_t group, const char* op) {
  NCF_CHECK(group >= 1, op << ": the group size must be >= 1, got " << group);
  NCF_CHECK(x.ndim() >= 1 && x.dim(0) % group == 0,
            op << ": " << x.describe() << " does not hold whole groups of " << group << " rows");
  return x.dim(0) / group;
}

void check_float_matrix(const Tensor& x, const char* op, const char* what) {
  NCF_CHECK(x.defined() && x.ndim() == 2 && (x.dtype() == DType::f32 || x.dtype() == DType::f64),
            op << ": " << what << " must be a 2-D f32/f64 tensor, got " << x.describe());
}

template <class T>
void add_groups_cpu(T* y, const T* x, int64_t rows, int64_t d, int64_t group) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (rows * d >= kParallelElements)
  for (int64_t r = 0; r < rows; ++r) {
    const T* src = x + (r / group) * d;
    T* dst = y + r * d;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
  }
}

template <class T>
void sum_groups_cpu(const T* x, int64_t groups, int64_t d, int64_t group, T* out) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (groups * group * d >= kParallelElements)
  for (int64_t g = 0; g < groups; ++g) {
    T* dst = out + g * d;
    const T* first = x + g * group * d;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) dst[c] = first[c];
    for (int64_t j = 1; j < group; ++j) {  // the group's rows in order: the GPU sums them so too
      const T* src = first + j * d;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
    }
  }
}

}  // namespace

Tensor group_firsts(const Tensor& x, int64_t group) {
  NCF_CHECK(x.defined() && x.ndim() == 1 && x.dtype() == DType::i32,
            "group_firsts: x must be (rows,) i32, got " << x.describe());
  const int64_t groups = checked_groups(x, group, "group_firsts");
  Tensor out = Tensor::empty({groups}, DType::i32, x.device());
  if (groups == 0) return out;
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_group_firsts(x, group, out));
    return out;
  }
  const int32_t* in = x.data<int32_t>();
  int32_t* o = out.data<int32_t>();
  for (int64_t g = 0; g < groups; ++g) {
    o[g] = in[g * group];
    for (int64_t j = 1; j < group; ++j)
      NCF_CHECK(in[g * group + j] == o[g], "group_firsts: row "
                                               << g * group + j << " holds " << in[g * group + j]
                                               << ", its group's first row " << o[g]
                                               << ": the rows are not in groups of " << group);
  }
  return out;
}

Tensor expand_groups(const Tensor& x, int64_t group) {
  check_float_matrix(x, "expand_groups", "x");
  NCF_CHECK(group >= 1, "expand_groups: the group size must be >= 1, got " << group);
  const int64_t groups = x.dim(0), d = x.dim(1);
  Tensor out = Tensor::empty({groups * group, d}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_expand_groups(x, group, out));
    return out;
  }
  const size_t row_bytes = static_cast<size_t>(d) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (out.numel() >= kParallelElements)
  for (int64_t r = 0; r < groups * group; ++r)
    std::memcpy(dst + r * row_bytes, src + (r / group) * row_bytes, row_bytes);
  return out;
}

void add_groups_(Tensor& y, const Tensor& x, int64_t group) {
  check_float_matrix(y, "add_groups_", "y");
  check_float_matrix(x, "add_groups_", "x");
  const int64_t groups = checked_groups(y, group, "add_groups_");
  NCF_CHECK(x.dim(0) == groups && x.dim(1) == y.dim(1) && x.dtype() == y.dtype(),
            "add_groups_: x " << x.describe() << " must be one row per group of y " << y.describe()
                              << " (groups of " << group << ")");
  check_same_device(x, y, "add_groups_");
  if (y.numel() == 0) return;
  if (y.is_cuda()) return NCF_ON_CUDA(cuda_add_groups(y, x, group));
  NCF_DISPATCH_FLOAT(y.dtype(), "add_groups_", [&] {
    add_groups_cpu(y.data<scalar_t>(), x.data<scalar_t>(), y.dim(0), y.dim(1), group);
  });
}

Tensor sum_groups(const Tensor& x, int64_t group) {
  check_float_matrix(x, "sum_groups", "x");
  const int64_t groups = checked_groups(x, group, "sum_groups"), d = x.dim(1);
  Tensor out = Tensor::empty({groups, d}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_sum_groups(x, group, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(x.dtype(), "sum_groups",
                     [&] { sum_groups_cpu(x.data<scalar_t>(), groups, d, group, out.data<scalar_t>()); });
  return out;
}

}  // namespace ncf::ops
