// Losses, CPU side and dispatch. Inputs are any shape (n elements), f32 or f64, same shape,
// dtype and device; the loss is a (1,) tensor of the same dtype, the gradient has the input's shape.
//   BCE with logits: mean of max(x, 0) - x*y + log(1 + exp(-|x|)); gradient (sigmoid(x) - y) / n.
//   MSE:             mean of (p - t)^2;                            gradient 2 (p - t) / n.
// Both gradients are multiplied by grad_out[0], a (1,) tensor read where it lives (on the GPU, by
// the kernel itself), so the backward pass never waits for the device.
// The per-element formulas are the functors of loss_functors.h; the mean is a fixed-order
// sum in double (cpu_blocked_sum here, cuda_fixed_order_sum in loss.cu).
#include "tensor/ops/loss.h"
#include "tensor/ops/loss_cuda.h"

#include "tensor/cpu_parallel.h"
#include "tensor/ops/loss_functors.h"

namespace ncf::ops {

namespace {

void check_loss_inputs(const Tensor& input, const Tensor& target, const char* op) {
  NCF_CHECK(input.defined() && target.defined(), op << ": undefined tensor");
  NCF_CHECK(input.dtype() == DType::f32 || input.dtype() == DType::f64,
            op << ": expects f32 or f64, got " << input.describe());
  NCF_CHECK(input.dtype() == target.dtype(),
            op << ": dtypes differ, input " << input.describe() << " vs target " << target.describe());
  check_same_device(input, target, op);
  check_same_shape(input, target, op);
  NCF_CHECK(input.numel() > 0, op << ": a mean over no elements, input " << input.describe());
}

template <class T, class F>
void cpu_loss_forward(const Tensor& input, const Tensor& target, Tensor& out, F term) {
  const T* x = input.data<T>();
  const T* y = target.data<T>();
  const int64_t n = input.numel();
  const double total = cpu_blocked_sum(n, [=](int64_t i) { return static_cast<double>(term(x[i], y[i])); });
  out.data<T>()[0] = static_cast<T>(total / static_cast<double>(n));
}

// grad_in[i] = grad(x[i], y[i]) * (grad_out / n), the same expression as the CUDA kernel.
template <class T, class F>
void cpu_loss_backward(const Tensor& input, const Tensor& target, const Tensor& grad_out, Tensor& grad_in,
                       F grad) {
  const T* x = input.data<T>();
  const T* y = target.data<T>();
  T* g = grad_in.data<T>();
  const int64_t n = input.numel();
  const T scale = grad_out.data<T>()[0] / static_cast<T>(n);
  cpu_for_chunks(n, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) g[i] = grad(x[i], y[i]) * scale;
  });
}

Tensor loss_forward(LossKind kind, const Tensor& input, const Tensor& target, const char* op) {
  check_loss_inputs(input, target, op);
  Tensor out = Tensor::empty(Shape{1}, input.dtype(), input.device());
  if (input.is_cuda()) {
    NCF_ON_CUDA(cuda_loss_forward(kind, input, target, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(input.dtype(), op, [&] {
    with_loss_functors(kind, [&](auto term, auto) { cpu_loss_forward<scalar_t>(input, target, out, term); });
  });
  return out;
}

Tensor loss_backward(LossKind kind, const Tensor& input, const Tensor& target, const Tensor& grad_out,
                     const char* op) {
  check_loss_inputs(input, target, op);
  NCF_CHECK(grad_out.defined() && grad_out.numel() == 1 && grad_out.dtype() == input.dtype(),
            op << ": grad_out must be one element of the input's dtype, got " << grad_out.describe()
               << " for input " << input.describe());
  check_same_device(input, grad_out, op);
  Tensor grad_in = Tensor::empty_like(input);
  if (input.is_cuda()) {
    NCF_ON_CUDA(cuda_loss_backward(kind, input, target, grad_out, grad_in));
    return grad_in;
  }
  NCF_DISPATCH_FLOAT(input.dtype(), op, [&] {
    with_loss_functors(
        kind, [&](auto, auto grad) { cpu_loss_backward<scalar_t>(input, target, grad_out, grad_in, grad); });
  });
  return grad_in;
}

}  // namespace

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets) {
  return loss_forward(LossKind::bce_with_logits, logits, targets, "bce_with_logits");
}
Tensor bce_with_logits_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad_out) {
  return loss_backward(LossKind::bce_with_logits, logits, targets, grad_out, "bce_with_logits_backward");
}
Tensor mse(const Tensor& predictions, const Tensor& targets) {
  return loss_forward(LossKind::mse, predictions, targets, "mse");
}
Tensor mse_backward(const Tensor& predictions, const Tensor& targets, const Tensor& grad_out) {
  return loss_backward(LossKind::mse, predictions, targets, grad_out, "mse_backward");
}

}  // namespace ncf::ops
