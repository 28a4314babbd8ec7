// Optimizer steps, CPU side and dispatch: in-place updates of parameter lists (see optimizer.h for
// the exact SGD-momentum and Adam formulas). Each list holds one tensor per parameter; the i-th
// entries of all lists have one shape, and everything shares one float dtype and one device.
// The per-element update is AdamUpdate / SgdUpdate (optimizer_functors.h), the same code the GPU
// kernels (optimizer.cu) run, there for all tensors of a list in one launch.
#include "tensor/ops/optimizer.h"
#include "tensor/ops/optimizer_cuda.h"

#include <algorithm>
#include <string>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "tensor/cpu_parallel.h"
#include "tensor/ops/optimizer_functors.h"

namespace ncf::ops {

namespace {

// `other` must match parameter `index` in shape, dtype and device.
void check_matches(const Tensor& param, const Tensor& other, size_t index, const char* op, const char* what) {
  NCF_CHECK(other.defined(), op << ": " << what << " of parameter " << index << " is undefined");
  NCF_CHECK(
      other.shape() == param.shape() && other.dtype() == param.dtype() && other.device() == param.device(),
      op << ": " << what << " of parameter " << index << " is " << other.describe() << ", the parameter is "
         << param.describe());
}

// Every list as long as params; every entry matching its parameter; one float dtype, one device.
void check_lists(const char* op, const std::vector<Tensor>& params,
                 std::initializer_list<std::pair<const char*, const std::vector<Tensor>*>> lists) {
  for (const auto& [what, list] : lists)
    NCF_CHECK(list->size() == params.size(),
              op << ": " << params.size() << " parameters but " << list->size() << " " << what);
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    NCF_CHECK(p.defined(), op << ": parameter " << i << " is undefined");
    NCF_CHECK(p.dtype() == DType::f32 || p.dtype() == DType::f64,
              op << ": parameter " << i << " must be f32 or f64, got " << p.describe());
    NCF_CHECK(p.dtype() == params[0].dtype() && p.device() == params[0].device(),
              op << ": parameter " << i << " " << p.describe()
                 << " differs in dtype or device from parameter 0 " << params[0].describe());
    for (const auto& [what, list] : lists) check_matches(p, (*list)[i], i, op, what);
  }
}

// Denormal moments flushed to zero while an update runs on this thread. Dense Adam decays the
// moments of every row the batch did not touch (m by beta1 = 0.9 a step), so a long-tail item's m
// falls below FLT_MIN (1.2e-38) within about 800 steps of its last use, and x86 cores take a slow
// microcoded path for every such operand: with such moments the update of the tutorial's tables ran
// 3 times slower on its own, and a tutorial epoch took up to 25 s instead of 13 to 15 s. Flushed, such an m
// moves its parameter by under 1e-30 less, and a flushed v changes nothing (sqrt(v) < 1e-19 vanishes beside
// eps), so the results are those of dense Adam to rounding. The x86 control register is per thread: each
// worker sets and restores its own. (The GPU keeps denormals; it handles them at full speed.)
class FlushDenormals {
 public:
#if defined(__SSE2__)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }
#endif
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
#if defined(__SSE2__)
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

template <class T, class Update>
void cpu_adam(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
              const Update& update) {
  T* p = param.data<T>();
  const T* g = grad.data<T>();
  T* m = exp_avg.data<T>();
  T* v = exp_avg_sq.data<T>();
  cpu_for_chunks(param.numel(), [&](int64_t begin, int64_t end) {
    const FlushDenormals flush;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) update(p[i], g[i], m[i], v[i]);
  });
}

template <class T>
void cpu_sgd(const Tensor& param, const Tensor& grad, const Tensor* buffer, const SgdUpdate<T>& update) {
  T* p = param.data<T>();
  const T* g = grad.data<T>();
  T* b = buffer ? buffer->data<T>() : nullptr;
  cpu_for_chunks(param.numel(), [&](int64_t begin, int64_t end) {
    if (b) {
      const FlushDenormals flush;  // where the gradient is zero the buffer decays, like Adam's m
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) update(p[i], g[i], b + i);
    } else {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) update(p[i], g[i], nullptr);
    }
  });
}

template <class T, class Update>
void cpu_sparse_adam(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                     const Update& update) {
  const int64_t dim = param.dim(1);
  const int64_t nnz = grad.indices.numel();
  const int32_t* rows = grad.indices.data<int32_t>();
  const T* g = grad.rows.data<T>();
  T* p = param.data<T>();
  T* m = exp_avg.data<T>();
  T* v = exp_avg_sq.data<T>();
  for (int64_t r = 0; r < nnz; ++r)
    NCF_CHECK(rows[r] >= 0 && rows[r] < param.dim(0),
              "sparse_adam_step: row index " << rows[r] << " out of range for " << param.describe());
  // The indices are unique, so rows can be updated in any order (in parallel when there are many).
  auto update_row = [&](int64_t r) {
    const int64_t offset = static_cast<int64_t>(rows[r]) * dim;
    const T* gr = g + r * dim;
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) update(p[offset + d], gr[d], m[offset + d], v[offset + d]);
  };
  if (nnz * dim >= kParallelThreshold) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
    for (int64_t r = 0; r < nnz; ++r) update_row(r);
  } else {
    for (int64_t r = 0; r < nnz; ++r) update_row(r);
  }
}

