// The random value of element i of each random op (random.cpp / random.cu), a pure function of
// (seed, stream, i) through Philox (tensor/philox.h), so a CPU loop and a CUDA grid fill a tensor
// with the same values. An explicit fma makes each affine map round once on both devices (compilers
// may or may not fuse a*b+c on their own).
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/ops/math.h"
#include "tensor/philox.h"

namespace ncf::ops {

template <class T>
NCF_HD T random_uniform_value(uint64_t seed, uint32_t stream, uint64_t index, double low, double high);
template <>
NCF_HD float random_uniform_value<float>(uint64_t seed, uint32_t stream, uint64_t index, double low,
                                         double high) {
  const Philox4 r = philox_draw(seed, stream, index);
  return math_fma(static_cast<float>(high - low), philox_unit_float(r.v[0]), static_cast<float>(low));
}
template <>
NCF_HD double random_uniform_value<double>(uint64_t seed, uint32_t stream, uint64_t index, double low,
                                           double high) {
  const Philox4 r = philox_draw(seed, stream, index);
  return math_fma(high - low, philox_unit_double(r.v[0], r.v[1]), low);
}

// Standard normal in double precision by Box-Muller on two 53-bit uniforms.
NCF_HD double philox_normal_double(const Philox4& r) {
  const double u1 = 1.0 - philox_unit_double(r.v[0], r.v[1]);  // (0, 1]: the log is finite
  const double u2 = philox_unit_double(r.v[2], r.v[3]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

template <class T>
NCF_HD T random_normal_value(uint64_t seed, uint32_t stream, uint64_t index, double mean, double stddev);
template <>
NCF_HD float random_normal_value<float>(uint64_t seed, uint32_t stream, uint64_t index, double mean,
                                        double stddev) {
  const Philox4 r = philox_draw(seed, stream, index);
  return math_fma(static_cast<float>(stddev), philox_normal(r.v[0], r.v[1]), static_cast<float>(mean));
}
template <>
NCF_HD double random_normal_value<double>(uint64_t seed, uint32_t stream, uint64_t index, double mean,
                                          double stddev) {
  return math_fma(stddev, philox_normal_double(philox_draw(seed, stream, index)), mean);
}

// The 64-bit sort key of element i of randperm.
NCF_HD uint64_t randperm_key(uint64_t seed, uint32_t stream, uint64_t index) {
  const Philox4 r = philox_draw(seed, stream, index);
  return (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
}

// Dropout keeps element i when a uniform draw from Philox(seed, stream, i) is >= p.
NCF_HD bool dropout_keep(uint64_t seed, uint32_t stream, uint64_t index, float p) {
  return philox_unit_float(philox_draw(seed, stream, index).v[0]) >= p;
}

}  // namespace ncf::ops
