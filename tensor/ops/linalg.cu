// Linear algebra on the GPU (shapes and semantics in linalg.h; arguments were validated and outputs
// allocated by linalg.cpp). Every cuBLAS/cuSOLVER call and kernel launch is checked.
//
// Row-major tensors meet column-major libraries: a row-major (n, n) matrix is, byte for byte, the
// column-major matrix of its transpose. For a symmetric A the two are the same matrix, and the
// row-major lower triangle is the column-major upper one. So:
//   - factorisations ask cuSOLVER for CUBLAS_FILL_MODE_UPPER: it reads our lower triangle and writes
//     U with A = U^T U there, i.e. our row-major L = U^T with A = L L^T; a kernel then zeroes the
//     strict upper triangle, as on the CPU;
//   - potri with the same fill mode leaves A^-1 in our lower triangle; a kernel mirrors it;
//   - gram(a), a (m, n) row-major = A' (n, m) column-major: a^T a = A' A'^T is syrk with no
//     transpose; its column-major lower triangle is our upper one, mirrored into the lower.
//
// Kernels of our own:
//   csr_gram       one block per row of X, one thread per pair (p, q <= p) of its entries, each adding
//                  1 to out[col p][col q] with atomicAdd. The values are integers: exact in any order
//                  (f32 up to 2^24), so the result is deterministic although the order is not.
//   csr_gemm       one block per row of X, one thread per output column, adding the rows in order.
//   csr_row_grams  one block per system: tiles of the row's gathered table rows staged in shared
//                  memory; thread e owns entries e, e + blockDim, ... of the k x k matrix and adds
//                  table[c][r] table[c][s] over the tile in order, so every entry sums in a fixed order.
//   cholesky_solve one warp per system: forward substitution with a warp-shuffle dot product per row
//                  (fixed tree), backward in axpy form over the lanes; no library call, so no doubt
//                  about which triangle cuSOLVER's potrsBatched reads.
//   small ones     mirror a triangle, zero the strict upper triangle, diagonal get/add/fill,
//                  scale columns, build the pointer arrays of the batched calls.
#include <algorithm>
#include <climits>
#include <vector>

#include "tensor/cuda_context.h"
#include "tensor/ops/linalg.h"
#include "tensor/ops/linalg_cuda.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float fused_mul_add(float a, float b, float c) { return fmaf(a, b, c); }
__device__ __forceinline__ double fused_mul_add(double a, double b, double c) { return fma(a, b, c); }

// Blocks for a grid-stride loop over `rows` independent rows (one block each), capped.
unsigned int blocks_for_rows(int64_t rows) {
  const int64_t cap = 132 * 32;
  return static_cast<unsigned int>(rows < 1 ? 1 : (rows > cap ? cap : rows));
}

// ---- triangles and diagonals --------------------------------------------------------------------

// For each matrix of the batch (n x n each): upper_from_lower ? a[j][i] = a[i][j] : a[i][j] = a[j][i],
// for i > j. Each thread reads one triangle and writes the other: no element is both read and written.
template <class T>
__global__ void mirror_kernel(T* a, int64_t batch, int64_t n, bool upper_from_lower) {
  const int64_t total = batch * n * n;
  for (int64_t e = first_index(); e < total; e += grid_stride()) {
    const int64_t s = e / (n * n), i = (e / n) % n, j = e % n;
    if (i <= j) continue;
    T* m = a + s * n * n;
    if (upper_from_lower)
      m[j * n + i] = m[i * n + j];
    else
      m[i * n + j] = m[j * n + i];
  }
}

template <class T>
__global__ void zero_strict_upper_kernel(T* a, int64_t batch, int64_t n) {
  const int64_t total = batch * n * n;
  for (int64_t e = first_index(); e < total; e += grid_stride())
    if (e % n > (e / n) % n) a[e] = T(0);
}

template <class T>
__global__ void diagonal_kernel(const T* a, int64_t n, T* out) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) out[i] = a[i * n + i];
}

template <class T>
__global__ void add_diagonal_kernel(T* a, int64_t n, T value, bool fill) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    a[i * n + i] = fill ? value : a[i * n + i] + value;
}