// Elements [begin, end) of one table: rows are visited in order, and the untouched runs between two
// gradient rows are flat loops with g = 0. The first gradient row is found by binary search.
template <class T, class Update>
void dense_adam_rowsparse_range(T* p, T* m, T* v, const int32_t* index, const T* g, int64_t nnz, int64_t dim,
                                int64_t begin, int64_t end, const Update& update) {
  int64_t k = std::lower_bound(index, index + nnz, static_cast<int32_t>(begin / dim)) - index;
  int64_t i = begin;
  while (i < end) {
    const int64_t next_touched = k < nnz ? std::min<int64_t>(end, index[k] * dim) : end;
    const T zero = T(0);
#pragma omp simd
    for (int64_t j = i; j < next_touched; ++j) update(p[j], zero, m[j], v[j]);
    i = std::max(i, next_touched);
    if (i >= end) break;
    const int64_t row_begin =
        static_cast<int64_t>(index[k]) * dim;  // element j's gradient: g[k*dim + j - row_begin]
    const int64_t row_end = std::min<int64_t>(end, row_begin + dim);
    const T* row_grad = g + k * dim;
#pragma omp simd
    for (int64_t j = i; j < row_end; ++j) update(p[j], row_grad[j - row_begin], m[j], v[j]);
    i = row_end;
    ++k;
  }
}

// All tables in one parallel region: the work is cut into chunks of kParallelChunk elements across
// every table, so two threads share the update even when each table alone is too small to split.
template <class T, class Update>
void cpu_dense_adam_rowsparse(const std::vector<Tensor>& params, const std::vector<RowSparse>& grads,
                              const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
                              const Update& update) {
  struct Chunk {
    size_t table;
    int64_t begin, end;
  };
  std::vector<Chunk> chunks;
  int64_t total = 0;
  for (size_t t = 0; t < params.size(); ++t) {
    const int64_t n = params[t].numel();
    total += n;
    for (int64_t begin = 0; begin < n; begin += kParallelChunk)
      chunks.push_back({t, begin, std::min<int64_t>(n, begin + kParallelChunk)});
  }
  auto run = [&](const Chunk& c) {
    const FlushDenormals flush;
    const Tensor& param = params[c.table];
    const Tensor& m = exp_avg[c.table];
    const Tensor& v = exp_avg_sq[c.table];
    const RowSparse& grad = grads[c.table];
    const int64_t dim = param.numel() / std::max<int64_t>(1, param.dim(0));
    T* p_data = param.data<T>();
    T* m_data = m.data<T>();
    T* v_data = v.data<T>();
    const T* g_data = grad.rows.data<T>();
    dense_adam_rowsparse_range<T, Update>(p_data, m_data, v_data, grad.indices.data<int32_t>(), g_data,
                                          grad.indices.numel(), dim, c.begin, c.end, update);
  };
  const int64_t count = static_cast<int64_t>(chunks.size());
  if (total < kParallelThreshold) {
    for (const Chunk& c : chunks) run(c);
    return;
  }
  // Chunks are taken as threads come free: the update is the largest region of a step, and a thread
  // slowed by a program sharing its core then does fewer chunks instead of holding up the other.
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic)
  for (int64_t c = 0; c < count; ++c) run(chunks[c]);
}

