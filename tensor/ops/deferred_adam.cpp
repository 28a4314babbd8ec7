// Deferred dense Adam (CPU only; see deferred_adam.h for the algebra). The reference it is tested
// against is dense_adam_step_rowsparse, which moves every row every step.
#include "tensor/ops/deferred_adam.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/optimizer_functors.h"

namespace ncf::ops {

namespace {
// The first step k with b^k below 1e-17 (then 1 - b^k is 1 in double): from there on the
// bias corrections are constant.
int64_t settles_at(double beta) {
  if (beta <= 0.0) return 1;
  return static_cast<int64_t>(std::ceil(std::log(1e-17) / std::log(beta))) + 1;
}
// The rows a catch-up reads lie anywhere in three tables (parameters and both moments), so each one
// costs cache misses; asking for row i + kPrefetchAhead while row i is computed overlaps them.
constexpr int64_t kPrefetchAhead = 8;

template <class T>
void prefetch_row(const T* p, const T* m, const T* v, const int64_t* current, int64_t r, int64_t dim) {
  for (int64_t offset = 0; offset < dim; offset += 64 / static_cast<int64_t>(sizeof(T))) {
    __builtin_prefetch(p + r * dim + offset, 1);
    __builtin_prefetch(m + r * dim + offset, 1);
    __builtin_prefetch(v + r * dim + offset, 1);
  }
  __builtin_prefetch(current + r, 1);
}

}  // namespace

DeferredAdam::DeferredAdam(const AdamSettings& settings, DType dtype) : settings_(settings) {
  const AdamSettings& s = settings;
  NCF_CHECK(
      s.weight_decay == 0.0,
      "deferred Adam needs weight decay 0 (untouched rows would have a gradient), got " << s.weight_decay);
  NCF_CHECK(s.beta1 > 0.0 && s.beta1 < 1.0 && s.beta2 > 0.0 && s.beta2 < 1.0 && s.eps > 0.0,
            "deferred Adam: beta1 and beta2 must lie in (0, 1) and eps be positive, got "
                << s.beta1 << ", " << s.beta2 << ", " << s.eps);
  NCF_CHECK(dtype == DType::f32 || dtype == DType::f64,
            "deferred Adam: f32 or f64 tables, got " << dtype_name(dtype));
  constant_from_ = std::max(settles_at(s.beta1), settles_at(s.beta2));
  NCF_CHECK(constant_from_ <= (int64_t{1} << 22), "deferred Adam: beta2 " << s.beta2 << " settles after "
                                                                          << constant_from_
                                                                          << " steps; too close to 1");
  // The dense update runs in the parameters' type: its per-step constants (lr, eps, the betas that
  // decay the moments, the bias corrections) are rounded to that type, and so are they here.
  const bool f32 = dtype == DType::f32;
  tolerance_ = f32 ? 1e-10 : 1e-16;
  auto as_t = [f32](double x) { return f32 ? static_cast<double>(static_cast<float>(x)) : x; };
  lr_ = as_t(s.lr);
  eps_ = as_t(s.eps);
  beta1_ = as_t(s.beta1);
  beta2_ = as_t(s.beta2);
  a_.resize(static_cast<size_t>(constant_from_ + 1));
  inv_sqrt_bc2_.resize(static_cast<size_t>(constant_from_ + 1));
  for (int64_t k = 1; k <= constant_from_; ++k) {
    const double bc1 = k >= constant_from_ ? 1.0 : 1.0 - std::pow(s.beta1, static_cast<double>(k));
    const double bc2 = k >= constant_from_ ? 1.0 : 1.0 - std::pow(s.beta2, static_cast<double>(k));
    a_[k] = lr_ / as_t(bc1);
    inv_sqrt_bc2_[k] = 1.0 / std::sqrt(as_t(bc2));
  }
  for (int64_t n = 0; n <= kDecayTable; ++n) {
    decay1_[n] = std::pow(beta1_, static_cast<double>(n));
    decay2_[n] = std::pow(beta2_, static_cast<double>(n));
  }
  for (int64_t n = 0; n <= kWindow; ++n) half_decay2_[n] = std::pow(beta2_, 0.5 * static_cast<double>(n));
  full_.resize(static_cast<size_t>(constant_from_ + 1));
  full_known_.assign(static_cast<size_t>(constant_from_ + 1), 0);
  table_.resize(kWindow + 1);
}

double DeferredAdam::lr_over_bc1(int64_t k) const {
  return a_[static_cast<size_t>(std::min<int64_t>(k, constant_from_))];
}
double DeferredAdam::inv_sqrt_bc2(int64_t k) const {
  return inv_sqrt_bc2_[static_cast<size_t>(std::min<int64_t>(k, constant_from_))];
}

// The expansions of the windows of n = 1..kWindow steps ending at `end` (out[n]). With
// j = k - (end - n): a_j = b1^n alpha_k and c_j = b2^(n/2) gamma_k, where alpha_k = A_k b1^(k-end)
// and gamma_k = b2^((k-end)/2) / S_k do not depend on n; so one centre gamma0 (the middle of the
// range of gamma, which grows as k goes back) serves every n, and the central moments
// M_q(n) = sum alpha_k (gamma_k - gamma0)^q grow by one term per n: no cancellation anywhere.
void DeferredAdam::window_expansions(int64_t end, Expansion* out) const {
  if (end < 1) {  // no step taken yet: no row is behind, every window is empty
    for (int64_t n = 0; n <= kWindow; ++n) out[n] = Expansion{};
    return;
  }
  const int64_t oldest = std::max<int64_t>(1, end - kWindow + 1);
  auto gamma_of = [&](int64_t k) { return inv_sqrt_bc2(k) / half_decay2_[static_cast<size_t>(end - k)]; };
  const double newest_gamma = gamma_of(end), oldest_gamma = gamma_of(oldest);
  const double center = 0.5 * (newest_gamma + oldest_gamma);
  auto terms_for = [&](double spread) {
    if (spread <= 1e-300) return 1;
    if (spread >= 1.0) return -1;
    const int terms = static_cast<int>(std::ceil(std::log(tolerance_) / std::log(spread)));
    return terms > kTerms ? -1 : terms;
  };
  const int widest = terms_for((oldest_gamma - center) / center);
  const int accumulated = widest < 0 ? kTerms : widest;
  Moments moments{};
  out[0] = Expansion{};
  for (int64_t n = 1; n <= kWindow; ++n) {
    const int64_t k = end - n + 1;
    if (k < 1) {  // before the first step: no row is that far behind
      out[n] = out[n - 1];
      continue;
    }
    const double g = gamma_of(k), alpha = lr_over_bc1(k) / decay1_[static_cast<size_t>(n - 1)];
    const double offset = g - center;
    double power = alpha;
    for (int q = 0; q <= accumulated; ++q, power *= offset) moments[q] += power;
    Expansion& e = out[n];
    e.center = center;
    e.terms_used = terms_for(std::max(g - center, center - newest_gamma) / center);
    e.terms = moments;
  }
}

void DeferredAdam::build_window_table(int64_t end) {
  if (table_end_ == end) return;
  window_expansions(end, table_.data());
  table_end_ = end;
}

const DeferredAdam::Expansion& DeferredAdam::full_window(int64_t s) {
  const size_t i = static_cast<size_t>(std::min<int64_t>(s, constant_from_));
  if (!full_known_[i]) {  // the window s+1 .. s+W is the table ending at s+W at n = W
    std::vector<Expansion> windows(kWindow + 1);
    window_expansions(static_cast<int64_t>(i) + kWindow, windows.data());
    full_[i] = windows[kWindow];
    full_known_[i] = 1;
  }
  return full_[i];
}

// Row elements p, m, v, current at step s, skip the n steps s+1 .. s+n (gradient 0 in each).
// Their updates sum to m b1^n sum_k alpha_k / (gamma_k X + eps) with X = b2^(n/2) sqrt(v) (see
// window_expansions); around gamma0 that is m b1^n / (gamma0 X + eps) sum_q M_q w^q with
// w = -X / (gamma0 X + eps), a series whose ratio is at most the window's spread
// |gamma_k - gamma0| / gamma0, whatever x and eps are.
template <class T>
void DeferredAdam::catch_up(T* p, T* m, T* v, int64_t dim, int64_t s, int64_t n) const {
  if (n <= 0) return;
  const int64_t counted = std::min<int64_t>(n, kWindow);
  const Expansion& e = n <= kWindow ? table_[static_cast<size_t>(n)]
                                    : full_[static_cast<size_t>(std::min<int64_t>(s, constant_from_))];
  const double decay1 = n <= kDecayTable ? decay1_[n] : std::pow(beta1_, static_cast<double>(n));
  const double decay2 = n <= kDecayTable ? decay2_[n] : std::pow(beta2_, static_cast<double>(n));
  const double window_decay1 = decay1_[static_cast<size_t>(counted)];
  const double window_half_decay2 = half_decay2_[static_cast<size_t>(counted)];
  const double eps = eps_;
  if (e.terms_used >= 0) {
    // Eight elements at a time, each pass over them one simple loop the compiler vectorises (a
    // zero m moves nothing: no branch needed).
    constexpr int64_t kBlock = 8;
    double w[kBlock], acc[kBlock], scale[kBlock];
    for (int64_t d0 = 0; d0 < dim; d0 += kBlock) {
      const int64_t len = std::min<int64_t>(kBlock, dim - d0);
      for (int64_t i = 0; i < len; ++i) {
        const double big_x = window_half_decay2 * std::sqrt(static_cast<double>(v[d0 + i]));
        const double denominator = e.center * big_x + eps;
        w[i] = -big_x / denominator;
        scale[i] = static_cast<double>(m[d0 + i]) * window_decay1 / denominator;
        acc[i] = e.terms[e.terms_used];
      }
      for (int q = e.terms_used - 1; q >= 0; --q) {
        const double term = e.terms[q];
        for (int64_t i = 0; i < len; ++i) acc[i] = term + w[i] * acc[i];
      }
      for (int64_t i = 0; i < len; ++i) {
        const int64_t d = d0 + i;
        p[d] = static_cast<T>(static_cast<double>(p[d]) - scale[i] * acc[i]);
        m[d] = static_cast<T>(static_cast<double>(m[d]) * decay1);
        v[d] = static_cast<T>(static_cast<double>(v[d]) * decay2);
      }
    }
    return;
  }
  // The first steps, where the bias corrections move fast: the skipped steps one by one.
  for (int64_t d = 0; d < dim; ++d) {
    const double md = static_cast<double>(m[d]);
    const double x = std::sqrt(static_cast<double>(v[d]));
    v[d] = static_cast<T>(static_cast<double>(v[d]) * decay2);
    if (md == 0.0) continue;  // every skipped update is 0
    double moved = 0.0, b1j = 1.0;
    for (int64_t j = 1; j <= counted; ++j) {
      b1j *= beta1_;
      const int64_t k = s + j;
      moved += lr_over_bc1(k) * b1j * md / (half_decay2_[j] * x * inv_sqrt_bc2(k) + eps);
    }
    p[d] = static_cast<T>(static_cast<double>(p[d]) - moved);
    m[d] = static_cast<T>(md * decay1);
  }
}

template <class T>
void DeferredAdam::run(Tensor& param, const RowSparse* grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                       std::vector<int64_t>& row_step, int64_t step) {
  const int64_t rows = param.dim(0), dim = param.dim(1);
  T* p = param.data<T>();
  T* m = exp_avg.data<T>();
  T* v = exp_avg_sq.data<T>();
  int64_t* current = row_step.data();
  if (!grad) {  // flush: every row up to `step` (steps current+1 .. step all skipped)
    build_window_table(step);
    for (int64_t r = 0; r < rows; ++r)
      if (step - current[r] > kWindow) full_window(current[r]);
    auto flush_row = [&](int64_t r) {
      catch_up<T>(p + r * dim, m + r * dim, v + r * dim, dim, current[r], step - current[r]);
      current[r] = step;
    };
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (rows * dim >= kParallelThreshold)
    for (int64_t r = 0; r < rows; ++r) flush_row(r);
    return;
  }
  const int64_t nnz = grad->indices.numel();
  const int32_t* index = grad->indices.data<int32_t>();
  const T* g = grad->rows.data<T>();
  for (int64_t i = 0; i < nnz; ++i)
    NCF_CHECK(index[i] >= 0 && index[i] < rows && current[index[i]] < step,
              "deferred Adam: row " << index[i] << " at " << i << " is outside " << param.describe()
                                    << " or already at step " << step);
  build_window_table(step - 1);  // a touched row skipped the steps up to step - 1
  for (int64_t i = 0; i < nnz; ++i)
    if (step - 1 - current[index[i]] > kWindow) full_window(current[index[i]]);
  const auto update =
      AdamUpdate<T>::make(settings_.lr, settings_.beta1, settings_.beta2, settings_.eps, 0.0, step);
  auto touch_row = [&](int64_t i) {
    if (i + kPrefetchAhead < nnz) prefetch_row(p, m, v, current, index[i + kPrefetchAhead], dim);
    const int64_t r = index[i];
    T* pr = p + r * dim;
    T* mr = m + r * dim;
    T* vr = v + r * dim;
    catch_up<T>(pr, mr, vr, dim, current[r], step - 1 - current[r]);
    const T* gr = g + i * dim;
    for (int64_t d = 0; d < dim; ++d) update(pr[d], gr[d], mr[d], vr[d]);
    current[r] = step;
  };
  // A touched row costs some ten element updates: split over threads from a tenth of the usual size.
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (nnz * dim * 10 >= kParallelThreshold)
  for (int64_t i = 0; i < nnz; ++i) touch_row(i);
}

void DeferredAdam::check(const Tensor& param, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                         const std::vector<int64_t>& row_step, int64_t step, const char* op) const {
  NCF_CHECK(param.defined() && param.ndim() == 2 && !param.is_cuda() &&
                (param.dtype() == DType::f32 || param.dtype() == DType::f64),
            op << ": the parameter must be a 2-D f32/f64 CPU table, got " << param.describe());
  for (const Tensor* t : {&exp_avg, &exp_avg_sq})
    NCF_CHECK(t->defined() && t->shape() == param.shape() && t->dtype() == param.dtype() && !t->is_cuda(),
              op << ": moment " << t->describe() << " does not match " << param.describe());
  NCF_CHECK(static_cast<int64_t>(row_step.size()) == param.dim(0),
            op << ": " << row_step.size() << " row steps for " << param.describe());
  NCF_CHECK(step >= 1, op << ": step is 1-based, got " << step);
}

void DeferredAdam::step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                        std::vector<int64_t>& row_step, int64_t step) {
  check(param, exp_avg, exp_avg_sq, row_step, step, "deferred Adam step");
  NCF_CHECK(
      grad.indices.defined() && grad.indices.dtype() == DType::i32 && !grad.indices.is_cuda() &&
          grad.rows.defined() && grad.rows.dtype() == param.dtype() && !grad.rows.is_cuda() &&
          grad.rows.numel() == grad.indices.numel() * param.dim(1),
      "deferred Adam step: gradient rows " << grad.rows.describe() << " do not fit " << param.describe());
  NCF_DISPATCH_FLOAT(param.dtype(), "deferred Adam step",
                     [&] { run<scalar_t>(param, &grad, exp_avg, exp_avg_sq, row_step, step); });
}

