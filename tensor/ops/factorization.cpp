// The fused dot-model step on the CPU, its reference, and the checks shared with the GPU path
// (formulas and determinism in factorization.h).
#include "tensor/ops/factorization.h"
#include "tensor/ops/factorization_cuda.h"

#include <omp.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "tensor/cpu_parallel.h"
#include "tensor/device.h"
#include "tensor/ops/loss_functors.h"

namespace ncf::ops {

namespace {

constexpr const char* kOp = "dot_logistic_sgd_step_";

// Shapes, dtypes, one device; and, for tensors on the CPU, every index in range.
void check_arguments(const DotTables& t, const Tensor& users, const Tensor& items, const Tensor& labels) {
  for (const Tensor* x : {&t.user, &t.item, &t.user_bias, &t.item_bias, &t.bias, &users, &items, &labels})
    NCF_CHECK(x->defined(), kOp << ": every table and batch column must be defined");
  NCF_CHECK(t.user.ndim() == 2 && t.item.ndim() == 2 && t.user.dim(1) == t.item.dim(1),
            kOp << ": P " << t.user.describe() << " and Q " << t.item.describe() << " must be (n, d) alike");
  NCF_CHECK(t.user_bias.shape() == Shape({t.user.dim(0), 1}) && t.item_bias.shape() == Shape({t.item.dim(0), 1}) &&
                t.bias.shape() == Shape({1}),
            kOp << ": biases must be (" << t.user.dim(0) << ", 1), (" << t.item.dim(0) << ", 1) and (1,), got "
                << t.user_bias.describe() << ", " << t.item_bias.describe() << ", " << t.bias.describe());
  const DType dtype = t.user.dtype();
  NCF_CHECK(dtype == DType::f32 || dtype == DType::f64, kOp << ": tables must be f32 or f64, got " << t.user.describe());
  for (const Tensor* x : {&t.item, &t.user_bias, &t.item_bias, &t.bias, &labels}) {
    check_dtype(*x, dtype, kOp, "every table and the labels");
    check_same_device(t.user, *x, kOp);
  }
  check_dtype(users, DType::i32, kOp, "users");
  check_dtype(items, DType::i32, kOp, "items");
  check_same_device(t.user, users, kOp);
  check_same_device(t.user, items, kOp);
  NCF_CHECK(users.ndim() == 1 && users.shape() == items.shape() && labels.shape() == users.shape() &&
                users.numel() >= 1,
            kOp << ": users " << users.describe() << ", items " << items.describe() << " and labels "
                << labels.describe() << " must be (B,) alike, B >= 1");
  if (!users.device().is_cpu()) return;  // the GPU path checks the indices where it sums them
  for (const auto& [column, rows, name] : {std::tuple{&users, t.user.dim(0), "user"},
                                           std::tuple{&items, t.item.dim(0), "item"}}) {
    const int32_t* index = column->data<int32_t>();
    for (int64_t b = 0; b < column->numel(); ++b)
      NCF_CHECK(index[b] >= 0 && index[b] < rows, kOp << ": " << name << " index " << index[b] << " at position "
                                                      << b << " is out of range for " << rows << " rows");
  }
}

template <class T>
void step_cpu(const DotTables& t, const Tensor& users, const Tensor& items, const Tensor& labels, double lr,
              double l2, Tensor& loss) {
  const int64_t batch = users.numel(), d = t.user.dim(1);
  T *P = t.user.data<T>(), *Q = t.item.data<T>(), *bu = t.user_bias.data<T>(), *bi = t.item_bias.data<T>();
  const int32_t *u = users.data<int32_t>(), *i = items.data<int32_t>();
  const T* y = labels.data<T>();
  const T inv_batch = T(1) / static_cast<T>(batch), r = T(2 * l2) / static_cast<T>(batch), step = T(lr);
  const bool parallel = batch * d >= kParallelThreshold;

  // 1. Each occurrence's coefficient g_b and a copy of the rows it read, before any is written.
  // The scratch is the calling thread's, reused step after step; the parallel loops below reach it
  // through plain pointers (a thread_local named inside them would be each worker's own, empty).
  thread_local std::vector<T> scratch;
  scratch.resize(static_cast<size_t>(batch * (2 * d + 4)));
  T* const old_p = scratch.data();        // (B, d)
  T* const old_q = old_p + batch * d;     // (B, d)
  T* const old_bu = old_q + batch * d;    // (B,)
  T* const old_bi = old_bu + batch;       // (B,)
  T* const coef = old_bi + batch;         // (B,) g_b
  T* const term = coef + batch;           // (B,) BCE of occurrence b
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (parallel)
  for (int64_t b = 0; b < batch; ++b) {
    const T* p = P + static_cast<int64_t>(u[b]) * d;
    const T* q = Q + static_cast<int64_t>(i[b]) * d;
    T* op = old_p + b * d;
    T* oq = old_q + b * d;
    T dot = T(0);
#pragma omp simd reduction(+ : dot)
    for (int64_t k = 0; k < d; ++k) {
      op[k] = p[k];
      oq[k] = q[k];
      dot += p[k] * q[k];
    }
    old_bu[b] = bu[u[b]];
    old_bi[b] = bi[i[b]];
    const T score = t.bias.data<T>()[0] + old_bu[b] + old_bi[b] + dot;
    coef[b] = BceWithLogitsGradFn{}(score, y[b]) * inv_batch;
    term[b] = BceWithLogitsFn{}(score, y[b]);
  }
  loss.data<T>()[0] = static_cast<T>(cpu_blocked_sum(batch, [&](int64_t b) { return double(term[b]); }) /
                                     static_cast<double>(batch));
  t.bias.data<T>()[0] -= static_cast<T>(lr * cpu_blocked_sum(batch, [&](int64_t b) { return double(coef[b]); }));

  // 2. The updates, occurrence by occurrence in batch order; thread `part` of `parts` owns the rows
  // whose index is part modulo parts, so each row sees its updates in the same order whatever the
  // thread count.
  auto apply = [&](int part, int parts) {
    for (int64_t b = 0; b < batch; ++b) {
      const T g = coef[b];
      if (u[b] % parts == part) {
        T* p = P + static_cast<int64_t>(u[b]) * d;
        const T *op = old_p + b * d, *oq = old_q + b * d;
#pragma omp simd
        for (int64_t k = 0; k < d; ++k) p[k] -= step * (g * oq[k] + r * op[k]);
        bu[u[b]] -= step * (g + r * old_bu[b]);
      }
      if (i[b] % parts == part) {
        T* q = Q + static_cast<int64_t>(i[b]) * d;
        const T *op = old_p + b * d, *oq = old_q + b * d;
#pragma omp simd
        for (int64_t k = 0; k < d; ++k) q[k] -= step * (g * op[k] + r * oq[k]);
        bi[i[b]] -= step * (g + r * old_bi[b]);
      }
    }
  };
  if (!parallel) {
    apply(0, 1);
  } else {
#pragma omp parallel num_threads(::ncf::cpu_threads())
    apply(omp_get_thread_num(), omp_get_num_threads());
  }
}

template <class T>
void step_reference(const DotTables& t, const Tensor& users, const Tensor& items, const Tensor& labels,
                    double lr, double l2, Tensor& loss) {
  const int64_t batch = users.numel(), d = t.user.dim(1), num_users = t.user.dim(0), num_items = t.item.dim(0);
  T *P = t.user.data<T>(), *Q = t.item.data<T>(), *bu = t.user_bias.data<T>(), *bi = t.item_bias.data<T>();
  T* c = t.bias.data<T>();
  const int32_t *u = users.data<int32_t>(), *i = items.data<int32_t>();
  const T* y = labels.data<T>();
  std::vector<double> gP(num_users * d, 0.0), gQ(num_items * d, 0.0), gbu(num_users, 0.0), gbi(num_items, 0.0);
  double gc = 0.0, loss_sum = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    double score = double(c[0]) + double(bu[u[b]]) + double(bi[i[b]]);
    for (int64_t k = 0; k < d; ++k) score += double(P[u[b] * d + k]) * double(Q[i[b] * d + k]);
    const double sigmoid = 1.0 / (1.0 + std::exp(-score));
    loss_sum += -(double(y[b]) * std::log(sigmoid) + (1.0 - double(y[b])) * std::log(1.0 - sigmoid));
    const double g = (sigmoid - double(y[b])) / double(batch), r = 2.0 * l2 / double(batch);
    for (int64_t k = 0; k < d; ++k) {
      gP[u[b] * d + k] += g * double(Q[i[b] * d + k]) + r * double(P[u[b] * d + k]);
      gQ[i[b] * d + k] += g * double(P[u[b] * d + k]) + r * double(Q[i[b] * d + k]);
    }
    gbu[u[b]] += g + r * double(bu[u[b]]);
    gbi[i[b]] += g + r * double(bi[i[b]]);
    gc += g;
  }
  for (int64_t e = 0; e < num_users * d; ++e) P[e] = static_cast<T>(double(P[e]) - lr * gP[e]);
  for (int64_t e = 0; e < num_items * d; ++e) Q[e] = static_cast<T>(double(Q[e]) - lr * gQ[e]);
  for (int64_t e = 0; e < num_users; ++e) bu[e] = static_cast<T>(double(bu[e]) - lr * gbu[e]);
  for (int64_t e = 0; e < num_items; ++e) bi[e] = static_cast<T>(double(bi[e]) - lr * gbi[e]);
  c[0] = static_cast<T>(double(c[0]) - lr * gc);
  loss.data<T>()[0] = static_cast<T>(loss_sum / double(batch));
}

}  // namespace

Tensor dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                              const Tensor& labels, double lr, double l2) {
  check_arguments(tables, users, items, labels);
  Tensor loss = Tensor::empty({1}, tables.user.dtype(), tables.user.device());
  if (tables.user.device().is_cuda()) {
    NCF_ON_CUDA(cuda_dot_logistic_sgd_step_(tables, users, items, labels, lr, l2, loss));
  } else if (tables.user.dtype() == DType::f32) {
    step_cpu<float>(tables, users, items, labels, lr, l2, loss);
  } else {
    step_cpu<double>(tables, users, items, labels, lr, l2, loss);
  }
  return loss;
}

namespace reference {
Tensor dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                              const Tensor& labels, double lr, double l2) {
  check_arguments(tables, users, items, labels);
  NCF_CHECK(tables.user.device().is_cpu(), "reference::dot_logistic_sgd_step_ runs on the CPU only");
  Tensor loss = Tensor::empty({1}, tables.user.dtype(), tables.user.device());
  if (tables.user.dtype() == DType::f32)
    step_reference<float>(tables, users, items, labels, lr, l2, loss);
  else
    step_reference<double>(tables, users, items, labels, lr, l2, loss);
  return loss;
}
}  // namespace reference

}  // namespace ncf::ops
