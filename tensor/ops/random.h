// Random tensors from the project's counter-based Philox4x32-10 (tensor/philox.h): element i of a
// draw is a function of (seed, stream, i) only, so a CPU loop and a CUDA grid give the same values.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace ncf::ops {

void uniform_(Tensor& t, double low, double high, uint64_t seed, uint32_t stream);    // f32/f64
void normal_(Tensor& t, double mean, double stddev, uint64_t seed, uint32_t stream);  // f32/f64
// A permutation of 0..n-1 (i32): indices sorted by a random 64-bit key each, ties by index.
Tensor randperm(int64_t n, uint64_t seed, uint32_t stream, Device device);

}  // namespace ncf::ops
