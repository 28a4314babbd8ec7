// Element-wise ops, CPU side and dispatch: y[i] = f(x[i]), y[i] = f(a[i], b[j]) with b the same
// shape as a, a row (cols,) / (1, cols) broadcast over a (rows, cols), a column (rows, 1) broadcast
// over a (rows, cols), or a scalar; fill, cast and dropout. Every output has the shape of the first input and
// comes from Tensor::empty.
//
// Inputs are validated here, before dispatch, so the CPU and CUDA paths give the same errors; the
// CUDA versions (elementwise.cu) receive checked tensors and an allocated output.
#include "tensor/ops/elementwise.h"
#include "tensor/ops/elementwise_cuda.h"

#include "tensor/cpu_parallel.h"
#include "tensor/ops/elementwise_functors.h"
#include "tensor/ops/random_functors.h"

namespace ncf::ops {

namespace {

const char* unary_name(UnaryOp op) { return op == UnaryOp::relu ? "relu" : "log_sigmoid"; }

const char* binary_name(BinaryOp op) {
  return op == BinaryOp::add ? "add" : op == BinaryOp::sub ? "sub" : "mul";
}

void check_float(const Tensor& t, const char* op, const char* argument) {
  NCF_CHECK(t.defined(), op << ": " << argument << " is an undefined tensor");
  NCF_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64,
            op << ": " << argument << " must be f32 or f64, got " << t.describe());
}

// Two float inputs of one dtype on one device with the same shape.
void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_float(a, op, "first input");
  check_float(b, op, "second input");
  check_same_device(a, b, op);
  check_same_shape(a, b, op);
  NCF_CHECK(a.dtype() == b.dtype(), op << ": dtypes differ, " << a.describe() << " vs " << b.describe());
}

// y[i] = f(x[i]) on the CPU.
template <class T, class F>
void cpu_map(const Tensor& x, Tensor& out, F f) {
  const T* in = x.data<T>();
  T* o = out.data<T>();
  cpu_for_chunks(x.numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) o[i] = f(in[i]);
  });
}

// out[i] = f(a[i], b[i]) on the CPU (out may alias a: each element is read before it is written).
template <class T, class F>
void cpu_zip(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* o = out.data<T>();
  cpu_for_chunks(a.numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) o[i] = f(pa[i], pb[i]);
  });
}

template <class T, class F>
void cpu_binary(const Tensor& a, const Tensor& b, Broadcast broadcast, Tensor& out, F f) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* o = out.data<T>();
  const int64_t n = a.numel();
  if (broadcast == Broadcast::same) {
    cpu_zip<T>(a, b, out, f);
  } else if (broadcast == Broadcast::scalar) {
    const T s = pb[0];
    cpu_for_chunks(n, [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) o[i] = f(pa[i], s);
    });
  } else {
    // One row of b against every row of a (row), or b[r] against all of row r (column): the inner
    // loop runs along a row, contiguous in a and out.
    const int64_t cols = a.dim(1), rows = a.dim(0);
    const bool by_column = broadcast == Broadcast::column;
    auto row_block = [&](int64_t row_begin, int64_t row_end) {
      for (int64_t r = row_begin; r < row_end; ++r) {
        const T* ar = pa + r * cols;
        T* orow = o + r * cols;
        if (by_column) {
          const T s = pb[r];
#pragma omp simd
          for (int64_t c = 0; c < cols; ++c) orow[c] = f(ar[c], s);
        } else {
#pragma omp simd
          for (int64_t c = 0; c < cols; ++c) orow[c] = f(ar[c], pb[c]);
        }
      }
    };
    if (n < kParallelThreshold) {
      row_block(0, rows);
    } else {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
      for (int64_t r = 0; r < rows; ++r) row_block(r, r + 1);
    }
  }
}

Broadcast broadcast_kind(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() == b.shape()) return Broadcast::same;
  if (b.numel() == 1) return Broadcast::scalar;
  if (a.ndim() == 2) {
    const int64_t cols = a.dim(1);
    const bool row_1d = b.ndim() == 1 && b.dim(0) == cols;
    const bool row_2d = b.ndim() == 2 && b.dim(0) == 1 && b.dim(1) == cols;
    if (row_1d || row_2d) return Broadcast::row;
    if (b.ndim() == 2 && b.dim(0) == a.dim(0) && b.dim(1) == 1) return Broadcast::column;
  }
  NCF_FAIL(
      op << ": cannot broadcast b " << b.describe() << " to a " << a.describe()
         << " (b must have a's shape, be one row (cols,) or (1, cols) or one column (rows, 1) of a 2-D a,"
            " or hold one element)");
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  const char* name = unary_name(op);
  check_float(x, name, "input");
  Tensor out = Tensor::empty_like(x);
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_unary(op, x, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(x.dtype(), name,
                     [&] { with_unary_functor(op, [&](auto f) { cpu_map<scalar_t>(x, out, f); }); });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float(a, name, "a");
  check_float(b, name, "b");
  check_same_device(a, b, name);
  NCF_CHECK(a.dtype() == b.dtype(),
            name << ": dtypes differ, a " << a.describe() << " vs b " << b.describe());
  const Broadcast broadcast = broadcast_kind(a, b, name);
  Tensor out = Tensor::empty_like(a);
  if (a.is_cuda()) {
    NCF_ON_CUDA(cuda_binary(op, a, b, broadcast, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(a.dtype(), name, [&] {
    with_binary_functor(op, [&](auto f) { cpu_binary<scalar_t>(a, b, broadcast, out, f); });
  });
  return out;
}

Tensor scale(const Tensor& x, double alpha) {
  check_float(x, "scale", "input");
  Tensor out = Tensor::empty_like(x);
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_scale(x, alpha, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(x.dtype(), "scale", [&] { cpu_map<scalar_t>(x, out, ScaleFn{alpha}); });
  return out;
}

void axpy_(Tensor& y, double alpha, const Tensor& x) {
  check_pair(y, x, "axpy_");
  if (y.is_cuda()) return NCF_ON_CUDA(cuda_axpy(y, alpha, x));
  NCF_DISPATCH_FLOAT(y.dtype(), "axpy_", [&] { cpu_zip<scalar_t>(y, x, y, AxpyFn{alpha}); });
}

void fill_(Tensor& t, double value) {
  NCF_CHECK(t.defined(), "fill_: undefined tensor");
  if (t.is_cuda()) return NCF_ON_CUDA(cuda_fill(t, value));
  dispatch_any_dtype(t.dtype(), [&](auto type_tag) {
    using T = decltype(type_tag);
    const T v = static_cast<T>(value);
    T* p = t.data<T>();
    cpu_for_chunks(t.numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) p[i] = v;
    });
  });
}

Tensor cast(const Tensor& x, DType dtype) {
  NCF_CHECK(x.defined(), "cast: undefined tensor");
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_cast(x, out));
    return out;
  }
  // static_cast semantics: float -> integer truncates toward zero.
  dispatch_any_dtype(x.dtype(), [&](auto in_tag) {
    using In = decltype(in_tag);
    dispatch_any_dtype(dtype, [&](auto out_tag) {
      using Out = decltype(out_tag);
      const In* in = x.data<In>();
      Out* o = out.data<Out>();
      cpu_for_chunks(x.numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) o[i] = static_cast<Out>(in[i]);
      });
    });
  });
  return out;
}

