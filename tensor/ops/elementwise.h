// Element-wise ops: y[i] = f(x[i]) and y[i] = f(a[i], b[j]) with b the same shape as a, one row
// broadcast over a's rows (b (cols) or (1, cols) with a (rows, cols)), one column broadcast over a's
// columns (b (rows, 1) with a (rows, cols)), or a scalar (numel 1).
// f32 and f64 on both devices. The math is written once as __host__ __device__ functors
// (elementwise_functors.h) that the CPU loop and the CUDA grid-stride loop both run.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace ncf::ops {

enum class UnaryOp { relu, log_sigmoid };
enum class BinaryOp { add, sub, mul };

Tensor unary(UnaryOp op, const Tensor& x);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);

inline Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x); }
inline Tensor log_sigmoid(const Tensor& x) { return unary(UnaryOp::log_sigmoid, x); }
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b); }

Tensor scale(const Tensor& x, double alpha);           // alpha * x
void axpy_(Tensor& y, double alpha, const Tensor& x);  // y += alpha * x (same shape): gradient accumulation
void fill_(Tensor& t, double value);                   // every element = value (any dtype)
Tensor cast(const Tensor& x, DType dtype);             // f32 <-> f64 <-> i32 conversions

// Fused backward helpers of the activations.
Tensor relu_backward(const Tensor& grad_out, const Tensor& out);       // grad * (out > 0)
Tensor log_sigmoid_backward(const Tensor& grad_out, const Tensor& x);  // grad * sigmoid(-x)

// Inverted dropout: keep each element with probability 1-p (mask from Philox(seed, stream,
// first_index + i), identical on both devices), scale kept ones by 1/(1-p). `mask` receives the u8
// keep mask. first_index: the counter of x's first element, so that a slice of rows starting at row r
// of a larger batch (first_index = r * cols) draws exactly the mask the whole batch would there.
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint32_t stream, Tensor& mask,
               uint64_t first_index = 0);
Tensor dropout_backward(const Tensor& grad_out, const Tensor& mask, double p);

}  // namespace ncf::ops
