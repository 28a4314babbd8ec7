// The fused dot-model step on the GPU (formulas in factorization.h; factorization.cpp validated the
// arguments). Three stages, all deterministic:
//   1. score_kernel, one warp per occurrence b: the dot product (lanes over d, a shuffle reduction
//      in a fixed order), g_b and the loss term; then the occurrence's gradient rows, the bias as
//      column d:  gP[b] = [g_b Q[i_b] + r P[u_b], g_b + r bu[u_b]],  gQ[b] likewise.
//   2. segment_sum_rows (tensor/ops/index.h) sums gP per unique user and gQ per unique item, in
//      batch order, by a CUB sort; an index out of range is skipped there and reported at the next
//      synchronisation (tensor/cuda_context.h), as by every index op.
//   3. apply_kernel: one thread per (unique row, column) subtracts lr times the sum, skipping the
//      padding entries of the worst-case-sized RowSparse; no two threads write one element. The global bias moves by -lr * sum_b g_b (ops::sum, fixed order).
#include <algorithm>
#include <tuple>

#include "tensor/cuda_context.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/factorization.h"
#include "tensor/ops/factorization_cuda.h"
#include "tensor/ops/index.h"
#include "tensor/ops/loss_functors.h"
#include "tensor/ops/reduce.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;

template <class T>
__global__ void score_kernel(const T* P, const T* Q, const T* bu, const T* bi, const T* c, const int32_t* users,
                             const int32_t* items, const T* labels, int64_t batch, int64_t d, int64_t num_users,
                             int64_t num_items, T inv_batch, T r, T* grad_p, T* grad_q, T* coef, T* term) {
  const int lane = threadIdx.x % 32;
  for (int64_t b = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32; b < batch;
       b += int64_t(gridDim.x) * kWarpsPerBlock) {
    const int32_t u = users[b], i = items[b];
    if (u < 0 || u >= num_users || i < 0 || i >= num_items) continue;  // segment_sum_rows reports it
    const T* p = P + int64_t(u) * d;
    const T* q = Q + int64_t(i) * d;
    T dot = T(0);
    for (int64_t k = lane; k < d; k += 32) dot += p[k] * q[k];
    for (int offset = 16; offset > 0; offset /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
    const T score = c[0] + bu[u] + bi[i] + dot;  // every lane holds the same sum
    const T g = BceWithLogitsGradFn{}(score, labels[b]) * inv_batch;
    T* gp = grad_p + b * (d + 1);
    T* gq = grad_q + b * (d + 1);
    for (int64_t k = lane; k < d; k += 32) {
      gp[k] = g * q[k] + r * p[k];
      gq[k] = g * p[k] + r * q[k];
    }
    if (lane == 0) {
      gp[d] = g + r * bu[u];
      gq[d] = g + r * bi[i];
      coef[b] = g;
      term[b] = BceWithLogitsFn{}(score, labels[b]);
    }
  }
}

// table[index[n], k] -= lr * rows[n, k] for k < d; bias[index[n]] -= lr * rows[n, d]; entries whose
// index is not a row (padding, index == num_rows) are skipped.
template <class T>
__global__ void apply_kernel(T* table, T* bias, const int32_t* index, const T* rows, int64_t nnz, int64_t d,
                             int64_t num_rows, T lr) {
  const int64_t total = nnz * (d + 1);
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = e / (d + 1), k = e % (d + 1);
    const int64_t row = index[n];
    if (row < 0 || row >= num_rows) continue;
    if (k < d)
      table[row * d + k] -= lr * rows[e];
    else
      bias[row] -= lr * rows[e];
  }
}

template <class T>
void step(const DotTables& t, const Tensor& users, const Tensor& items, const Tensor& labels, double lr, double l2,
          Tensor& loss) {
  const int64_t batch = users.numel(), d = t.user.dim(1);
  const Device device = t.user.device();
  const cudaStream_t stream = cuda_stream(device.index);
  Tensor grad_p = Tensor::empty({batch, d + 1}, t.user.dtype(), device);
  Tensor grad_q = Tensor::empty({batch, d + 1}, t.user.dtype(), device);
  Tensor coef = Tensor::empty({batch}, t.user.dtype(), device);
  Tensor term = Tensor::empty({batch}, t.user.dtype(), device);
  const int64_t blocks = (batch + kWarpsPerBlock - 1) / kWarpsPerBlock;
  score_kernel<T><<<static_cast<unsigned>(std::min<int64_t>(blocks, 132 * 16)), kThreads, 0, stream>>>(
      t.user.data<T>(), t.item.data<T>(), t.user_bias.data<T>(), t.item_bias.data<T>(), t.bias.data<T>(),
      users.data<int32_t>(), items.data<int32_t>(), labels.data<T>(), batch, d, t.user.dim(0), t.item.dim(0),
      T(1) / T(batch), T(2 * l2) / T(batch), grad_p.data<T>(), grad_q.data<T>(), coef.data<T>(), term.data<T>());
  NCF_CUDA_LAUNCH_CHECK("dot_logistic_sgd score_kernel");

  const RowSparse by_user = segment_sum_rows(users, grad_p, t.user.dim(0));
  const RowSparse by_item = segment_sum_rows(items, grad_q, t.item.dim(0));
  for (const auto& [sum, table, bias] : {std::tuple{&by_user, &t.user, &t.user_bias},
                                         std::tuple{&by_item, &t.item, &t.item_bias}}) {
    const int64_t nnz = sum->indices.numel();
    apply_kernel<T><<<cuda_blocks_for(nnz * (d + 1), kThreads), kThreads, 0, stream>>>(
        table->data<T>(), bias->data<T>(), sum->indices.data<int32_t>(), sum->rows.data<T>(), nnz, d,
        sum->num_rows, T(lr));
    NCF_CUDA_LAUNCH_CHECK("dot_logistic_sgd apply_kernel");
  }
  Tensor bias = t.bias;
  axpy_(bias, -lr, sum(coef));
  loss.copy_from(scale(sum(term), 1.0 / static_cast<double>(batch)));
}

}  // namespace

void cuda_dot_logistic_sgd_step_(const DotTables& tables, const Tensor& users, const Tensor& items,
                                 const Tensor& labels, double lr, double l2, Tensor& loss) {
  if (tables.user.dtype() == DType::f32)
    step<float>(tables, users, items, labels, lr, l2, loss);
  else
    step<double>(tables, users, items, labels, lr, l2, loss);
}

}  // namespace ncf::ops
