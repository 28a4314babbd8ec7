// Group ops on the GPU (shapes and rules in groups.h): one thread per output element, grid-stride.
// sum_groups adds a group's S rows in increasing order, as the CPU does, so the bits match.
#include "tensor/cuda_context.h"
#include "tensor/ops/groups.h"
#include "tensor/ops/groups_cuda.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

__global__ void group_firsts_kernel(const int32_t* __restrict__ x, int64_t group, int64_t groups,
                                    int32_t* out) {
  for (int64_t g = first_index(); g < groups; g += grid_stride()) out[g] = x[g * group];
}

template <class T>
__global__ void expand_groups_kernel(const T* __restrict__ x, int64_t group, int64_t d, int64_t n, T* out) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t r = e / d, c = e % d;
    out[e] = x[(r / group) * d + c];
  }
}

template <class T>
__global__ void add_groups_kernel(T* y, const T* __restrict__ x, int64_t group, int64_t d, int64_t n) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t r = e / d, c = e % d;
    y[e] += x[(r / group) * d + c];
  }
}

template <class T>
__global__ void sum_groups_kernel(const T* __restrict__ x, int64_t group, int64_t d, int64_t n, T* out) {
  for (int64_t e = first_index(); e < n; e += grid_stride()) {
    const int64_t g = e / d, c = e % d;
    const T* first = x + g * group * d + c;
    T sum = first[0];
    for (int64_t j = 1; j < group; ++j) sum += first[j * d];
    out[e] = sum;
  }
}

cudaStream_t stream_of(const Tensor& t) { return cuda_stream(t.device().index); }

}  // namespace

void cuda_group_firsts(const Tensor& x, int64_t group, Tensor& out) {
  const int64_t groups = out.numel();
  group_firsts_kernel<<<cuda_blocks_for(groups, kThreads), kThreads, 0, stream_of(x)>>>(
      x.data<int32_t>(), group, groups, out.data<int32_t>());
  NCF_CUDA_LAUNCH_CHECK("group_firsts_kernel");
}

void cuda_expand_groups(const Tensor& x, int64_t group, Tensor& out) {
  const int64_t n = out.numel();
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda expand_groups", [&] {
    expand_groups_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(x)>>>(
        x.data<scalar_t>(), group, x.dim(1), n, out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("expand_groups_kernel");
  });
}

void cuda_add_groups(Tensor& y, const Tensor& x, int64_t group) {
  const int64_t n = y.numel();
  NCF_DISPATCH_FLOAT(y.dtype(), "cuda add_groups_", [&] {
    add_groups_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(y)>>>(
        y.data<scalar_t>(), x.data<scalar_t>(), group, y.dim(1), n);
    NCF_CUDA_LAUNCH_CHECK("add_groups_kernel");
  });
}

void cuda_sum_groups(const Tensor& x, int64_t group, Tensor& out) {
  const int64_t n = out.numel();
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda sum_groups", [&] {
    sum_groups_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(x)>>>(
        x.data<scalar_t>(), group, x.dim(1), n, out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("sum_groups_kernel");
  });
}

}  // namespace ncf::ops