void check_adam_settings(const AdamSettings& s, const char* op) {
  NCF_CHECK(s.step >= 1, op << ": step is 1-based (incremented before the update), got " << s.step);
  NCF_CHECK(s.beta1 >= 0.0 && s.beta1 < 1.0 && s.beta2 >= 0.0 && s.beta2 < 1.0,
            op << ": betas must lie in [0, 1), got " << s.beta1 << ", " << s.beta2);
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
               const AdamSettings& s) {
  check_adam_settings(s, "adam_step");
  check_lists("adam_step", params,
              {{"gradients", &grads}, {"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}});
  if (params.empty()) return;
  if (params[0].is_cuda()) return NCF_ON_CUDA(cuda_adam_step(params, grads, exp_avg, exp_avg_sq, s));
  NCF_DISPATCH_FLOAT(params[0].dtype(), "adam_step", [&] {
    const auto update = AdamUpdate<scalar_t>::make(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step);
    settled_adam(update, [&](const auto& variant) {
      for (size_t i = 0; i < params.size(); ++i)
        cpu_adam<scalar_t>(params[i], grads[i], exp_avg[i], exp_avg_sq[i], variant);
    });
  });
}

void dense_adam_step_rowsparse(const std::vector<Tensor>& params, const std::vector<RowSparse>& grads,
                               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
                               const AdamSettings& s) {
  const char* op = "dense_adam_step_rowsparse";
  check_adam_settings(s, op);
  check_lists(op, params, {{"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}});
  NCF_CHECK(grads.size() == params.size(),
            op << ": " << params.size() << " parameters but " << grads.size() << " gradients");
  if (params.empty()) return;
  for (size_t t = 0; t < params.size(); ++t) {
    const Tensor& param = params[t];
    const RowSparse& grad = grads[t];
    NCF_CHECK(param.ndim() == 2 && grad.indices.defined() && grad.rows.defined() &&
                  grad.rows.dtype() == param.dtype() && grad.indices.device() == param.device() &&
                  grad.rows.numel() == grad.indices.numel() * param.dim(1),
              op << ": gradient rows " << grad.rows.describe() << " do not fit " << param.describe());
    if (param.is_cuda()) continue;  // the GPU path checks indices in to_dense
    const int32_t* index = grad.indices.data<int32_t>();
    for (int64_t r = 0; r < grad.indices.numel(); ++r)
      NCF_CHECK(index[r] >= 0 && index[r] < param.dim(0) && (r == 0 || index[r] > index[r - 1]),
                op << ": indices must be sorted, unique and below " << param.dim(0) << ", got " << index[r]
                   << " at " << r);
  }
  if (params[0].is_cuda()) {  // the GPU has bandwidth to spare: densify, then one fused dense update
    std::vector<Tensor> dense;
    for (const RowSparse& grad : grads) dense.push_back(to_dense(grad));
    adam_step(params, dense, exp_avg, exp_avg_sq, s);
    return;
  }
  NCF_DISPATCH_FLOAT(params[0].dtype(), op, [&] {
    const auto update = AdamUpdate<scalar_t>::make(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step);
    settled_adam(update, [&](const auto& variant) {
      cpu_dense_adam_rowsparse<scalar_t>(params, grads, exp_avg, exp_avg_sq, variant);
    });
  });
}

void sparse_adam_step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                      const AdamSettings& s) {
  const char* op = "sparse_adam_step";
  check_adam_settings(s, op);
  NCF_CHECK(param.defined() && param.ndim() == 2,
            op << ": the parameter must be a 2-D table, got " << param.describe());
  NCF_CHECK(param.dtype() == DType::f32 || param.dtype() == DType::f64,
            op << ": expects f32 or f64, got " << param.describe());
  check_matches(param, exp_avg, 0, op, "exp_avg");
  check_matches(param, exp_avg_sq, 0, op, "exp_avg_sq");
  NCF_CHECK(grad.indices.defined() && grad.indices.dtype() == DType::i32 && grad.indices.ndim() == 1,
            op << ": gradient indices must be (nnz,) i32, got " << grad.indices.describe());
  const int64_t nnz = grad.indices.numel();
  NCF_CHECK(grad.rows.defined() && grad.rows.ndim() == 2 && grad.rows.dim(0) == nnz &&
                grad.rows.dim(1) == param.dim(1) && grad.rows.dtype() == param.dtype(),
            op << ": gradient rows " << grad.rows.describe() << " do not fit indices "
               << grad.indices.describe() << " and parameter " << param.describe());
  NCF_CHECK(grad.num_rows == param.dim(0),
            op << ": gradient of " << grad.num_rows << " rows for parameter " << param.describe());
  check_same_device(param, grad.indices, op);
  check_same_device(param, grad.rows, op);
  if (nnz == 0 || param.dim(1) == 0) return;
  if (param.is_cuda()) return NCF_ON_CUDA(cuda_sparse_adam_step(param, grad, exp_avg, exp_avg_sq, s));
  NCF_DISPATCH_FLOAT(param.dtype(), op, [&] {
    const auto update = AdamUpdate<scalar_t>::make(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step);
    settled_adam(update, [&](const auto& variant) {
      cpu_sparse_adam<scalar_t>(param, grad, exp_avg, exp_avg_sq, variant);
    });
  });
}

// With momentum 0 the buffers may be left out (an empty list): the step is then p -= lr * g'.
void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, double lr, double momentum, double weight_decay,
              bool first_step) {
  const bool use_buffers = !(momentum == 0.0 && momentum_buffers.empty());
  if (use_buffers)
    check_lists("sgd_step", params, {{"gradients", &grads}, {"momentum buffers", &momentum_buffers}});
  else
    check_lists("sgd_step", params, {{"gradients", &grads}});
  if (params.empty()) return;
  if (params[0].is_cuda())
    return NCF_ON_CUDA(cuda_sgd_step(params, grads, use_buffers ? &momentum_buffers : nullptr, lr, momentum,
                                     weight_decay, first_step));
  NCF_DISPATCH_FLOAT(params[0].dtype(), "sgd_step", [&] {
    const SgdUpdate<scalar_t> update{static_cast<scalar_t>(lr), static_cast<scalar_t>(momentum),
                                     static_cast<scalar_t>(weight_decay), first_step};
    for (size_t i = 0; i < params.size(); ++i)
      cpu_sgd<scalar_t>(params[i], grads[i], use_buffers ? &momentum_buffers[i] : nullptr, update);
  });
}

}  // namespace ncf::ops
