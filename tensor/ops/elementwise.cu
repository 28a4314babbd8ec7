// Element-wise ops on the GPU: grid-stride kernels that run the functors of elementwise_functors.h,
// the same ones the CPU loops run. Inputs were validated and outputs allocated by elementwise.cpp;
// every tensor here is contiguous, on one device, with the shapes checked there.
//
// A grid-stride loop (i += gridDim.x * blockDim.x) lets a grid of bounded size cover any n, so the
// launch configuration does not depend on the data, and consecutive threads touch consecutive
// elements (coalesced memory access).
#include "tensor/cuda_context.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/elementwise_cuda.h"
#include "tensor/ops/elementwise_functors.h"
#include "tensor/ops/random_functors.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

template <class T, class F>
__global__ void map_kernel(const T* __restrict__ in, T* out, int64_t n, F f) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = f(in[i]);
}

// b is read at i (same), i % cols (row), i / cols (column) or 0 (scalar); the mode is a template
// argument so that each kernel has no per-element branch on it. `out` may alias `a` (axpy_).
template <class T, class F, Broadcast kMode>
__global__ void binary_kernel(const T* a, const T* __restrict__ b, T* out, int64_t n, int64_t cols, F f) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t j = kMode == Broadcast::same     ? i
                      : kMode == Broadcast::row    ? i % cols
                      : kMode == Broadcast::column ? i / cols
                                                   : 0;
    out[i] = f(a[i], b[j]);
  }
}

template <class T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = value;
}

template <class In, class Out>
__global__ void cast_kernel(const In* __restrict__ in, Out* out, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = static_cast<Out>(in[i]);
}

template <class T>
__global__ void dropout_kernel(const T* __restrict__ in, T* out, uint8_t* mask, int64_t n, float p, T scale,
                               uint64_t seed, uint32_t stream, uint64_t counter_of_first) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const bool keep = dropout_keep(seed, stream, counter_of_first + static_cast<uint64_t>(i), p);
    mask[i] = keep ? 1 : 0;
    out[i] = keep ? in[i] * scale : T(0);
  }
}

template <class T>
__global__ void dropout_backward_kernel(const T* __restrict__ grad, const uint8_t* __restrict__ mask, T* out,
                                        int64_t n, T scale) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = mask[i] ? grad[i] * scale : T(0);
}

cudaStream_t stream_of(const Tensor& t) { return cuda_stream(t.device().index); }

template <class T, class F>
void launch_map(const Tensor& x, Tensor& out, F f) {
  const int64_t n = x.numel();
  if (n == 0) return;
  map_kernel<T>
      <<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(x)>>>(x.data<T>(), out.data<T>(), n, f);
  NCF_CUDA_LAUNCH_CHECK("map_kernel");
}

template <class T, class F>
void launch_binary(const Tensor& a, const Tensor& b, Broadcast mode, Tensor& out, F f) {
  const int64_t n = a.numel();
  if (n == 0) return;
  const int64_t cols = mode == Broadcast::row || mode == Broadcast::column ? a.dim(1) : 1;
  const unsigned blocks = cuda_blocks_for(n, kThreads);
  const cudaStream_t stream = stream_of(a);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  switch (mode) {
    case Broadcast::same:
      binary_kernel<T, F, Broadcast::same><<<blocks, kThreads, 0, stream>>>(pa, pb, po, n, cols, f);
      break;
    case Broadcast::row:
      binary_kernel<T, F, Broadcast::row><<<blocks, kThreads, 0, stream>>>(pa, pb, po, n, cols, f);
      break;
    case Broadcast::column:
      binary_kernel<T, F, Broadcast::column><<<blocks, kThreads, 0, stream>>>(pa, pb, po, n, cols, f);
      break;
    case Broadcast::scalar:
      binary_kernel<T, F, Broadcast::scalar><<<blocks, kThreads, 0, stream>>>(pa, pb, po, n, cols, f);
      break;
  }
  NCF_CUDA_LAUNCH_CHECK("binary_kernel");
}

}  // namespace