template <class T>
__global__ void scale_columns_kernel(T* a, int64_t rows, int64_t cols, const T* factors) {
  for (int64_t e = first_index(); e < rows * cols; e += grid_stride()) a[e] *= factors[e % cols];
}

template <class T>
void launch_mirror(T* a, int64_t batch, int64_t n, bool upper_from_lower, cudaStream_t stream) {
  mirror_kernel<<<cuda_blocks_for(batch * n * n, kThreads), kThreads, 0, stream>>>(a, batch, n,
                                                                                   upper_from_lower);
  NCF_CUDA_LAUNCH_CHECK("mirror_kernel");
}

template <class T>
void launch_zero_strict_upper(T* a, int64_t batch, int64_t n, cudaStream_t stream) {
  zero_strict_upper_kernel<<<cuda_blocks_for(batch * n * n, kThreads), kThreads, 0, stream>>>(a, batch, n);
  NCF_CUDA_LAUNCH_CHECK("zero_strict_upper_kernel");
}

// ---- sparse -------------------------------------------------------------------------------------

template <class T>
__global__ void csr_gram_kernel(const int32_t* offsets, const int32_t* indices, int64_t rows, int64_t cols,
                                T* out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t begin = offsets[r], m = offsets[r + 1] - begin;
    for (int64_t e = threadIdx.x; e < m * m; e += blockDim.x) {
      const int64_t p = e / m, q = e % m;
      if (q > p) continue;  // columns increase along a row: indices[q] <= indices[p], the lower triangle
      atomicAdd(&out[static_cast<int64_t>(indices[begin + p]) * cols + indices[begin + q]], T(1));
    }
  }
}

template <class T>
__global__ void csr_gemm_kernel(const int32_t* offsets, const int32_t* indices, int64_t rows, const T* dense,
                                int64_t d, T* out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int32_t begin = offsets[r], end = offsets[r + 1];
    for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
      T sum = T(0);
      for (int32_t e = begin; e < end; ++e) sum += dense[static_cast<int64_t>(indices[e]) * d + c];
      out[r * d + c] = sum;
    }
  }
}

// out[s] = base + shift[s] I + sum over the row's columns c of table[c]^T table[c], full matrix.
// Shared memory holds `tile_rows` gathered rows of the table (tile_rows * k values).
template <class T>
__global__ void csr_row_grams_kernel(const int32_t* offsets, const int32_t* indices, int64_t rows,
                                     const T* table, int64_t k, const T* base, const T* shift,
                                     int64_t tile_rows, T* out) {
  extern __shared__ unsigned char shared_bytes[];
  T* tile = reinterpret_cast<T*>(shared_bytes);
  const int64_t entries = k * k;
  for (int64_t s = blockIdx.x; s < rows; s += gridDim.x) {
    T* a = out + s * entries;
    for (int64_t e = threadIdx.x; e < entries; e += blockDim.x) {
      const int64_t i = e / k, j = e % k;
      a[e] = base[(i > j ? i : j) * k + (i > j ? j : i)] + (i == j ? shift[s] : T(0));
    }
    const int32_t begin = offsets[s], end = offsets[s + 1];
    for (int32_t t0 = begin; t0 < end; t0 += static_cast<int32_t>(tile_rows)) {
      const int64_t count = (end - t0) < tile_rows ? (end - t0) : tile_rows;
      __syncthreads();  // the previous tile has been used by every thread
      for (int64_t v = threadIdx.x; v < count * k; v += blockDim.x)
        tile[v] = table[static_cast<int64_t>(indices[t0 + v / k]) * k + v % k];
      __syncthreads();
      for (int64_t e = threadIdx.x; e < entries; e += blockDim.x) {
        const int64_t i = e / k, j = e % k;
        T acc = a[e];
        for (int64_t t = 0; t < count; ++t) acc = fused_mul_add(tile[t * k + i], tile[t * k + j], acc);
        a[e] = acc;
      }
    }
    __syncthreads();  // the tile is refilled for the next system
  }
}