// The activation backwards share one shape: out = f(grad_out, saved).
static Tensor activation_backward(UnaryOp op, const Tensor& grad_out, const Tensor& saved, const char* name) {
  check_pair(grad_out, saved, name);
  Tensor out = Tensor::empty_like(grad_out);
  if (grad_out.is_cuda()) {
    NCF_ON_CUDA(cuda_activation_backward(op, grad_out, saved, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(grad_out.dtype(), name, [&] {
    with_activation_backward_functor(op, [&](auto f) { cpu_zip<scalar_t>(grad_out, saved, out, f); });
  });
  return out;
}

Tensor relu_backward(const Tensor& grad_out, const Tensor& out) {
  return activation_backward(UnaryOp::relu, grad_out, out, "relu_backward");
}
Tensor log_sigmoid_backward(const Tensor& grad_out, const Tensor& x) {
  return activation_backward(UnaryOp::log_sigmoid, grad_out, x, "log_sigmoid_backward");
}

// Kept elements are scaled by 1/(1-p) so that the expected value of each element is unchanged
// ("inverted" dropout: evaluation then needs no rescaling). p = 1 drops everything.
static double dropout_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint32_t stream, Tensor& mask,
               uint64_t first_index) {
  check_float(x, "dropout", "input");
  NCF_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must lie in [0, 1], got " << p);
  // Reuse the caller's mask when it already fits (a training loop passes the same one each step).
  if (!(mask.defined() && mask.shape() == x.shape() && mask.dtype() == DType::u8 &&
        mask.device() == x.device()))
    mask = Tensor::empty(x.shape(), DType::u8, x.device());
  Tensor out = Tensor::empty_like(x);
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_dropout(x, p, seed, stream, first_index, mask, out));
    return out;
  }
  const float p_float = static_cast<float>(p);
  NCF_DISPATCH_FLOAT(x.dtype(), "dropout", [&] {
    const scalar_t s = static_cast<scalar_t>(dropout_scale(p));
    const scalar_t* in = x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    uint8_t* m = mask.data<uint8_t>();
    cpu_for_chunks(x.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const bool keep = dropout_keep(seed, stream, first_index + static_cast<uint64_t>(i), p_float);
        m[i] = keep ? 1 : 0;
        o[i] = keep ? in[i] * s : scalar_t(0);
      }
    });
  });
  return out;
}

// (A pragma cannot sit inside a macro argument, hence this helper outside NCF_DISPATCH_FLOAT.)
template <class T>
static void cpu_dropout_backward(const Tensor& grad_out, const Tensor& mask, double scale, Tensor& out) {
  const T s = static_cast<T>(scale);
  const T* g = grad_out.data<T>();
  const uint8_t* m = mask.data<uint8_t>();
  T* o = out.data<T>();
  cpu_for_chunks(grad_out.numel(), [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) o[i] = m[i] ? g[i] * s : T(0);
  });
}

Tensor dropout_backward(const Tensor& grad_out, const Tensor& mask, double p) {
  check_float(grad_out, "dropout_backward", "grad_out");
  NCF_CHECK(mask.defined() && mask.dtype() == DType::u8,
            "dropout_backward: mask must be u8, got " << mask.describe());
  check_same_shape(grad_out, mask, "dropout_backward");
  check_same_device(grad_out, mask, "dropout_backward");
  NCF_CHECK(p >= 0.0 && p <= 1.0, "dropout_backward: p must lie in [0, 1], got " << p);
  Tensor out = Tensor::empty_like(grad_out);
  if (grad_out.is_cuda()) {
    NCF_ON_CUDA(cuda_dropout_backward(grad_out, mask, p, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(grad_out.dtype(), "dropout_backward",
                     [&] { cpu_dropout_backward<scalar_t>(grad_out, mask, dropout_scale(p), out); });
  return out;
}

}  // namespace ncf::ops
