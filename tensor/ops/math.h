// Scalar math used by the per-element functors of every op family, overloaded on float and double
// and compiled for both host and device (NCF_HD). Calling expf for float (not exp) keeps f32 math in
// single precision on both the CPU and the GPU, so the two agree to rounding.
#pragma once

#include <cmath>

#include "tensor/host_device.h"

namespace ncf::ops {

NCF_HD float math_exp(float x) { return expf(x); }
NCF_HD double math_exp(double x) { return exp(x); }
NCF_HD float math_log1p(float x) { return log1pf(x); }
NCF_HD double math_log1p(double x) { return log1p(x); }
NCF_HD float math_sqrt(float x) { return sqrtf(x); }
NCF_HD double math_sqrt(double x) { return sqrt(x); }
NCF_HD float math_fma(float a, float b, float c) { return fmaf(a, b, c); }
NCF_HD double math_fma(double a, double b, double c) { return fma(a, b, c); }

// Logistic function without overflow: exp is only ever taken of a non-positive number.
template <class T>
NCF_HD T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + math_exp(-x));
  const T e = math_exp(x);
  return e / (T(1) + e);
}

// log(1 + exp(-|x|)), the smooth part shared by log-sigmoid and BCE-with-logits: finite for any x.
template <class T>
NCF_HD T log1p_exp_negative_abs(T x) {
  return math_log1p(math_exp(x < T(0) ? x : -x));
}

}  // namespace ncf::ops
