// The element-wise math of the tensor ops, written once as small __host__ __device__ functors.
//
// The CPU loops (elementwise.cpp, loss.cpp, optimizer.cpp, ...) and the CUDA grid-stride kernels
// (the .cu files beside them) call the very same functor on each element, so a CPU test exercises
// the arithmetic the GPU runs. Each functor is a template on the scalar type (float or double).
//
// Also here, because every op family of this folder needs them:
//   - dispatch over all four dtypes (NCF_DISPATCH_FLOAT only covers f32/f64),
//   - the CPU driver that runs a chunk function serially or with OpenMP (host code only),
//   - the fixed-order sum of the CUDA reductions (nvcc only).
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/ops/elementwise.h"
#include "tensor/philox.h"  // NCF_HD: __host__ __device__ under nvcc, inline otherwise
#include "tensor/tensor.h"

#ifdef __CUDACC__
#include "tensor/cuda_context.h"
#endif

namespace ncf::ops {

// ---------------------------------------------------------------------------------------------
// Math functions overloaded on float/double. Calling expf for float (not exp) keeps f32 math in
// single precision on both the CPU and the GPU.
NCF_HD float math_exp(float x) { return expf(x); }
NCF_HD double math_exp(double x) { return exp(x); }
NCF_HD float math_log(float x) { return logf(x); }
NCF_HD double math_log(double x) { return log(x); }
NCF_HD float math_log1p(float x) { return log1pf(x); }
NCF_HD double math_log1p(double x) { return log1p(x); }
NCF_HD float math_sqrt(float x) { return sqrtf(x); }
NCF_HD double math_sqrt(double x) { return sqrt(x); }
NCF_HD float math_tanh(float x) { return tanhf(x); }
NCF_HD double math_tanh(double x) { return tanh(x); }
NCF_HD float math_fma(float a, float b, float c) { return fmaf(a, b, c); }
NCF_HD double math_fma(double a, double b, double c) { return fma(a, b, c); }

// Logistic function without overflow: exp is only ever taken of a non-positive number.
template <class T>
NCF_HD T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + math_exp(-x));
  const T e = math_exp(x);
  return e / (T(1) + e);
}

// ---------------------------------------------------------------------------------------------
// Unary functors: y = f(x).
struct NegFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return -x;
  }
};
struct ExpFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return math_exp(x);
  }
};
struct LogFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return math_log(x);
  }
};
struct SqrtFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return math_sqrt(x);
  }
};
struct SquareFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return x * x;
  }
};
struct AbsFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return x < T(0) ? -x : x;
  }
};
struct ReluFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return x > T(0) ? x : T(0);
  }
};
struct SigmoidFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return stable_sigmoid(x);
  }
};
// log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)): finite for any x.
struct LogSigmoidFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    const T negative_abs = x < T(0) ? x : -x;
    return (x < T(0) ? x : T(0)) - math_log1p(math_exp(negative_abs));
  }
};
struct TanhFn {
  template <class T>
  NCF_HD T operator()(T x) const {
    return math_tanh(x);
  }
};
// alpha * x and x + value: the scalar travels inside the functor (as double, converted per type).
struct ScaleFn {
  double alpha;
  template <class T>
  NCF_HD T operator()(T x) const {
    return static_cast<T>(alpha) * x;
  }
};
struct AddScalarFn {
  double value;
  template <class T>
  NCF_HD T operator()(T x) const {
    return x + static_cast<T>(value);
  }
};

// ---------------------------------------------------------------------------------------------
// Binary functors: y = f(a, b), with b read at the same index as a, along one row of a 2-D a
// (b[i % cols]), or as a single scalar (b[0]).
enum class Broadcast { same, row, scalar };

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
struct DivFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a / b;
  }
};
struct MaximumFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};
struct MinimumFn {
  template <class T>
  NCF_HD T operator()(T a, T b) const {
    return a < b ? a : b;
  }
};