// ---- batched solve ------------------------------------------------------------------------------

// One warp per system s: x = (L L^T)^-1 b, l (batch, k, k) lower, b (batch, k) overwritten.
template <class T>
__global__ void cholesky_solve_kernel(const T* l, int64_t batch, int64_t k, T* b) {
  const int lane = threadIdx.x % 32;
  const int64_t warps_per_block = blockDim.x / 32;
  for (int64_t s = static_cast<int64_t>(blockIdx.x) * warps_per_block + threadIdx.x / 32; s < batch;
       s += static_cast<int64_t>(gridDim.x) * warps_per_block) {
    const T* f = l + s * k * k;
    T* x = b + s * k;
    for (int64_t j = 0; j < k; ++j) {  // L y = b: y_j = (b_j - L[j][0:j] . y[0:j]) / L[j][j]
      T partial = T(0);
      for (int64_t p = lane; p < j; p += 32) partial = fused_mul_add(f[j * k + p], x[p], partial);
      for (int offset = 16; offset > 0; offset >>= 1)
        partial += __shfl_down_sync(0xffffffffu, partial, offset);
      if (lane == 0) x[j] = (x[j] - partial) / f[j * k + j];
      __syncwarp();
    }
    for (int64_t p = k - 1; p >= 0; --p) {  // L^T x = y: x_p = y_p / L[p][p], y[0:p] -= x_p L[p][0:p]
      const T xp = x[p] / f[p * k + p];
      __syncwarp();
      if (lane == 0) x[p] = xp;
      for (int64_t q = lane; q < p; q += 32) x[q] = fused_mul_add(-xp, f[p * k + q], x[q]);
      __syncwarp();
    }
  }
}

template <class T>
__global__ void batch_pointers_kernel(T* base, int64_t batch, int64_t stride, T** pointers) {
  for (int64_t s = first_index(); s < batch; s += grid_stride()) pointers[s] = base + s * stride;
}

// ---- cuSOLVER by type ---------------------------------------------------------------------------

cusolverStatus_t potrf_batched(cusolverDnHandle_t h, int n, float** a, int lda, int* info, int batch) {
  return cusolverDnSpotrfBatched(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, info, batch);
}
cusolverStatus_t potrf_batched(cusolverDnHandle_t h, int n, double** a, int lda, int* info, int batch) {
  return cusolverDnDpotrfBatched(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, info, batch);
}
cusolverStatus_t potrf_buffer_size(cusolverDnHandle_t h, int n, float* a, int lda, int* lwork) {
  return cusolverDnSpotrf_bufferSize(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, lwork);
}
cusolverStatus_t potrf_buffer_size(cusolverDnHandle_t h, int n, double* a, int lda, int* lwork) {
  return cusolverDnDpotrf_bufferSize(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, lwork);
}
cusolverStatus_t potrf(cusolverDnHandle_t h, int n, float* a, int lda, float* work, int lwork, int* info) {
  return cusolverDnSpotrf(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, work, lwork, info);
}
cusolverStatus_t potrf(cusolverDnHandle_t h, int n, double* a, int lda, double* work, int lwork, int* info) {
  return cusolverDnDpotrf(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, work, lwork, info);
}
cusolverStatus_t potri_buffer_size(cusolverDnHandle_t h, int n, float* a, int lda, int* lwork) {
  return cusolverDnSpotri_bufferSize(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, lwork);
}
cusolverStatus_t potri_buffer_size(cusolverDnHandle_t h, int n, double* a, int lda, int* lwork) {
  return cusolverDnDpotri_bufferSize(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, lwork);
}
cusolverStatus_t potri(cusolverDnHandle_t h, int n, float* a, int lda, float* work, int lwork, int* info) {
  return cusolverDnSpotri(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, work, lwork, info);
}
cusolverStatus_t potri(cusolverDnHandle_t h, int n, double* a, int lda, double* work, int lwork, int* info) {
  return cusolverDnDpotri(h, CUBLAS_FILL_MODE_UPPER, n, a, lda, work, lwork, info);
}