void cuda_unary(UnaryOp op, const Tensor& x, Tensor& out) {
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda unary",
                     [&] { with_unary_functor(op, [&](auto f) { launch_map<scalar_t>(x, out, f); }); });
}

void cuda_scale(const Tensor& x, double alpha, Tensor& out) {
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda scale", [&] { launch_map<scalar_t>(x, out, ScaleFn{alpha}); });
}

void cuda_binary(BinaryOp op, const Tensor& a, const Tensor& b, Broadcast broadcast, Tensor& out) {
  NCF_DISPATCH_FLOAT(a.dtype(), "cuda binary", [&] {
    with_binary_functor(op, [&](auto f) { launch_binary<scalar_t>(a, b, broadcast, out, f); });
  });
}

void cuda_axpy(Tensor& y, double alpha, const Tensor& x) {
  NCF_DISPATCH_FLOAT(y.dtype(), "cuda axpy_",
                     [&] { launch_binary<scalar_t>(y, x, Broadcast::same, y, AxpyFn{alpha}); });
}

void cuda_fill(Tensor& t, double value) {
  const int64_t n = t.numel();
  if (n == 0) return;
  dispatch_any_dtype(t.dtype(), [&](auto type_tag) {
    using T = decltype(type_tag);
    fill_kernel<T>
        <<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(t)>>>(t.data<T>(), n, static_cast<T>(value));
    NCF_CUDA_LAUNCH_CHECK("fill_kernel");
  });
}

void cuda_cast(const Tensor& x, Tensor& out) {
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_any_dtype(x.dtype(), [&](auto in_tag) {
    using In = decltype(in_tag);
    dispatch_any_dtype(out.dtype(), [&](auto out_tag) {
      using Out = decltype(out_tag);
      cast_kernel<In, Out>
          <<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(x)>>>(x.data<In>(), out.data<Out>(), n);
      NCF_CUDA_LAUNCH_CHECK("cast_kernel");
    });
  });
}

void cuda_activation_backward(UnaryOp op, const Tensor& grad_out, const Tensor& saved, Tensor& out) {
  NCF_DISPATCH_FLOAT(grad_out.dtype(), "cuda activation backward", [&] {
    with_activation_backward_functor(
        op, [&](auto f) { launch_binary<scalar_t>(grad_out, saved, Broadcast::same, out, f); });
  });
}

void cuda_dropout(const Tensor& x, double p, uint64_t seed, uint32_t stream, uint64_t counter_of_first,
                  Tensor& mask, Tensor& out) {
  const int64_t n = x.numel();
  if (n == 0) return;
  NCF_DISPATCH_FLOAT(x.dtype(), "cuda dropout", [&] {
    const scalar_t scale = static_cast<scalar_t>(p < 1.0 ? 1.0 / (1.0 - p) : 0.0);
    dropout_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(x)>>>(
        x.data<scalar_t>(), out.data<scalar_t>(), mask.data<uint8_t>(), n, static_cast<float>(p), scale, seed,
        stream, counter_of_first);
    NCF_CUDA_LAUNCH_CHECK("dropout_kernel");
  });
}

void cuda_dropout_backward(const Tensor& grad_out, const Tensor& mask, double p, Tensor& out) {
  const int64_t n = grad_out.numel();
  if (n == 0) return;
  NCF_DISPATCH_FLOAT(grad_out.dtype(), "cuda dropout_backward", [&] {
    const scalar_t scale = static_cast<scalar_t>(p < 1.0 ? 1.0 / (1.0 - p) : 0.0);
    dropout_backward_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, stream_of(grad_out)>>>(
        grad_out.data<scalar_t>(), mask.data<uint8_t>(), out.data<scalar_t>(), n, scale);
    NCF_CUDA_LAUNCH_CHECK("dropout_backward_kernel");
  });
}

}  // namespace ncf::ops
