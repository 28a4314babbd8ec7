// Top-k along rows, for recommendations. Larger values come first; equal
// values keep ascending column order, on both devices.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace ncf::ops {

// scores (rows, cols) f32 -> values (rows, k) f32 and indices (rows, k) i32; k <= cols.
void topk_rows(const Tensor& scores, int64_t k, Tensor& values, Tensor& indices);

}  // namespace ncf::ops