// Backward of the activations, as binary functors of (grad_out, saved tensor).
struct ReluBackwardFn {  // saved: the forward output
  template <class T>
  NCF_HD T operator()(T grad, T out) const {
    return out > T(0) ? grad : T(0);
  }
};
struct SigmoidBackwardFn {  // saved: the forward output s; d sigmoid = s (1 - s)
  template <class T>
  NCF_HD T operator()(T grad, T out) const {
    return grad * out * (T(1) - out);
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
// Calls fn(functor) with the functor of a UnaryOp (a generic lambda, so each op gets its own loop).
template <class Fn>
void with_unary_functor(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::neg:
      return fn(NegFn{});
    case UnaryOp::exp:
      return fn(ExpFn{});
    case UnaryOp::log:
      return fn(LogFn{});
    case UnaryOp::sqrt:
      return fn(SqrtFn{});
    case UnaryOp::square:
      return fn(SquareFn{});
    case UnaryOp::abs:
      return fn(AbsFn{});
    case UnaryOp::relu:
      return fn(ReluFn{});
    case UnaryOp::sigmoid:
      return fn(SigmoidFn{});
    case UnaryOp::log_sigmoid:
      return fn(LogSigmoidFn{});
    case UnaryOp::tanh:
      return fn(TanhFn{});
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
    case BinaryOp::div:
      return fn(DivFn{});
    case BinaryOp::maximum:
      return fn(MaximumFn{});
    case BinaryOp::minimum:
      return fn(MinimumFn{});
  }
}

// ---------------------------------------------------------------------------------------------
// Dropout: element i is kept when a uniform draw from Philox(seed, stream, i) is >= p.
NCF_HD bool dropout_keep(uint64_t seed, uint32_t stream, uint64_t index, float p) {
  return philox_unit_float(philox_draw(seed, stream, index).v[0]) >= p;
}

// ---------------------------------------------------------------------------------------------
// Random values of element i (random.cpp / random.cu). An explicit fma makes the affine map round
// once on both devices (compilers may or may not fuse a*b+c on their own).
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

// ---------------------------------------------------------------------------------------------
// Losses (loss.cpp / loss.cu): one element's term and its gradient before the 1/n and grad_out.
struct BceWithLogitsFn {  // max(x, 0) - x*y + log(1 + exp(-|x|))
  template <class T>
  NCF_HD T operator()(T x, T y) const {
    const T negative_abs = x < T(0) ? x : -x;
    return (x > T(0) ? x : T(0)) - x * y + math_log1p(math_exp(negative_abs));
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

// ---------------------------------------------------------------------------------------------
// Optimizer updates of one element (optimizer.cpp / optimizer.cu), exactly optimizer.h's formulas.
// The per-step constants are computed once on the host, in double, and stored as T.
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
    const T g = grad + weight_decay * param;  // L2 weight decay, added to the gradient
    exp_avg = beta1 * exp_avg + one_minus_beta1 * g;
    exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * g * g;
    const T m_hat = exp_avg / bias_correction1;  // bias correction: the moments start at 0
    const T v_hat = exp_avg_sq / bias_correction2;
    param -= lr * m_hat / (math_sqrt(v_hat) + eps);
  }
};

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

// ---------------------------------------------------------------------------------------------
// Calls fn(T{}) with T the C++ type of any dtype: fill_ and cast work on all four.
template <class Fn>
auto dispatch_any_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
    case DType::i32:
      return fn(int32_t{});
    case DType::u8:
      return fn(uint8_t{});
  }
  NCF_FAIL("unknown dtype");
}

// ---------------------------------------------------------------------------------------------
// CPU driver (host compiler only). A parallel region costs a few microseconds, more than a loop
// over the 16k floats of a 256x64 tensor, so small loops run on the calling thread and only large
// ones are cut into fixed chunks spread over OpenMP threads. Element-wise results never depend on
// which thread ran a chunk.
#ifndef __CUDACC__
constexpr int64_t kParallelThreshold = 32768;  // elements; below this, one thread
constexpr int64_t kParallelChunk = 8192;       // elements per OpenMP work item

// chunk_fn(begin, end) processes elements [begin, end).
template <class ChunkFn>
void cpu_for_chunks(int64_t n, ChunkFn&& chunk_fn) {
  if (n < kParallelThreshold) {
    if (n > 0) chunk_fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = (n + kParallelChunk - 1) / kParallelChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kParallelChunk;
    chunk_fn(begin, begin + kParallelChunk < n ? begin + kParallelChunk : n);
  }
}