void DeferredAdam::catch_up_rows(Tensor& param, const Tensor& indices, Tensor& exp_avg, Tensor& exp_avg_sq,
                                 std::vector<int64_t>& row_step, int64_t step) {
  if (step < 1) return;
  check(param, exp_avg, exp_avg_sq, row_step, step, "deferred Adam catch-up");
  NCF_CHECK(indices.defined() && indices.dtype() == DType::i32 && !indices.is_cuda(),
            "deferred Adam catch-up: indices must be i32 on the CPU, got " << indices.describe());
  const int64_t rows = param.dim(0), dim = param.dim(1), count = indices.numel();
  const int32_t* index = indices.data<int32_t>();
  int64_t* current = row_step.data();
  build_window_table(step);
  NCF_DISPATCH_FLOAT(param.dtype(), "deferred Adam catch-up", [&] {
    scalar_t* p = param.data<scalar_t>();
    scalar_t* m = exp_avg.data<scalar_t>();
    scalar_t* v = exp_avg_sq.data<scalar_t>();
    for (int64_t i = 0; i < count; ++i) {  // in order: a repeated row is caught up once
      if (i + kPrefetchAhead < count) {
        const int32_t ahead = index[i + kPrefetchAhead];
        if (ahead >= 0 && ahead < rows) prefetch_row(p, m, v, current, ahead, dim);
      }
      const int64_t r = index[i];
      NCF_CHECK(r >= 0 && r < rows,
                "deferred Adam catch-up: row " << r << " at " << i << " outside " << param.describe());
      if (current[r] >= step) continue;
      if (step - current[r] > kWindow) full_window(current[r]);
      catch_up<scalar_t>(p + r * dim, m + r * dim, v + r * dim, dim, current[r], step - current[r]);
      current[r] = step;
    }
  });
}

void DeferredAdam::flush(Tensor& param, Tensor& exp_avg, Tensor& exp_avg_sq, std::vector<int64_t>& row_step,
                         int64_t step) {
  check(param, exp_avg, exp_avg_sq, row_step, step, "deferred Adam flush");
  NCF_DISPATCH_FLOAT(param.dtype(), "deferred Adam flush",
                     [&] { run<scalar_t>(param, nullptr, exp_avg, exp_avg_sq, row_step, step); });
}

}  // namespace ncf::ops
