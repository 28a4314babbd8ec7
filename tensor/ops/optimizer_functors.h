// The update of one element by each optimizer (optimizer.cpp / optimizer.cu), exactly the formulas
// of optimizer.h, written once for the CPU loops and the CUDA kernels. The per-step constants are
// computed once on the host, in double, and stored as T.
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/ops/math.h"

namespace ncf::ops {

template <class T>
struct AdamUpdate {
  T lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
  T bias_correction1, bias_correction2;  // 1 - beta1^t, 1 - beta2^t

  static AdamUpdate make(double lr, double beta1, double beta2, double eps, double weight_decay,
                         int64_t step) {
    const double t = static_cast<double>(step);
    return AdamUpdate{static_cast<T>(lr),
                      static_cast<T>(beta1),
                      static_cast<T>(beta2),
                      static_cast<T>(1.0 - beta1),
                      static_cast<T>(1.0 - beta2),
                      static_cast<T>(eps),
                      static_cast<T>(weight_decay),
                      static_cast<T>(1.0 - std::pow(beta1, t)),
                      static_cast<T>(1.0 - std::pow(beta2, t))};
  }

  NCF_HD void operator()(T& param, T grad, T& exp_avg, T& exp_avg_sq) const {
    apply<true, true>(param, grad, exp_avg, exp_avg_sq);
  }

  // The update with the divisions by the bias corrections left out where kDivide is false: once
  // 1 - beta^t rounds to 1 in T, x / 1 is x exactly, so the bits are those of operator() (in f32,
  // from step 165 on for beta1 = 0.9 and from step 17,321 on for beta2 = 0.999). The CPU loops,
  // bound by the divisions and the square root, pick the variant once per call (settled_adam).
  template <bool kDivide1, bool kDivide2>
  NCF_HD void apply(T& param, T grad, T& exp_avg, T& exp_avg_sq) const {
    const T g = grad + weight_decay * param;  // L2 weight decay, added to the gradient
    exp_avg = beta1 * exp_avg + one_minus_beta1 * g;
    exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * g * g;
    const T m_hat = kDivide1 ? exp_avg / bias_correction1 : exp_avg;  // the moments start at 0
    const T v_hat = kDivide2 ? exp_avg_sq / bias_correction2 : exp_avg_sq;
    param -= lr * m_hat / (math_sqrt(v_hat) + eps);
  }
};

// AdamUpdate::apply as a functor, for loops templated on the update they run.
template <class T, bool kDivide1, bool kDivide2>
struct AdamUpdateVariant {
  AdamUpdate<T> update;
  NCF_HD void operator()(T& param, T grad, T& exp_avg, T& exp_avg_sq) const {
    update.template apply<kDivide1, kDivide2>(param, grad, exp_avg, exp_avg_sq);
  }
};

// Calls run(functor) with the variant of `update` that skips the bias corrections equal to 1.
template <class T, class Run>
void settled_adam(const AdamUpdate<T>& update, Run&& run) {
  const bool settled1 = update.bias_correction1 == T(1), settled2 = update.bias_correction2 == T(1);
  if (settled1 && settled2) return run(AdamUpdateVariant<T, false, false>{update});
  if (settled1) return run(AdamUpdateVariant<T, false, true>{update});
  run(AdamUpdateVariant<T, true, true>{update});
}

template <class T>
struct SgdUpdate {
  T lr, momentum, weight_decay;
  bool first_step;
  // `buffer` may be null when momentum is 0 (then the step is plain SGD).
  NCF_HD void operator()(T& param, T grad, T* buffer) const {
    const T g = grad + weight_decay * param;
    T direction = g;
    if (buffer) {
      direction = first_step ? g : momentum * *buffer + g;
      *buffer = direction;
    }
    param -= lr * direction;
  }
};

}  // namespace ncf::ops
