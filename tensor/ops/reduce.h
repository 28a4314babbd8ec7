// Reductions: sum and mean over all elements, and sum along one axis. The summation order is fixed
// (blocks of a fixed size, combined in order), so results are the same bits whatever the number
// of CPU threads, run after run. f32 inputs accumulate in f64 on the CPU.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

Tensor sum(const Tensor& x);                 // shape (1,)
Tensor mean(const Tensor& x);                // shape (1,)
Tensor sum_axis(const Tensor& x, int axis);  // the axis is removed: (rows, cols) axis 0 -> (cols,)

}  // namespace ncf::ops