// The factorisation status cuSOLVER left in `info` (device), read back: info = i > 0 means the
// leading minor of order i is not positive definite, i.e. our pivot i - 1.
void check_factor_info(const Tensor& info, const char* op, const Tensor& a, bool batched) {
  const std::vector<int32_t> values = info.to_vector<int32_t>();  // synchronises
  for (size_t s = 0; s < values.size(); ++s) {
    NCF_CHECK(values[s] >= 0, op << ": cuSOLVER rejected argument " << -values[s] << " for " << a.describe());
    if (batched)
      NCF_CHECK(values[s] == 0, op << ": matrix " << s << " of " << a.describe()
                                   << " is not positive definite: pivot " << values[s] - 1
                                   << " is not positive after elimination (cuSOLVER info " << values[s]
                                   << ")");
    else
      NCF_CHECK(values[s] == 0, op << ": the " << a.describe() << " matrix is not positive definite: pivot "
                                   << values[s] - 1 << " is not positive after elimination (cuSOLVER info "
                                   << values[s] << ")");
  }
}

template <class T>
void factor_one(Tensor& a, const char* op) {
  const int n = static_cast<int>(a.dim(0));
  const Device device = a.device();
  cusolverDnHandle_t handle = cusolver_handle(device.index);
  T* data = a.data<T>();
  int lwork = 0;
  NCF_CUSOLVER_CHECK(potrf_buffer_size(handle, n, data, n, &lwork));
  Tensor work = Tensor::empty({std::max(lwork, 1)}, dtype_of<T>, device);
  Tensor info = Tensor::zeros({1}, DType::i32, device);
  NCF_CUSOLVER_CHECK(potrf(handle, n, data, n, work.data<T>(), lwork, info.data<int32_t>()));
  check_factor_info(info, op, a, false);
}

}  // namespace

void cuda_gram(const Tensor& a, Tensor& out) {
  const int64_t m = a.dim(0), n = a.dim(1);
  if (n == 0) return;
  const cudaStream_t stream = cuda_stream(a.device().index);
  if (m == 0) {
    NCF_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), stream));
    return;
  }
  NCF_CHECK(m <= INT_MAX && n <= INT_MAX, "gram: " << a.describe() << " is beyond cuBLAS's 32-bit sizes");
  cublasHandle_t handle = cublas_handle(a.device().index);
  // Exact f32 products: no TF32 here whatever allow_tf32() says (gemm sets its own mode per call).
  NCF_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  const int N = static_cast<int>(n), K = static_cast<int>(m);
  if (a.dtype() == DType::f32) {
    const float one = 1.0f, zero = 0.0f;
    NCF_CUBLAS_CHECK(cublasSsyrk(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, N, K, &one, a.data<float>(), N,
                                 &zero, out.data<float>(), N));
    launch_mirror(out.data<float>(), 1, n, false, stream);
  } else {
    const double one = 1.0, zero = 0.0;
    NCF_CUBLAS_CHECK(cublasDsyrk(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, N, K, &one, a.data<double>(), N,
                                 &zero, out.data<double>(), N));
    launch_mirror(out.data<double>(), 1, n, false, stream);
  }
}

void cuda_csr_gram(const BinaryCsr& x, Tensor& out) {
  const cudaStream_t stream = cuda_stream(out.device().index);
  NCF_DISPATCH_FLOAT(out.dtype(), "csr_gram", [&] {
    csr_gram_kernel<<<blocks_for_rows(x.rows), kThreads, 0, stream>>>(
        x.offsets.data<int32_t>(), x.indices.data<int32_t>(), x.rows, x.cols, out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("csr_gram_kernel");
    launch_mirror(out.data<scalar_t>(), 1, x.cols, true, stream);
  });
}

// One thread per pair: out[k] = sum over row rows[k]'s columns j of w[j][cols[k]], in column order.
// Neighbouring threads usually share a row and read neighbouring columns of w (coalesced). A pair
// outside the matrix (the host cannot check without waiting for the GPU) gives 0.
template <class T>
__global__ void csr_gather_sum_kernel(const int32_t* __restrict__ offsets, const int32_t* __restrict__ indices,
                                      int64_t num_rows, const T* __restrict__ w, int64_t n,
                                      const int32_t* __restrict__ rows, const int32_t* __restrict__ cols, int64_t m,
                                      T* out) {
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < m; k += int64_t(gridDim.x) * blockDim.x) {
    const int32_t r = rows[k], c = cols[k];
    T sum = T(0);
    if (r >= 0 && r < num_rows && c >= 0 && c < n)
      for (int32_t e = offsets[r]; e < offsets[r + 1]; ++e) sum += w[static_cast<int64_t>(indices[e]) * n + c];
    out[k] = sum;
  }
}

