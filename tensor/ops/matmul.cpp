// Matrix products: out (m, n) = alpha * op(a) @ op(b) + beta * out, f32 or f64.
//   a (m, k), or (k, m) read transposed when trans_a;  b (k, n), or (n, k) read transposed when trans_b.
//
// The CPU path is a small version of the classic "GotoBLAS/BLIS" scheme:
//   - B is copied ("packed") block by block into panels of kNR columns, so that the innermost loop
//     always reads kNR consecutive values, whatever the transposes were;
//   - a micro-kernel keeps a kMR x kNR tile of the output in registers and adds one rank-1 update
//     per step along k: kMR broadcasts of A times one packed row of B. The tile is a fixed-size
//     array, so the compiler turns the two inner loops into a handful of SIMD fused multiply-adds;
//   - blocks of kKC along k and kNC along n keep the packed B in cache while it is reused.
// A is read where it lies (through row/column strides), because each of its values is broadcast,
// and broadcasting from a strided address costs the same as from a contiguous one.
//
// Deterministic: every output element sums its products in increasing k, block after block, and
// threads split the rows only, so the bits do not depend on the thread count.
#include "tensor/ops/matmul.h"
#include "tensor/ops/matmul_cuda.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/cpu_fma.h"

#ifdef NCF_HAS_CUDA
#include "tensor/cuda_context.h"
#endif

namespace ncf::ops {

namespace {

// Register tile: kMR rows x kNR columns. With AVX2 (16 registers of 8 floats / 4 doubles) a 6 x 16
// float tile is 12 accumulator registers + 2 for a row of B + 1 broadcast: it fits exactly.
template <class T>
struct Tile;
template <>
struct Tile<float> {
  static constexpr int kMR = 6, kNR = 16;
};
template <>
struct Tile<double> {
  static constexpr int kMR = 6, kNR = 8;
};

constexpr int64_t kKC = 256;                   // depth of a block: a kKC x kNR panel of B fits in L1
constexpr int64_t kPackedBBytes = 256 * 1024;  // a packed kKC x kNC block of B fits in L2
constexpr int64_t kMC = 96;                    // rows per block when the rows are not split by thread
constexpr int64_t kParallelWork = 200 * 1000;  // multiply-adds from which waking threads pays

// A read-only matrix seen through strides: element (r, c) is data[r * row_stride + c * col_stride].
template <class T>
struct StridedMatrix {
  const T* data;
  int64_t row_stride;
  int64_t col_stride;
  const T& operator()(int64_t r, int64_t c) const { return data[r * row_stride + c * col_stride]; }
};

// Copies the block B[p0 : p0+kc, j0 : j0+nc] into panels of kNR columns: panel q holds
// packed[q][p][0..kNR) = B[p0 + p, j0 + q*kNR + 0..kNR), zero-padded past column nc.
template <class T>
void pack_b(const StridedMatrix<T>& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* packed) {
  constexpr int kNR = Tile<T>::kNR;
  for (int64_t q = 0; q * kNR < nc; ++q) {
    const int64_t cols = std::min<int64_t>(kNR, nc - q * kNR);
    T* panel = packed + q * kc * kNR;
    for (int64_t p = 0; p < kc; ++p) {
      T* dst = panel + p * kNR;
      // Zero a whole row first: a fixed-length loop is two vector stores, while zeroing just
      // the tail (variable length) becomes a memset call, slow for a few bytes at a time.
      for (int j = 0; j < kNR; ++j) dst[j] = T(0);
      for (int64_t j = 0; j < cols; ++j) dst[j] = b(p0 + p, j0 + q * kNR + j);
    }
  }
}

// tile[r][j] = sum over p < kc of a(r, p) * b_panel[p][j], summed in increasing p.
// `a` points at the tile's first element with strides (a_row, a_col); b_panel is packed (kc, kNR).
template <class T>
void micro_kernel(int64_t kc, const T* a, int64_t a_row, int64_t a_col, const T* b_panel,
                  T (&tile)[Tile<T>::kMR][Tile<T>::kNR]) {
  constexpr int kMR = Tile<T>::kMR, kNR = Tile<T>::kNR;
  T acc[kMR][kNR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const T* b_row = b_panel + p * kNR;
    const T* a_col_p = a + p * a_col;
    for (int r = 0; r < kMR; ++r) {
      const T a_value = a_col_p[r * a_row];
      // Vectorise along j explicitly: left alone, GCC may vectorise the fully unrolled tile the
      // wrong way (shuffles across rows) and run 30x slower.
#pragma omp simd
      for (int j = 0; j < kNR; ++j) acc[r][j] = mul_add(a_value, b_row[j], acc[r][j]);
    }
  }
  for (int r = 0; r < kMR; ++r)
    for (int j = 0; j < kNR; ++j) tile[r][j] = acc[r][j];
}

// Buffers reused call after call (one set per thread), so a product in steady state allocates nothing.
template <class T>
std::vector<T>& thread_buffer(int which) {
  thread_local std::vector<T> buffers[2];
  return buffers[which];
}

template <class T>
T* reserve(std::vector<T>& buffer, size_t count) {
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

// Computes rows [i0, i1) of out for the depth block [p0, p0+kc) and columns [j0, j0+nc), given the
// packed block of B. `first_block` is true for p0 == 0: then beta applies, otherwise we accumulate.
template <class T>
void compute_row_block(const StridedMatrix<T>& a, const T* packed_b, int64_t i0, int64_t i1, int64_t p0,
                       int64_t kc, int64_t j0, int64_t nc, T* out, int64_t ldo, T alpha, T beta,
                       bool first_block) {
  constexpr int kMR = Tile<T>::kMR, kNR = Tile<T>::kNR;
  T tile[kMR][kNR];
  T* edge_a = nullptr;  // the last, partial group of rows is copied here, zero-padded to kMR rows
  for (int64_t q = 0; q * kNR < nc; ++q) {
    const int64_t cols = std::min<int64_t>(kNR, nc - q * kNR);
    const T* b_panel = packed_b + q * kc * kNR;
    for (int64_t i = i0; i < i1; i += kMR) {
      const int64_t rows = std::min<int64_t>(kMR, i1 - i);
      if (rows == kMR) {
        micro_kernel(kc, &a(i, p0), a.row_stride, a.col_stride, b_panel, tile);
      } else {
        if (edge_a == nullptr) {
          edge_a = reserve(thread_buffer<T>(1), static_cast<size_t>(kMR * kc));
          for (int64_t p = 0; p < kc; ++p) {
            for (int r = 0; r < kMR; ++r) edge_a[p * kMR + r] = T(0);
            for (int64_t r = 0; r < rows; ++r) edge_a[p * kMR + r] = a(i + r, p0 + p);
          }
        }
        micro_kernel(kc, edge_a, 1, kMR, b_panel, tile);
      }
      // Write the valid part of the tile: out = alpha*tile + beta*out on the first depth block
      // (never reading out when beta == 0: it may hold garbage), out += alpha*tile afterwards.
      for (int r = 0; r < rows; ++r) {
        T* dst = out + (i + r) * ldo + j0 + q * kNR;
        if (!first_block) {
          for (int64_t j = 0; j < cols; ++j) dst[j] += alpha * tile[r][j];
        } else if (beta == T(0)) {
          for (int64_t j = 0; j < cols; ++j) dst[j] = alpha * tile[r][j];
        } else {
          for (int64_t j = 0; j < cols; ++j) dst[j] = alpha * tile[r][j] + beta * dst[j];
        }
      }
    }
  }
}

template <class T>
void cpu_gemm(const StridedMatrix<T>& a, const StridedMatrix<T>& b, int64_t m, int64_t n, int64_t k, T* out,
              T alpha, T beta) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: out = beta * out
    for (int64_t e = 0; e < m * n; ++e) out[e] = beta == T(0) ? T(0) : beta * out[e];
    return;
  }
  constexpr int kMR = Tile<T>::kMR, kNR = Tile<T>::kNR;
  constexpr int64_t kNC =
      std::max<int64_t>(kNR, kPackedBBytes / (kKC * static_cast<int64_t>(sizeof(T))) / kNR * kNR);

