// The per-element terms of the losses (loss.cpp / loss.cu) and their gradients before the 1/n and
// grad_out factors, written once for the CPU loop and the CUDA kernel.
#pragma once

#include "tensor/ops/math.h"

namespace ncf::ops {

enum class LossKind { bce_with_logits, mse };

struct BceWithLogitsFn {  // max(x, 0) - x*y + log(1 + exp(-|x|))
  template <class T>
  NCF_HD T operator()(T x, T y) const {
    return (x > T(0) ? x : T(0)) - x * y + log1p_exp_negative_abs(x);
  }
};
struct BceWithLogitsGradFn {  // sigmoid(x) - y
  template <class T>
  NCF_HD T operator()(T x, T y) const {
    return stable_sigmoid(x) - y;
  }
};
struct SquaredErrorFn {  // (p - t)^2
  template <class T>
  NCF_HD T operator()(T p, T t) const {
    return (p - t) * (p - t);
  }
};
struct SquaredErrorGradFn {  // 2 (p - t)
  template <class T>
  NCF_HD T operator()(T p, T t) const {
    return T(2) * (p - t);
  }
};

// Calls fn(term, grad) with the functors of a loss (a generic lambda: each loss gets its own loop).
template <class Fn>
void with_loss_functors(LossKind kind, Fn&& fn) {
  if (kind == LossKind::bce_with_logits) return fn(BceWithLogitsFn{}, BceWithLogitsGradFn{});
  return fn(SquaredErrorFn{}, SquaredErrorGradFn{});
}

}  // namespace ncf::ops