void cuda_csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols, Tensor& out) {
  const int64_t m = rows.numel();
  NCF_DISPATCH_FLOAT(w.dtype(), "csr_gather_sum", [&] {
    csr_gather_sum_kernel<<<cuda_blocks_for(m, kThreads), kThreads, 0, cuda_stream(out.device().index)>>>(
        x.offsets.data<int32_t>(), x.indices.data<int32_t>(), x.rows, w.data<scalar_t>(), w.dim(1),
        rows.data<int32_t>(), cols.data<int32_t>(), m, out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("csr_gather_sum_kernel");
  });
}

void cuda_csr_gemm(const BinaryCsr& x, const Tensor& dense, Tensor& out) {
  const cudaStream_t stream = cuda_stream(out.device().index);
  const int64_t d = dense.dim(1);
  const int threads = d >= 256 ? 256 : static_cast<int>((d + 31) / 32 * 32);
  NCF_DISPATCH_FLOAT(out.dtype(), "csr_gemm", [&] {
    csr_gemm_kernel<<<blocks_for_rows(x.rows), threads, 0, stream>>>(
        x.offsets.data<int32_t>(), x.indices.data<int32_t>(), x.rows, dense.data<scalar_t>(), d,
        out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("csr_gemm_kernel");
  });
}

void cuda_csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                        Tensor& out) {
  const cudaStream_t stream = cuda_stream(out.device().index);
  const int64_t k = table.dim(1);
  // Up to 32 gathered rows per tile, within the 48 KiB of shared memory a launch gets by default.
  const int64_t row_bytes = k * static_cast<int64_t>(dtype_size(table.dtype()));
  const int64_t tile_rows = std::max<int64_t>(1, std::min<int64_t>(32, (48 * 1024) / row_bytes));
  NCF_CHECK(tile_rows * row_bytes <= 48 * 1024, "csr_row_grams: k = " << k << " is too wide for one row of "
                                                                      << dtype_name(table.dtype())
                                                                      << " in 48 KiB of shared memory");
  NCF_DISPATCH_FLOAT(out.dtype(), "csr_row_grams", [&] {
    csr_row_grams_kernel<<<blocks_for_rows(x.rows), kThreads, static_cast<size_t>(tile_rows * row_bytes),
                           stream>>>(x.offsets.data<int32_t>(), x.indices.data<int32_t>(), x.rows,
                                     table.data<scalar_t>(), k, base.data<scalar_t>(), shift.data<scalar_t>(),
                                     tile_rows, out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("csr_row_grams_kernel");
  });
}

void cuda_diagonal(const Tensor& a, Tensor& out) {
  const cudaStream_t stream = cuda_stream(a.device().index);
  const int64_t n = a.dim(0);
  NCF_DISPATCH_FLOAT(a.dtype(), "diagonal", [&] {
    diagonal_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(a.data<scalar_t>(), n,
                                                                           out.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("diagonal_kernel");
  });
}

void cuda_add_diagonal_(Tensor& a, double value, bool fill) {
  const cudaStream_t stream = cuda_stream(a.device().index);
  const int64_t n = a.dim(0);
  NCF_DISPATCH_FLOAT(a.dtype(), "add_diagonal_", [&] {
    add_diagonal_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, stream>>>(
        a.data<scalar_t>(), n, static_cast<scalar_t>(value), fill);
    NCF_CUDA_LAUNCH_CHECK("add_diagonal_kernel");
  });
}

void cuda_scale_columns_(Tensor& a, const Tensor& factors) {
  const cudaStream_t stream = cuda_stream(a.device().index);
  NCF_DISPATCH_FLOAT(a.dtype(), "scale_columns_", [&] {
    scale_columns_kernel<<<cuda_blocks_for(a.numel(), kThreads), kThreads, 0, stream>>>(
        a.data<scalar_t>(), a.dim(0), a.dim(1), factors.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("scale_columns_kernel");
  });
}

void cuda_cholesky_batched_(Tensor& a) {
  const int64_t batch = a.dim(0), k = a.dim(1);
  const Device device = a.device();
  const cudaStream_t stream = cuda_stream(device.index);
  cusolverDnHandle_t handle = cusolver_handle(device.index);
  // One device pointer per matrix (8 bytes each, held in an i32 tensor of twice the length).
  Tensor pointers = Tensor::empty({batch * 2}, DType::i32, device);
  Tensor info = Tensor::zeros({batch}, DType::i32, device);
  NCF_DISPATCH_FLOAT(a.dtype(), "cholesky_batched_", [&] {
    scalar_t** array = reinterpret_cast<scalar_t**>(pointers.raw_data());
    batch_pointers_kernel<<<cuda_blocks_for(batch, kThreads), kThreads, 0, stream>>>(a.data<scalar_t>(),
                                                                                     batch, k * k, array);
    NCF_CUDA_LAUNCH_CHECK("batch_pointers_kernel");
    NCF_CUSOLVER_CHECK(potrf_batched(handle, static_cast<int>(k), array, static_cast<int>(k),
                                     info.data<int32_t>(), static_cast<int>(batch)));
    launch_zero_strict_upper(a.data<scalar_t>(), batch, k, stream);
  });
  check_factor_info(info, "cholesky_batched_", a, true);
}

void cuda_cholesky_solve_batched_(const Tensor& l, Tensor& b) {
  const int64_t batch = l.dim(0), k = l.dim(1);
  const cudaStream_t stream = cuda_stream(l.device().index);
  const int64_t warps_per_block = kThreads / 32;
  const int64_t blocks = std::min<int64_t>((batch + warps_per_block - 1) / warps_per_block, 132 * 16);
  NCF_DISPATCH_FLOAT(l.dtype(), "cholesky_solve_batched_", [&] {
    cholesky_solve_kernel<<<static_cast<unsigned int>(blocks), kThreads, 0, stream>>>(
        l.data<scalar_t>(), batch, k, b.data<scalar_t>());
    NCF_CUDA_LAUNCH_CHECK("cholesky_solve_kernel");
  });
}

void cuda_cholesky_(Tensor& a) {
  NCF_DISPATCH_FLOAT(a.dtype(), "cholesky_", [&] {
    factor_one<scalar_t>(a, "cholesky_");
    launch_zero_strict_upper(a.data<scalar_t>(), 1, a.dim(0), cuda_stream(a.device().index));
  });
}

void cuda_spd_inverse_(Tensor& a) {
  const Device device = a.device();
  const int n = static_cast<int>(a.dim(0));
  NCF_DISPATCH_FLOAT(a.dtype(), "spd_inverse_", [&] {
    factor_one<scalar_t>(a, "spd_inverse_");
    cusolverDnHandle_t handle = cusolver_handle(device.index);
    int lwork = 0;
    NCF_CUSOLVER_CHECK(potri_buffer_size(handle, n, a.data<scalar_t>(), n, &lwork));
    Tensor work = Tensor::empty({std::max(lwork, 1)}, a.dtype(), device);
    Tensor info = Tensor::zeros({1}, DType::i32, device);
    NCF_CUSOLVER_CHECK(
        potri(handle, n, a.data<scalar_t>(), n, work.data<scalar_t>(), lwork, info.data<int32_t>()));
    check_factor_info(info, "spd_inverse_", a, false);
    launch_mirror(a.data<scalar_t>(), 1, a.dim(0), true, cuda_stream(device.index));
  });
}

}  // namespace ncf::ops