  // Rows are split into blocks: one set per thread when the product is worth several threads
  // (as many blocks per thread, a multiple of kMR rows each), else blocks of kMC rows.
  const int threads =
      m * n * k >= kParallelWork ? std::min<int>(::ncf::cpu_threads(), (m + kMR - 1) / kMR) : 1;
  int64_t block_rows = kMC;
  if (threads > 1) {
    const int64_t blocks_per_thread = (m + threads * kMC - 1) / (threads * kMC);
    const int64_t per_block = (m + threads * blocks_per_thread - 1) / (threads * blocks_per_thread);
    block_rows = (per_block + kMR - 1) / kMR * kMR;
  }
  const int64_t row_blocks = (m + block_rows - 1) / block_rows;

  T* packed_b =
      reserve(thread_buffer<T>(0), static_cast<size_t>(kKC * std::min(kNC, (n + kNR - 1) / kNR * kNR)));
  for (int64_t j0 = 0; j0 < n; j0 += kNC) {
    const int64_t nc = std::min(kNC, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKC) {
      const int64_t kc = std::min(kKC, k - p0);
      pack_b(b, p0, kc, j0, nc, packed_b);
      auto run_block = [&](int64_t block) {
        const int64_t i0 = block * block_rows, i1 = std::min(m, i0 + block_rows);
        compute_row_block(a, packed_b, i0, i1, p0, kc, j0, nc, out, n, alpha, beta, p0 == 0);
      };
      if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t block = 0; block < row_blocks; ++block) run_block(block);
      } else {
        for (int64_t block = 0; block < row_blocks; ++block) run_block(block);
      }
    }
  }
}

