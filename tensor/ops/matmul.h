// Matrix products of 2-D tensors: out = alpha * op(a) @ op(b) + beta * out, op = transpose or not.
// GPU: cuBLAS (TF32 tensor cores for f32 when allow_tf32(), see cuda_context.h).
// CPU: a cache-blocked loop whose inner loop runs along contiguous memory so it vectorises,
// parallel over output rows with OpenMP when the product is large enough to pay for the threads.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

// a (m, k) or (k, m) if trans_a; b (k, n) or (n, k) if trans_b; out (m, n), same dtype and device.
void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out, double alpha = 1.0,
          double beta = 0.0);
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// The textbook triple loop of the same product on the CPU, each sum in double in increasing p:
// out[i][j] = alpha * sum_p op(a)[i][p] * op(b)[p][j] + beta * out[i][j]. Slow and obviously right:
// what gemm computes, to read first and to check gemm against (the tests do). f32 or f64.
void gemm_reference(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out,
                    double alpha = 1.0, double beta = 0.0);

// Whether f32 products may use TF32 on the GPU (default on; off for exact CPU/GPU comparisons).
void set_matmul_tf32(bool allow);

}  // namespace ncf::ops
