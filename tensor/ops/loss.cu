// Losses on the GPU (see loss.cpp for the formulas and shapes).
//   Forward: the per-element term is computed and summed in one pass by cuda_fixed_order_sum
//            (a fixed grid, per-block partial sums in double, one block adding them in order):
//            the same bits run after run, no float atomics.
//   Backward: one grid-stride kernel; grad_out[0] is read by the kernel, so nothing waits for the GPU.
#include "tensor/cuda_context.h"
#include "tensor/ops/cuda_reduce.cuh"
#include "tensor/ops/loss.h"
#include "tensor/ops/loss_cuda.h"
#include "tensor/ops/loss_functors.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

// The loss term of element i, in double, for the fixed-order sum.
template <class T, class F>
struct LossTerm {
  const T* input;
  const T* target;
  F term;
  __device__ double operator()(int64_t i) const { return static_cast<double>(term(input[i], target[i])); }
};

template <class T, class F>
__global__ void loss_backward_kernel(const T* __restrict__ input, const T* __restrict__ target,
                                     const T* __restrict__ grad_out, T* grad_in, int64_t n, F grad) {
  const T scale = grad_out[0] / static_cast<T>(n);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    grad_in[i] = grad(input[i], target[i]) * scale;
}

template <class T, class F>
void launch_forward(const Tensor& input, const Tensor& target, Tensor& out, F term) {
  const int64_t n = input.numel();
  cuda_fixed_order_sum(LossTerm<T, F>{input.data<T>(), target.data<T>(), term}, n, static_cast<double>(n),
                       out.data<T>(), input.device());
}

template <class T, class F>
void launch_backward(const Tensor& input, const Tensor& target, const Tensor& grad_out, Tensor& grad_in,
                     F grad) {
  const int64_t n = input.numel();
  loss_backward_kernel<T><<<cuda_blocks_for(n, kThreads), kThreads, 0, cuda_stream(input.device().index)>>>(
      input.data<T>(), target.data<T>(), grad_out.data<T>(), grad_in.data<T>(), n, grad);
  NCF_CUDA_LAUNCH_CHECK("loss_backward_kernel");
}

}  // namespace

void cuda_loss_forward(LossKind kind, const Tensor& input, const Tensor& target, Tensor& out) {
  NCF_DISPATCH_FLOAT(input.dtype(), "cuda loss", [&] {
    with_loss_functors(kind, [&](auto term, auto) { launch_forward<scalar_t>(input, target, out, term); });
  });
}

void cuda_loss_backward(LossKind kind, const Tensor& input, const Tensor& target, const Tensor& grad_out,
                        Tensor& grad_in) {
  NCF_DISPATCH_FLOAT(input.dtype(), "cuda loss backward", [&] {
    with_loss_functors(
        kind, [&](auto, auto grad) { launch_backward<scalar_t>(input, target, grad_out, grad_in, grad); });
  });
}

}  // namespace ncf::ops