// Whether the bytes of x and y intersect (both on one device, so their addresses compare).
bool overlaps(const Tensor& x, const Tensor& y) {
  if (x.nbytes() == 0 || y.nbytes() == 0) return false;
  const char* x_begin = static_cast<const char*>(x.raw_data());
  const char* y_begin = static_cast<const char*>(y.raw_data());
  return x_begin < y_begin + y.nbytes() && y_begin < x_begin + x.nbytes();
}

}  // namespace

void gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out, double alpha,
          double beta) {
  NCF_CHECK(a.ndim() == 2 && b.ndim() == 2 && out.ndim() == 2, "gemm: expects 2-D tensors, got a "
                                                                   << a.describe() << ", b " << b.describe()
                                                                   << ", out " << out.describe());
  NCF_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "gemm: dtypes differ, a "
                                                                    << a.describe() << ", b " << b.describe()
                                                                    << ", out " << out.describe());
  check_same_device(a, b, "gemm");
  check_same_device(a, out, "gemm");
  const int64_t m = trans_a ? a.dim(1) : a.dim(0);
  const int64_t k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t k_b = trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = trans_b ? b.dim(0) : b.dim(1);
  NCF_CHECK(k == k_b, "gemm: inner sizes differ, a " << a.shape() << (trans_a ? " transposed" : "")
                                                     << " vs b " << b.shape()
                                                     << (trans_b ? " transposed" : ""));
  NCF_CHECK(out.dim(0) == m && out.dim(1) == n, "gemm: out has shape " << out.shape() << ", expected (" << m
                                                                       << ", " << n << ") for a " << a.shape()
                                                                       << " and b " << b.shape());
  // Writing out while still reading a or b would give wrong results on either device.
  NCF_CHECK(!overlaps(out, a) && !overlaps(out, b), "gemm: out " << out.describe()
                                                                 << " shares memory with an input, a "
                                                                 << a.describe() << ", b " << b.describe());
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_gemm(a, trans_a, b, trans_b, out, alpha, beta));
  NCF_DISPATCH_FLOAT(a.dtype(), "gemm", [&] {
    // op(a)(i, p) and op(b)(p, j) as strided views of the row-major storage.
    const StridedMatrix<scalar_t> a_view{a.data<scalar_t>(), trans_a ? 1 : k, trans_a ? m : 1};
    const StridedMatrix<scalar_t> b_view{b.data<scalar_t>(), trans_b ? 1 : n, trans_b ? k : 1};
    cpu_gemm(a_view, b_view, m, n, k, out.data<scalar_t>(), static_cast<scalar_t>(alpha),
             static_cast<scalar_t>(beta));
  });
}

void gemm_reference(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out, double alpha,
                    double beta) {
  NCF_CHECK(a.device().is_cpu() && b.device().is_cpu() && out.device().is_cpu(),
            "gemm_reference: runs on the CPU, got a " << a.describe() << ", b " << b.describe() << ", out "
                                                      << out.describe());
  const int64_t m = trans_a ? a.dim(1) : a.dim(0), k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t n = trans_b ? b.dim(0) : b.dim(1);
  NCF_CHECK((trans_b ? b.dim(1) : b.dim(0)) == k && out.ndim() == 2 && out.dim(0) == m && out.dim(1) == n,
            "gemm_reference: a " << a.shape() << (trans_a ? " transposed" : "") << ", b " << b.shape()
                                 << (trans_b ? " transposed" : "") << " and out " << out.shape()
                                 << " do not fit");
  NCF_DISPATCH_FLOAT(a.dtype(), "gemm_reference", [&] {
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const double x = trans_a ? pa[p * m + i] : pa[i * k + p];  // op(a)[i][p]
          const double y = trans_b ? pb[j * k + p] : pb[p * n + j];  // op(b)[p][j]
          sum += x * y;
        }
        const double previous = beta == 0.0 ? 0.0 : beta * static_cast<double>(po[i * n + j]);
        po[i * n + j] = static_cast<scalar_t>(alpha * sum + previous);
      }
  });
}

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  NCF_CHECK(a.ndim() == 2 && b.ndim() == 2,
            "matmul: expects 2-D tensors, got a " << a.describe() << " and b " << b.describe());
  Tensor out =
      Tensor::empty({trans_a ? a.dim(1) : a.dim(0), trans_b ? b.dim(0) : b.dim(1)}, a.dtype(), a.device());
  gemm(a, trans_a, b, trans_b, out, 1.0, 0.0);
  return out;
}

void set_matmul_tf32(bool allow) {
#ifdef NCF_HAS_CUDA
  set_allow_tf32(allow);
#else
  (void)allow;
#endif
}

}  // namespace ncf::ops
