// Optimizer steps on the GPU: one launch updates every tensor of a parameter list.
//
// A kernel argument can carry a few kilobytes, so the host packs the list's pointers and sizes
// into a fixed-capacity struct (TensorList) passed by value. Each tensor is cut into chunks of
// kChunk elements and each chunk gets one block; block_start[t] is the first block of tensor t,
// so a block finds its tensor by a short scan. A list longer than kCapacity tensors takes one
// launch per kCapacity tensors. The per-element math is AdamUpdate / SgdUpdate
// (optimizer_functors.h), shared with the CPU loops in optimizer.cpp, which validated everything.
#include "tensor/cuda_context.h"
#include "tensor/ops/index_functors.h"
#include "tensor/ops/optimizer.h"
#include "tensor/ops/optimizer_cuda.h"
#include "tensor/ops/optimizer_functors.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = kThreads * 16;  // elements per block
constexpr int kCapacity = 48;              // tensors per launch: ~2.3 KB of kernel arguments

template <class T>
struct TensorList {
  int count = 0;
  int block_start[kCapacity + 1];  // block_start[count] = total blocks
  int64_t numel[kCapacity];
  T* param[kCapacity];
  const T* grad[kCapacity];
  T* state1[kCapacity];  // Adam: exp_avg;    SGD: momentum buffer (or null)
  T* state2[kCapacity];  // Adam: exp_avg_sq; SGD: unused
};

// Runs op(list, t, i) for every element i of every tensor t of the list.
template <class T, class Op>
__global__ void multi_tensor_kernel(TensorList<T> list, Op op) {
  const int block = static_cast<int>(blockIdx.x);
  int t = 0;
  while (t + 1 < list.count && block >= list.block_start[t + 1]) ++t;
  const int64_t begin = static_cast<int64_t>(block - list.block_start[t]) * kChunk;
  const int64_t end = begin + kChunk < list.numel[t] ? begin + kChunk : list.numel[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) op(list, t, i);
}

template <class T>
struct AdamListOp {
  AdamUpdate<T> update;
  __device__ void operator()(const TensorList<T>& list, int t, int64_t i) const {
    update(list.param[t][i], list.grad[t][i], list.state1[t][i], list.state2[t][i]);
  }
};

template <class T>
struct SgdListOp {
  SgdUpdate<T> update;
  __device__ void operator()(const TensorList<T>& list, int t, int64_t i) const {
    update(list.param[t][i], list.grad[t][i], list.state1[t] ? list.state1[t] + i : nullptr);
  }
};

template <class T, class Op>
void launch_list(TensorList<T>& list, const Op& op, cudaStream_t stream) {
  if (list.count == 0) return;
  const int blocks = list.block_start[list.count];
  if (blocks > 0) {
    multi_tensor_kernel<T, Op><<<blocks, kThreads, 0, stream>>>(list, op);
    NCF_CUDA_LAUNCH_CHECK("multi_tensor_kernel");
  }
  list.count = 0;
}

// Packs tensors into lists and launches each full list; `state1/state2` may be null.
template <class T, class Op>
void for_each_list(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>* state1, const std::vector<Tensor>* state2, const Op& op) {
  const cudaStream_t stream = cuda_stream(params[0].device().index);
  TensorList<T> list;
  list.block_start[0] = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    if (n == 0) continue;
    const int64_t blocks = (n + kChunk - 1) / kChunk;
    // Grids are limited to 2^31 - 1 blocks; a full list (or a huge tensor) starts a new launch.
    if (list.count == kCapacity || list.block_start[list.count] + blocks > 0x7fffffff) {
      launch_list(list, op, stream);
      list.block_start[0] = 0;
    }
    const int t = list.count++;
    list.numel[t] = n;
    list.param[t] = params[i].data<T>();
    list.grad[t] = grads[i].data<T>();
    list.state1[t] = state1 ? (*state1)[i].data<T>() : nullptr;
    list.state2[t] = state2 ? (*state2)[i].data<T>() : nullptr;
    list.block_start[t + 1] = list.block_start[t] + static_cast<int>(blocks);
  }
  launch_list(list, op, stream);
}

template <class T>
__global__ void sparse_adam_kernel(T* param, const int32_t* __restrict__ indices, const T* __restrict__ rows,
                                   T* exp_avg, T* exp_avg_sq, int64_t nnz, int64_t dim, int64_t num_rows,
                                   AdamUpdate<T> update, CudaIndexFaults* faults) {
  const int64_t total = nnz * dim;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = e / dim, d = e % dim;
    const int32_t row = indices[r];
    // Indices come from segment_sum_rows: sorted unique rows, then padding (index num_rows, see
    // RowSparse in index.h), which is skipped. Anything else out of range is skipped and reported
    // (the host cannot check without a synchronisation).
    if (!is_row(row, num_rows)) {
      if (!is_row_padding(row, num_rows) && d == 0)
        report_index_fault(faults, IndexOp::sparse_adam_step, r, row);
      continue;
    }
    const int64_t at = static_cast<int64_t>(row) * dim + d;
    update(param[at], rows[e], exp_avg[at], exp_avg_sq[at]);
  }
}

}  // namespace

void cuda_adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
                    const AdamSettings& s) {
  NCF_DISPATCH_FLOAT(params[0].dtype(), "cuda adam_step", [&] {
    const AdamListOp<scalar_t> op{
        AdamUpdate<scalar_t>::make(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step)};
    for_each_list<scalar_t>(params, grads, &exp_avg, &exp_avg_sq, op);
  });
}

void cuda_sparse_adam_step(Tensor& param, const RowSparse& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                           const AdamSettings& s) {
  const int64_t nnz = grad.indices.numel(), dim = param.dim(1);
  NCF_DISPATCH_FLOAT(param.dtype(), "cuda sparse_adam_step", [&] {
    const auto update = AdamUpdate<scalar_t>::make(s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.step);
    sparse_adam_kernel<scalar_t>
        <<<cuda_blocks_for(nnz * dim, kThreads), kThreads, 0, cuda_stream(param.device().index)>>>(
            param.data<scalar_t>(), grad.indices.data<int32_t>(), grad.rows.data<scalar_t>(),
            exp_avg.data<scalar_t>(), exp_avg_sq.data<scalar_t>(), nnz, dim, param.dim(0), update,
            cuda_index_faults(param.device().index));
    NCF_CUDA_LAUNCH_CHECK("sparse_adam_kernel");
  });
}

void cuda_sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>* momentum_buffers, double lr, double momentum,
                   double weight_decay, bool first_step) {
  NCF_DISPATCH_FLOAT(params[0].dtype(), "cuda sgd_step", [&] {
    const SgdListOp<scalar_t> op{SgdUpdate<scalar_t>{static_cast<scalar_t>(lr),
                                                     static_cast<scalar_t>(momentum),
                                                     static_cast<scalar_t>(weight_decay), first_step}};
    for_each_list<scalar_t>(params, grads, momentum_buffers, nullptr, op);
  });
}

}  // namespace ncf::ops