// Sum of value(i) for i in [0, n), in double, in a fixed order: the range is cut into at most
// kMaxSumBlocks blocks whose size depends only on n; each block is summed on its own, then the
// block sums are added in block order. The bits are therefore the same for any thread count.
// value(i) must be cheap and pure; blocks are summed with `omp simd`, an order fixed at compile time.
constexpr int64_t kMinSumBlock = 4096;
constexpr int64_t kMaxSumBlocks = 1024;

template <class ValueFn>
double cpu_blocked_sum(int64_t n, ValueFn&& value) {
  if (n <= 0) return 0.0;
  int64_t block = (n + kMaxSumBlocks - 1) / kMaxSumBlocks;
  if (block < kMinSumBlock) block = kMinSumBlock;
  const int64_t blocks = (n + block - 1) / block;
  double partial[kMaxSumBlocks];  // on the stack: no allocation per call
  auto sum_block = [&](int64_t b) {
    const int64_t begin = b * block, end = begin + block < n ? begin + block : n;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = begin; i < end; ++i) acc += value(i);
    partial[b] = acc;
  };
  if (n < kParallelThreshold) {
    for (int64_t b = 0; b < blocks; ++b) sum_block(b);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) sum_block(b);
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b) total += partial[b];
  return total;
}
#endif  // !__CUDACC__

// ---------------------------------------------------------------------------------------------
// CUDA reductions in a fixed order (reduce.cu, loss.cu). Float atomics would add in whatever order
// the threads arrive, so two runs could differ in the last bits; here every partial sum has a
// fixed place in a fixed tree, so the result is the same bits run after run.
#ifdef __CUDACC__
constexpr int kReduceThreads = 256;
constexpr unsigned kMaxReduceBlocks = 1024;

// The sum of one double per thread over a block of kReduceThreads threads, by a shuffle tree in
// each warp and then a tree over the warp sums. Every thread must call it; thread 0 gets the total.
__device__ __forceinline__ double block_sum_fixed_order(double value) {
  __shared__ double warp_sums[kReduceThreads / 32];
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < kReduceThreads / 32 ? warp_sums[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  }
  __syncthreads();  // warp_sums may be reused by a following call
  return value;
}

// Block b writes out[b] = (sum of load(i) over its grid-stride elements) / divisor.
template <class Load, class Out>
__global__ void fixed_order_sum_kernel(Load load, int64_t n, double divisor, Out* out) {
  double acc = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    acc += load(i);
  acc = block_sum_fixed_order(acc);
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<Out>(acc / divisor);
}

struct LoadDouble {
  const double* values;
  __device__ double operator()(int64_t i) const { return values[i]; }
};

// out[0] = (sum over i < n of load(i)) / divisor, on `device`'s stream, without atomics: a grid
// whose size depends only on n writes one partial sum per block, then one block adds them in order.
template <class Load, class Out>
void cuda_fixed_order_sum(Load load, int64_t n, double divisor, Out* out, Device device) {
  unsigned blocks = cuda_blocks_for(n, kReduceThreads);
  if (blocks > kMaxReduceBlocks) blocks = kMaxReduceBlocks;
  const cudaStream_t stream = cuda_stream(device.index);
  if (blocks == 1) {
    fixed_order_sum_kernel<<<1, kReduceThreads, 0, stream>>>(load, n, divisor, out);
    NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel");
    return;
  }
  // The partials go back to the caching allocator when this returns; that is safe because every
  // later user of the block runs on the same stream, after these kernels.
  Tensor partial = Tensor::empty(Shape{static_cast<int64_t>(blocks)}, DType::f64, device);
  fixed_order_sum_kernel<<<blocks, kReduceThreads, 0, stream>>>(load, n, 1.0, partial.data<double>());
  NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel (partials)");
  fixed_order_sum_kernel<<<1, kReduceThreads, 0, stream>>>(LoadDouble{partial.data<double>()},
                                                           static_cast<int64_t>(blocks), divisor, out);
  NCF_CUDA_LAUNCH_CHECK("fixed_order_sum_kernel (combine)");
}
#endif  // __CUDACC__

}  // namespace ncf::ops
