// The element-wise math of ops/elementwise.h, written once as small __host__ __device__ functors:
// the CPU loops (elementwise.cpp) and the CUDA grid-stride kernels (elementwise.cu) call the very same
// functor on each element, so a CPU test exercises the arithmetic the GPU runs. Each functor is a
// template on the scalar type (float or double). The other op families keep their functors beside
// them (loss_functors.h, optimizer_functors.h, random_functors.h).
#pragma once

#include "tensor/ops/elementwise.h"
#include "tensor/ops/math.h"

namespace ncf::ops {

// ---------------------------------------------------------------------------------------------
// Unary functors: y = f(x).
struct ReluFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return x > T(0) ? x : T(0);
  }
};
// log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)): finite for any x.
struct LogSigmoidFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return (x < T(0) ? x : T(0)) - log1p_exp_negative_abs(x);
  }
};
// alpha * x: the scalar travels inside the functor (as double, converted per type).
struct ScaleFn {
  double alpha;
  template <class T>
  NCF_HD T operator()(T x) const {
    return static_cast<T>(alpha) * x;
  }
};

// ---------------------------------------------------------------------------------------------
// Binary functors: y = f(a, b), with b read at the same index as a, along one row of a 2-D a
// (b[i % cols]), down one column of a 2-D a (b[i / cols]: b is (rows, 1)), or as a single scalar (b[0]).
enum class Broadcast { same, row, column, scalar };

struct AddFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a + b;
  }
};
struct SubFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a - b;
  }
};
struct MulFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a * b;
  }
};

// Backward of the activations, as binary functors of (grad_out, saved tensor).
struct ReluBackwardFn {  // saved: the forward output
  template <class T>
  NCF_HD T operator()(T grad, T out) const {
    return out > T(0) ? grad : T(0);
  }
};
struct LogSigmoidBackwardFn {  // saved: the forward input x; d log(sigmoid(x)) = sigmoid(-x)
  template <class T>
  NCF_HD T operator()(T grad, T x) const {
    return grad * stable_sigmoid(-x);
  }
};
// y += alpha * x, written as y' = f(y, x).
struct AxpyFn {
  double alpha;
  template <class T>
  NCF_HD T operator()(T y, T x) const {
    return math_fma(static_cast<T>(alpha), x, y);
  }
};

// ---------------------------------------------------------------------------------------------
// Calls fn(functor) with the functor of an op (a generic lambda, so each op gets its own loop).
template <class Fn>
void with_unary_functor(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::relu:
      return fn(ReluFn{});
    case UnaryOp::log_sigmoid:
      return fn(LogSigmoidFn{});
  }
}

template <class Fn>
void with_binary_functor(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::add:
      return fn(AddFn{});
    case BinaryOp::sub:
      return fn(SubFn{});
    case BinaryOp::mul:
      return fn(MulFn{});
  }
}

// The backward functor of an activation, by its op.
template <class Fn>
void with_activation_backward_functor(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::relu:
      return fn(ReluBackwardFn{});
    case UnaryOp::log_sigmoid:
      return fn(LogSigmoidBackwardFn{});
  }
}

}  // namespace ncf::ops
