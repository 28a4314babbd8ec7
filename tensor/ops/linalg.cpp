// Linear algebra, CPU side and dispatch (shapes in linalg.h). Matrices are row-major; L is lower.
//
// Small kernels (one matrix, leading dimension `ld`), the building blocks of everything below:
//   factor_lower       Cholesky, right-looking on U = L^T in a row-major scratch, so that each
//                      update is a contiguous row operation: for each j,
//                        U[j][j] = sqrt(U[j][j]), U[j][j+1:] /= U[j][j], U[i][i:] -= U[j][i] U[j][i:]
//   syrk_lower_add     A += Y^T Y (lower triangle) for a block of rows Y, with a register tile of
//                      6 rows x 2 vectors of columns (the Gram matrices of csr_row_grams and iALS).
//   solve_factored     L L^T x = b: forward substitution y_j = (b_j - L[j][0:j] . y[0:j]) / L[j][j],
//                      then backward in "axpy" form, x_p = y_p / L[p][p] and y[0:p] -= x_p L[p][0:p],
//                      so that both passes read rows of L, never columns.
//   solve_rows_lt      X L^T = R for a block of rows (the panel step of the blocked Cholesky): each
//                      row is a forward substitution with L.
//   invert_lower       X = L^-1, row by row: X[i] = (e_i - sum_{p<i} L[i][p] X[p]) / L[i][i].
//
// Batched ops run one matrix per OpenMP work item (matrices are independent). The large ops are
// blocked by kLinalgBlock = nb, with every O(n^3) part done by gemm (matmul.h) on contiguous copies
// of the blocks involved (copying costs O(n^3 / nb), about 1% of the arithmetic):
//   cholesky_ (left-looking): for each block column J: A[J:, J] -= L[J:, 0:J] L[J, 0:J]^T (gemm),
//       factor the diagonal block (factor_lower), then L[J+1:, J] = A[J+1:, J] L[J][J]^-T
//       (solve_rows_lt). n^3 / 6 multiply-adds.
//   spd_inverse_: A = L L^T (above); X = L^-1 by block rows, in place:
//       X[I][I] = L[I][I]^-1,  X[I][J] = -X[I][I] sum_{J<=K<I} L[I][K] X[K][J]   (n^3 / 6);
//       then A^-1 = L^-T L^-1 = X^T X, lower part by block rows, in place (row block I of X is last
//       read by row block I of the product, so it can be overwritten right after):
//       P[I][0:I+1] = sum_{K>=I} X[K][I]^T X[K][0:I+1]   (n^3 / 6), and the upper part mirrored.
//
// The blocked steps run as independent tasks, one output block each, handed out dynamically
// (parallel_tasks), so a core slowed by another process does not hold the other one back.
//
// Determinism: every dot product adds into a fixed number of lanes (dot_fixed) and folds them in a
// fixed order; gemm is deterministic; each output element is written by one thread. So the bits
// depend on the shapes only, not on the thread count.
#include "tensor/ops/linalg.h"
#include "tensor/ops/linalg_cuda.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/cpu_fma.h"
#include "tensor/ops/matmul.h"

namespace ncf::ops {

namespace {

constexpr int64_t kParallelCopy = 1 << 16;  // elements from which a block copy uses the threads

// x[0:n) . y[0:n) with kLanes partial sums (two AVX2 registers' worth) folded in order 0, 1, ...:
// the order depends on n only (not on alignment, unlike a compiler's own vectorised reduction).
template <class T>
inline T dot_fixed(const T* x, const T* y, int64_t n) {
  constexpr int kLanes = static_cast<int>(64 / sizeof(T));
  T lanes[kLanes] = {};
  int64_t p = 0;
  for (; p + kLanes <= n; p += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) lanes[l] = mul_add(x[p + l], y[p + l], lanes[l]);
  }
  for (int l = 0; p + l < n; ++l) lanes[l] = mul_add(x[p + l], y[p + l], lanes[l]);
  T sum = T(0);
  for (int l = 0; l < kLanes; ++l) sum += lanes[l];
  return sum;
}

// Per-thread scratch buffers (one per slot), reused call after call: steady state allocates nothing.
enum ScratchSlot { kFactorSlot, kGatherSlot, kSystemSlot };
template <class T, int kSlot>
T* thread_scratch(size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

// In-place Cholesky of the n x n row-major matrix u whose upper triangle holds A's: on return the
// upper triangle holds U with A = U^T U (the strict lower triangle is not touched). Returns -1 on
// success, else the row whose pivot was not positive (its value in *bad_pivot).
//
// Right-looking, so that every update is a contiguous row operation: for each j,
//   U[j][j] = sqrt(U[j][j]),  U[j][j+1:] *= 1 / U[j][j],  U[i][i:] -= U[j][i] U[j][i:] for i > j.
// Rows j0..j0+3 are factorised first (a panel of 4), then each trailing row takes their 4 updates in
// one pass, fma after fma in increasing j: the same operations in the same order as one j at a time
// (so the same bits), with a quarter of the loads and stores of the trailing rows.
template <class T>
int64_t factor_upper(T* u, int64_t n, T* bad_pivot) {
  constexpr int64_t kPanel = 4;
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    const int64_t j1 = std::min(n, j0 + kPanel);
    for (int64_t j = j0; j < j1; ++j) {
      T* u_j = u + j * n;
      const T pivot = u_j[j];
      if (!(pivot > T(0))) {  // also catches NaN
        *bad_pivot = pivot;
        return j;
      }
      const T diagonal = std::sqrt(pivot);
      const T inverse = T(1) / diagonal;
      u_j[j] = diagonal;
#pragma omp simd
      for (int64_t c = j + 1; c < n; ++c) u_j[c] *= inverse;
      for (int64_t i = j + 1; i < j1; ++i) {  // the rest of the panel
        const T factor = u_j[i];
        T* u_i = u + i * n;
#pragma omp simd
        for (int64_t c = i; c < n; ++c) u_i[c] = mul_add(-factor, u_j[c], u_i[c]);
      }
    }
    if (j1 - j0 == kPanel) {
      const T *u0 = u + j0 * n, *u1 = u0 + n, *u2 = u1 + n, *u3 = u2 + n;
      for (int64_t i = j1; i < n; ++i) {
        const T f0 = -u0[i], f1 = -u1[i], f2 = -u2[i], f3 = -u3[i];
        T* u_i = u + i * n;
#pragma omp simd
        for (int64_t c = i; c < n; ++c)
          u_i[c] = mul_add(f3, u3[c], mul_add(f2, u2[c], mul_add(f1, u1[c], mul_add(f0, u0[c], u_i[c]))));
      }
    }  // a partial panel is the last one (j1 == n): no row trails it
  }
  return -1;
}

// In-place Cholesky of the n x n matrix at a (leading dimension ld): reads the lower triangle,
// writes L there and zeroes the strict upper triangle. Returns -1 or the failing row, as above.
// The work is done by factor_upper on U = L^T in a scratch; copying A's lower triangle in and L
// back costs two passes over n^2 / 2 values, small next to the n^3 / 6 multiply-adds.
template <class T>
int64_t factor_lower(T* a, int64_t n, int64_t ld, T* bad_pivot) {
  T* u = thread_scratch<T, kFactorSlot>(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) u[j * n + i] = a[i * ld + j];
  const int64_t bad = factor_upper(u, n, bad_pivot);
  if (bad >= 0) return bad;
  for (int64_t i = 0; i < n; ++i) {
    T* row = a + i * ld;
    for (int64_t j = 0; j <= i; ++j) row[j] = u[j * n + i];
    for (int64_t j = i + 1; j < n; ++j) row[j] = T(0);
  }
  return -1;
}

// x <- (U^T U)^-1 x for the k x k upper factor u of factor_upper: forward U^T y = x in axpy form
// (y_p = x_p / U[p][p], x[p+1:] -= y_p U[p][p+1:]), backward U x = y as dot products of row suffixes.
template <class T>
void solve_upper_factored(const T* u, int64_t k, T* x) {
  for (int64_t p = 0; p < k; ++p) {
    const T* u_p = u + p * k;
    const T yp = x[p] / u_p[p];
    x[p] = yp;
#pragma omp simd
    for (int64_t q = p + 1; q < k; ++q) x[q] = mul_add(-yp, u_p[q], x[q]);
  }
  for (int64_t j = k - 1; j >= 0; --j) {
    const T* u_j = u + j * k;
    x[j] = (x[j] - dot_fixed(u_j + j + 1, x + j + 1, k - j - 1)) / u_j[j];
  }
}

template <class T>
void zero_strict_upper(T* a, int64_t n, int64_t ld) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[i * ld + j] = T(0);
}

// x <- (L L^T)^-1 x for the k x k lower factor l (leading dimension k).
template <class T>
void solve_factored(const T* l, int64_t k, T* x) {
  for (int64_t j = 0; j < k; ++j) x[j] = (x[j] - dot_fixed(l + j * k, x, j)) / l[j * k + j];
  for (int64_t p = k - 1; p >= 0; --p) {
    const T* row_p = l + p * k;
    const T xp = x[p] / row_p[p];
    x[p] = xp;
#pragma omp simd
    for (int64_t q = 0; q < p; ++q) x[q] = mul_add(-xp, row_p[q], x[q]);
  }
}

// Row r of `rows` (count x n, leading dimension ld_rows) <- row r L^-T, i.e. the x with L x = r^T.
template <class T>
void solve_rows_lt(const T* l, int64_t n, int64_t ld, T* rows, int64_t count, int64_t ld_rows) {
  auto solve_row = [&](int64_t r) {
    T* x = rows + r * ld_rows;
    for (int64_t j = 0; j < n; ++j) x[j] = (x[j] - dot_fixed(l + j * ld, x, j)) / l[j * ld + j];
  };
  if (count * n * n >= 2 * kParallelCopy) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
    for (int64_t r = 0; r < count; ++r) solve_row(r);
  } else {
    for (int64_t r = 0; r < count; ++r) solve_row(r);
  }
}

// x (n x n, leading dimension ldx) <- L^-1, lower triangular with a zero strict upper triangle.
template <class T>
void invert_lower(const T* l, int64_t n, int64_t ld, T* x, int64_t ldx) {
  for (int64_t i = 0; i < n; ++i) {
    T* x_i = x + i * ldx;
    for (int64_t q = 0; q < n; ++q) x_i[q] = T(0);
    for (int64_t p = 0; p < i; ++p) {
      const T c = l[i * ld + p];
      const T* x_p = x + p * ldx;  // nonzero on [0, p]
#pragma omp simd
      for (int64_t q = 0; q <= p; ++q) x_i[q] = mul_add(-c, x_p[q], x_i[q]);
    }
    const T inverse_pivot = T(1) / l[i * ld + i];
    for (int64_t q = 0; q < i; ++q) x_i[q] *= inverse_pivot;
    x_i[i] = inverse_pivot;
  }
}

// The register tile of syrk_add: kRows rows x kCols columns of the output, kCols being two AVX2
// vectors (f32: 6 x 16, f64: 6 x 8), so the 12 accumulator registers, the 2 loads of a row of Y and
// a broadcast fit in the 16 registers (the shape of gemm's micro-kernel, matmul.cpp; 4 rows ran
// at 60% of this speed).
template <class T>
struct SyrkTile {
  static constexpr int kRows = 6;
  static constexpr int kCols = static_cast<int>(64 / sizeof(T));
};
constexpr int64_t kSyrkDepth = 128;  // rows of Y gathered at a time: 32 KiB for k = 64 in f32

// The gathering buffer of this thread: kSyrkDepth rows of kp values, plus kRows values at the end,
// zeroed: the last tile of rows reads up to kRows - 1 values past column k (they feed only rows
// that are never stored, but must be readable).
template <class T>
T* gather_scratch(int64_t kp) {
  const size_t size = static_cast<size_t>(kSyrkDepth * kp + SyrkTile<T>::kRows);
  T* buffer = thread_scratch<T, kGatherSlot>(size);
  for (size_t e = size - SyrkTile<T>::kRows; e < size; ++e) buffer[e] = T(0);
  return buffer;
}

// a (k x k, leading dimension k) += Y^T Y for the m rows of y (m x kp, kp >= k a multiple of kCols,
// zero-padded past column k), on its lower triangle (kUpper false) or its upper one (kUpper true).
// Tiles holding no entry of that triangle are skipped; each entry's sum runs over t = 0..m-1 in one
// accumulator and is then added to a. The two triangles get the same sums (the products commute).
template <bool kUpper, class T>
void syrk_add(const T* y, int64_t m, int64_t kp, int64_t k, T* a) {
  constexpr int kR = SyrkTile<T>::kRows, kC = SyrkTile<T>::kCols;
  for (int64_t c0 = 0; c0 < k; c0 += kC) {
    // Lower: rows r0 >= c0 (above that every entry has c > r). Upper: rows r0 < c0 + kC.
    const int64_t r_begin = kUpper ? 0 : c0, r_end = kUpper ? std::min(k, c0 + kC) : k;
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kR) {
      T acc[kR][kC] = {};
      for (int64_t t = 0; t < m; ++t) {
        const T* row = y + t * kp;
        for (int r = 0; r < kR; ++r) {
          const T value = row[r0 + r];
#pragma omp simd
          for (int j = 0; j < kC; ++j) acc[r][j] = mul_add(value, row[c0 + j], acc[r][j]);
        }
      }
      for (int r = 0; r < kR && r0 + r < k; ++r) {
        T* out = a + (r0 + r) * k;
        const int64_t first = kUpper ? std::max(c0, r0 + r) : c0;
        const int64_t last = kUpper ? std::min(k, c0 + kC) : std::min(std::min(k, c0 + kC), r0 + r + 1);
        for (int64_t c = first; c < last; ++c) out[c] += acc[r][c - c0];
      }
    }
  }
}

// Copies the rows indices[0..m) of `table` (k wide) into `gathered` (m x kp, zero-padded), and adds
// them to `row_sum` (k) when it is not null, in order. The rows are scattered over the table (for
// the items' half of iALS, over 35 MB of user factors), so the next ones are prefetched.
template <class T>
void gather_rows(const T* table, int64_t k, int64_t kp, const int32_t* indices, int64_t m, T* gathered,
                 T* row_sum) {
  constexpr int64_t kAhead = 8;  // rows prefetched ahead
  constexpr int64_t kLine = 64 / static_cast<int64_t>(sizeof(T));
  for (int64_t t = 0; t < m; ++t) {
    if (t + kAhead < m) {
      const T* ahead = table + static_cast<int64_t>(indices[t + kAhead]) * k;
      for (int64_t c = 0; c < k; c += kLine) __builtin_prefetch(ahead + c);
    }
    const T* src = table + static_cast<int64_t>(indices[t]) * k;
    T* dst = gathered + t * kp;
    for (int64_t c = 0; c < k; ++c) dst[c] = src[c];
    for (int64_t c = k; c < kp; ++c) dst[c] = T(0);
    if (row_sum != nullptr) {
#pragma omp simd
      for (int64_t c = 0; c < k; ++c) row_sum[c] += src[c];
    }
  }
}

// A (rows, cols) tensor holding the block of `src` (leading dimension ld) that starts at src.
template <class T>
Tensor copy_block(const T* src, int64_t ld, int64_t rows, int64_t cols) {
  Tensor block = Tensor::empty({rows, cols}, dtype_of<T>);
  T* dst = block.data<T>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (rows * cols >= kParallelCopy)
  for (int64_t r = 0; r < rows; ++r) std::copy(src + r * ld, src + r * ld + cols, dst + r * cols);
  return block;
}

template <class T>
void store_block(const Tensor& block, T* dst, int64_t ld) {
  const int64_t rows = block.dim(0), cols = block.dim(1);
  const T* src = block.data<T>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (rows * cols >= kParallelCopy)
  for (int64_t r = 0; r < rows; ++r) std::copy(src + r * cols, src + (r + 1) * cols, dst + r * ld);
}

// Runs task(t) for t in [0, count) on the OpenMP threads, handed out one at a time: the blocked
// ops below cut their O(n^3) work into independent output blocks, each computed by its own thread
// (its gemm then runs on that thread alone). A dynamic schedule keeps both cores busy even when the
// tasks differ in size or another process slows one core down; which thread runs a task does not
// change its bits.
template <class Task>
void parallel_tasks(int64_t count, Task&& task) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 1) if (count > 1)
  for (int64_t t = 0; t < count; ++t) task(t);
}

// The blocked left-looking Cholesky of the n x n row-major matrix a (see the top comment): for each
// block column J, every row block R >= J is one task, A[R, J] -= L[R, 0:J0] L[J, 0:J0]^T (one gemm
// over the whole depth; its kKC-deep blocks accumulate in order, as one call per block would).
template <class T>
void blocked_cholesky(T* a, int64_t n, const char* op) {
  const int64_t nb = kLinalgBlock;
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    const int64_t j1 = std::min(n, j0 + nb), jb = j1 - j0;
    if (j0 > 0) {
      const Tensor top = copy_block(a + j0 * n, n, jb, j0);  // L[J, 0:J0]
      parallel_tasks((n - j0 + nb - 1) / nb, [&](int64_t t) {
        const int64_t r0 = j0 + t * nb, rb = std::min(n, r0 + nb) - r0;
        Tensor column = copy_block(a + r0 * n + j0, n, rb, jb);
        const Tensor rows = copy_block(a + r0 * n, n, rb, j0);
        gemm(rows, false, top, true, column, -1.0, 1.0);
        store_block(column, a + r0 * n + j0, n);
      });
    }
    T bad_pivot = 0;
    const int64_t bad_row = factor_lower(a + j0 * n + j0, jb, n, &bad_pivot);
    NCF_CHECK(bad_row < 0, op << ": the (" << n << ", " << n << ") matrix is not positive definite: pivot "
                              << j0 + bad_row << " is " << bad_pivot << " after elimination");
    constexpr int64_t kRowsPerTask = 32;
    parallel_tasks((n - j1 + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t t) {
      const int64_t r0 = j1 + t * kRowsPerTask, count = std::min(n, r0 + kRowsPerTask) - r0;
      solve_rows_lt(a + j0 * n + j0, jb, n, a + r0 * n + j0, count, n);
    });
  }
  zero_strict_upper(a, n, n);
}

// In place: the lower factor L of a becomes X = L^-1 (see the top comment), block row by block row.
// Within block row I each block column J < I is one task: X[I][J] = -X[I][I] (L[I, J0:I0] X[J0:I0, J]).
// The results wait in a buffer until every task has read the L[I, :] they overwrite.
template <class T>
void blocked_invert_lower(T* a, int64_t n) {
  const int64_t nb = kLinalgBlock;
  for (int64_t i0 = 0; i0 < n; i0 += nb) {
    const int64_t i1 = std::min(n, i0 + nb), h = i1 - i0;
    Tensor diagonal_inverse = Tensor::empty({h, h}, dtype_of<T>);
    invert_lower(a + i0 * n + i0, h, n, diagonal_inverse.data<T>(), h);
    if (i0 > 0) {
      Tensor x_row = Tensor::empty({h, i0}, dtype_of<T>);
      T* x_row_data = x_row.data<T>();
      parallel_tasks((i0 + nb - 1) / nb, [&](int64_t t) {
        const int64_t j0 = t * nb, jb = std::min(i0, j0 + nb) - j0;
        const Tensor l_part = copy_block(a + i0 * n + j0, n, h, i0 - j0);  // X is zero above J's rows
        const Tensor x_part = copy_block(a + j0 * n + j0, n, i0 - j0, jb);
        Tensor r = Tensor::empty({h, jb}, dtype_of<T>);
        gemm(l_part, false, x_part, false, r, 1.0, 0.0);
        Tensor x_ij = Tensor::empty({h, jb}, dtype_of<T>);
        gemm(diagonal_inverse, false, r, false, x_ij, -1.0, 0.0);
        store_block(x_ij, x_row_data + j0, i0);
      });
      store_block(x_row, a + i0 * n, n);
    }
    store_block(diagonal_inverse, a + i0 * n + i0, n);
  }
}

// In place: X = L^-1 (lower) becomes X^T X = A^-1 in both triangles. Block row I of the lower part:
// each block column J <= I is one task, P[I][J] = X[I0:n, I]^T X[I0:n, J]; the row is stored once all
// its tasks are done (they read X's rows I0.. including the ones it overwrites).
template <class T>
void blocked_lower_gram(T* a, int64_t n) {
  const int64_t nb = kLinalgBlock;
  for (int64_t i0 = 0; i0 < n; i0 += nb) {
    const int64_t i1 = std::min(n, i0 + nb), h = i1 - i0, depth = n - i0;
    const Tensor x_i = copy_block(a + i0 * n + i0, n, depth, h);  // X[I0:n, I]
    Tensor p_row = Tensor::empty({h, i1}, dtype_of<T>);
    T* p_row_data = p_row.data<T>();
    parallel_tasks((i1 + nb - 1) / nb, [&](int64_t t) {
      const int64_t j0 = t * nb, jb = std::min(i1, j0 + nb) - j0;
      const Tensor x_j = copy_block(a + i0 * n + j0, n, depth, jb);  // X[I0:n, J]
      Tensor p_ij = Tensor::empty({h, jb}, dtype_of<T>);
      gemm(x_i, true, x_j, false, p_ij, 1.0, 0.0);
      store_block(p_ij, p_row_data + j0, i1);
    });
    store_block(p_row, a + i0 * n, n);
  }
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (n * n >= kParallelCopy)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[i * n + j] = a[j * n + i];
}

// ---- validation ---------------------------------------------------------------------------------

void check_float(const Tensor& t, const char* op, const char* argument) {
  NCF_CHECK(t.defined(), op << ": " << argument << " is undefined");
  NCF_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64,
            op << ": " << argument << " must be f32 or f64, got " << t.describe());
}

void check_square(const Tensor& a, const char* op) {
  check_float(a, op, "a");
  NCF_CHECK(a.ndim() == 2 && a.dim(0) == a.dim(1),
            op << ": expects a square (n, n) matrix, got " << a.describe());
  NCF_CHECK(a.dim(0) <= INT_MAX, op << ": n = " << a.dim(0) << " is beyond the 32-bit sizes of cuSOLVER");
}

void check_batch(const Tensor& a, const char* op) {
  check_float(a, op, "a");
  NCF_CHECK(a.ndim() == 3 && a.dim(1) == a.dim(2),
            op << ": expects a (batch, k, k) stack of square matrices, got " << a.describe());
  NCF_CHECK(a.dim(0) <= INT_MAX && a.dim(1) <= INT_MAX,
            op << ": batch " << a.dim(0) << " or k " << a.dim(1) << " is beyond 32-bit sizes");
}

void check_csr(const BinaryCsr& x, const char* op) {
  NCF_CHECK(x.offsets.defined() && x.indices.defined(), op << ": the CSR matrix is undefined");
  check_dtype(x.offsets, DType::i32, op, "offsets");
  check_dtype(x.indices, DType::i32, op, "indices");
  NCF_CHECK(x.offsets.ndim() == 1 && x.offsets.dim(0) == x.rows + 1 && x.indices.ndim() == 1,
            op << ": a CSR of " << x.rows << " rows needs offsets (" << x.rows + 1
               << ",) and 1-D indices, got " << x.offsets.describe() << " and " << x.indices.describe());
  check_same_device(x.offsets, x.indices, op);
}

bool overlaps(const Tensor& x, const Tensor& y) {
  if (x.nbytes() == 0 || y.nbytes() == 0) return false;
  const char* x_begin = static_cast<const char*>(x.raw_data());
  const char* y_begin = static_cast<const char*>(y.raw_data());
  return x_begin < y_begin + y.nbytes() && y_begin < x_begin + x.nbytes();
}

// The CSR's offsets and indices on the host (a copy when on the GPU).
struct HostCsr {
  std::vector<int32_t> offsets, indices;
};
HostCsr host_csr(const BinaryCsr& x) {
  return {x.offsets.to_vector<int32_t>(), x.indices.to_vector<int32_t>()};
}

}  // namespace

// ---- sparse -------------------------------------------------------------------------------------

BinaryCsr BinaryCsr::row_range(int64_t begin, int64_t end) const {
  NCF_CHECK(0 <= begin && begin <= end && end <= rows, "BinaryCsr::row_range: rows [" << begin << ", " << end
                                                                                      << ") out of range for "
                                                                                      << rows << " rows");
  return BinaryCsr{offsets.rows(begin, end + 1), indices, end - begin, cols};
}

BinaryCsr make_binary_csr(const std::vector<int64_t>& offsets, const std::vector<int32_t>& indices,
                          int64_t cols, Device device) {
  NCF_CHECK(
      !offsets.empty() && offsets.front() == 0 && offsets.back() == static_cast<int64_t>(indices.size()),
      "make_binary_csr: offsets must run from 0 to the number of indices ("
          << indices.size() << "), got " << offsets.size() << " offsets from "
          << (offsets.empty() ? -1 : offsets.front()) << " to " << (offsets.empty() ? -1 : offsets.back()));
  NCF_CHECK(
      static_cast<int64_t>(indices.size()) <= INT_MAX && cols >= 0 && cols <= INT_MAX,
      "make_binary_csr: " << indices.size() << " entries or " << cols << " columns exceed 32-bit indices");
  const int64_t rows = static_cast<int64_t>(offsets.size()) - 1;
  for (int64_t r = 0; r < rows; ++r) {
    NCF_CHECK(offsets[r] <= offsets[r + 1], "make_binary_csr: offsets decrease at row "
                                                << r << " (" << offsets[r] << " > " << offsets[r + 1] << ")");
    for (int64_t e = offsets[r]; e < offsets[r + 1]; ++e) {
      NCF_CHECK(indices[e] >= 0 && indices[e] < cols, "make_binary_csr: column " << indices[e] << " of row "
                                                                                 << r << " is outside [0, "
                                                                                 << cols << ")");
      NCF_CHECK(e == offsets[r] || indices[e - 1] < indices[e],
                "make_binary_csr: row " << r << " has columns out of order or repeated (" << indices[e - 1]
                                        << " then " << indices[e] << ")");
    }
  }
  const std::vector<int32_t> offsets32(offsets.begin(), offsets.end());
  BinaryCsr x;
  x.offsets = Tensor::from_vector(offsets32, {rows + 1}, device);
  x.indices = Tensor::from_vector(indices, {static_cast<int64_t>(indices.size())}, device);
  x.rows = rows;
  x.cols = cols;
  return x;
}

BinaryCsr transpose(const BinaryCsr& x) {
  check_csr(x, "transpose");
  const HostCsr h = host_csr(x);
  std::vector<int64_t> offsets(static_cast<size_t>(x.cols) + 1, 0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int32_t e = h.offsets[r]; e < h.offsets[r + 1]; ++e) ++offsets[h.indices[e] + 1];
  for (int64_t c = 0; c < x.cols; ++c) offsets[c + 1] += offsets[c];
  std::vector<int32_t> indices(static_cast<size_t>(offsets.back()));
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
  for (int64_t r = 0; r < x.rows; ++r)  // rows in increasing order: each column's list is sorted
    for (int32_t e = h.offsets[r]; e < h.offsets[r + 1]; ++e)
      indices[next[h.indices[e]]++] = static_cast<int32_t>(r);
  return make_binary_csr(offsets, indices, x.rows, x.device());
}

Tensor gram(const Tensor& a) {
  check_float(a, "gram", "a");
  NCF_CHECK(a.ndim() == 2, "gram: expects a 2-D matrix, got " << a.describe());
  Tensor out = Tensor::empty({a.dim(1), a.dim(1)}, a.dtype(), a.device());
  if (a.is_cuda()) {
    NCF_ON_CUDA(cuda_gram(a, out));
    return out;
  }
  // out(i, j) and out(j, i) add the same products (fma is symmetric in its factors) in the same
  // order of p, so gemm's result is exactly symmetric.
  gemm(a, true, a, false, out, 1.0, 0.0);
  return out;
}

namespace {
template <class T>
void cpu_csr_gram(const BinaryCsr& x, Tensor& out) {
  const HostCsr h = host_csr(x);
  const BinaryCsr xt = transpose(x);
  const HostCsr ht = host_csr(xt);
  const int64_t c = x.cols;
  T* o = out.data<T>();
  // Row i of out (its lower part j <= i) is written by one thread only: for each row r of X that
  // holds column i, add 1 at every column j <= i of row r. Counts are integers: any order is exact.
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 16)
  for (int64_t i = 0; i < c; ++i) {
    T* row = o + i * c;
    for (int32_t t = ht.offsets[i]; t < ht.offsets[i + 1]; ++t) {
      const int32_t r = ht.indices[t];
      for (int32_t e = h.offsets[r]; e < h.offsets[r + 1] && h.indices[e] <= i; ++e)
        row[h.indices[e]] += T(1);
    }
  }
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (c * c >= kParallelCopy)
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = i + 1; j < c; ++j) o[i * c + j] = o[j * c + i];
}

template <class T>
void cpu_csr_gemm(const BinaryCsr& x, const Tensor& dense, Tensor& out) {
  const int32_t* offsets = x.offsets.data<int32_t>();
  const int32_t* indices = x.indices.data<int32_t>();
  const int64_t d = dense.dim(1);
  const T* src = dense.data<T>();
  T* o = out.data<T>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(dynamic, 16) if (x.rows * d >= kParallelCopy)
  for (int64_t r = 0; r < x.rows; ++r) {
    T* row = o + r * d;
    for (int64_t c = 0; c < d; ++c) row[c] = T(0);
    for (int32_t e = offsets[r]; e < offsets[r + 1]; ++e) {
      const T* add = src + static_cast<int64_t>(indices[e]) * d;
#pragma omp simd
      for (int64_t c = 0; c < d; ++c) row[c] += add[c];
    }
  }
}

template <class T>
void cpu_csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols, Tensor& out) {
  const int32_t* offsets = x.offsets.data<int32_t>();
  const int32_t* indices = x.indices.data<int32_t>();
  const int32_t* r = rows.data<int32_t>();
  const int32_t* c = cols.data<int32_t>();
  const T* weights = w.data<T>();
  T* o = out.data<T>();
  const int64_t n = w.dim(1), m = rows.numel();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(dynamic, 256) if (m >= 4096)
  for (int64_t k = 0; k < m; ++k) {
    T sum = T(0);
    for (int32_t e = offsets[r[k]]; e < offsets[r[k] + 1]; ++e) sum += weights[indices[e] * n + c[k]];
    o[k] = sum;
  }
}

// out[s] = base + shift[s] I + sum over the columns c of row s of table[c]^T table[c]: the lower
// triangle first (base's lower triangle, the shift, then syrk_lower_add over blocks of kSyrkDepth
// gathered rows, in order), then mirrored. One matrix per work item; rows vary in length, hence
// the dynamic schedule (which thread runs a matrix does not change its bits).
template <class T>
void cpu_csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                       Tensor& out) {
  constexpr int kC = SyrkTile<T>::kCols;
  const int32_t* offsets = x.offsets.data<int32_t>();
  const int32_t* indices = x.indices.data<int32_t>();
  const int64_t k = table.dim(1), kp = (k + kC - 1) / kC * kC;
  const T* rows_of = table.data<T>();
  const T* base_data = base.data<T>();
  const T* shift_data = shift.data<T>();
  T* o = out.data<T>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(dynamic, 4) if (x.rows * k * k >= kParallelCopy)
  for (int64_t s = 0; s < x.rows; ++s) {
    T* a = o + s * k * k;
    for (int64_t r = 0; r < k; ++r) {
      for (int64_t c = 0; c <= r; ++c) a[r * k + c] = base_data[r * k + c];
      a[r * k + r] += shift_data[s];
    }
    T* gathered = gather_scratch<T>(kp);
    for (int32_t e0 = offsets[s]; e0 < offsets[s + 1]; e0 += static_cast<int32_t>(kSyrkDepth)) {
      const int64_t m = std::min<int64_t>(kSyrkDepth, offsets[s + 1] - e0);
      gather_rows(rows_of, k, kp, indices + e0, m, gathered, static_cast<T*>(nullptr));
      syrk_add<false>(gathered, m, kp, k, a);
    }
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = r + 1; c < k; ++c) a[r * k + c] = a[c * k + r];
  }
}
}  // namespace

Tensor csr_gram(const BinaryCsr& x, DType dtype) {
  check_csr(x, "csr_gram");
  NCF_CHECK(dtype == DType::f32 || dtype == DType::f64,
            "csr_gram: dtype must be f32 or f64, got " << dtype_name(dtype));
  Tensor out = Tensor::zeros({x.cols, x.cols}, dtype, x.device());
  if (x.rows == 0 || x.cols == 0) return out;
  if (x.device().is_cuda()) {
    NCF_ON_CUDA(cuda_csr_gram(x, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(dtype, "csr_gram", [&] { cpu_csr_gram<scalar_t>(x, out); });
  return out;
}

void csr_gemm(const BinaryCsr& x, const Tensor& dense, Tensor& out) {
  check_csr(x, "csr_gemm");
  check_float(dense, "csr_gemm", "dense");
  NCF_CHECK(dense.ndim() == 2 && dense.dim(0) == x.cols, "csr_gemm: dense must be ("
                                                             << x.cols << ", d) for a CSR of " << x.cols
                                                             << " columns, got " << dense.describe());
  NCF_CHECK(out.defined() && out.ndim() == 2 && out.dim(0) == x.rows && out.dim(1) == dense.dim(1) &&
                out.dtype() == dense.dtype(),
            "csr_gemm: out must be (" << x.rows << ", " << dense.dim(1) << ") " << dtype_name(dense.dtype())
                                      << ", got " << out.describe());
  check_same_device(x.offsets, dense, "csr_gemm");
  check_same_device(dense, out, "csr_gemm");
  NCF_CHECK(!overlaps(out, dense), "csr_gemm: out " << out.describe() << " shares memory with dense");
  if (out.numel() == 0) return;
  if (dense.is_cuda()) return NCF_ON_CUDA(cuda_csr_gemm(x, dense, out));
  NCF_DISPATCH_FLOAT(dense.dtype(), "csr_gemm", [&] { cpu_csr_gemm<scalar_t>(x, dense, out); });
}

Tensor csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols) {
  check_csr(x, "csr_gather_sum");
  check_float(w, "csr_gather_sum", "w");
  NCF_CHECK(w.ndim() == 2 && w.dim(0) == x.cols, "csr_gather_sum: w must be (" << x.cols << ", n) for a CSR of "
                                                                              << x.cols << " columns, got "
                                                                              << w.describe());
  NCF_CHECK(rows.ndim() == 1 && rows.shape() == cols.shape() && rows.dtype() == DType::i32 &&
                cols.dtype() == DType::i32,
            "csr_gather_sum: rows and cols must be (m,) i32, got " << rows.describe() << " and " << cols.describe());
  check_same_device(x.offsets, w, "csr_gather_sum");
  check_same_device(w, rows, "csr_gather_sum");
  check_same_device(w, cols, "csr_gather_sum");
  Tensor out = Tensor::empty({rows.numel()}, w.dtype(), w.device());
  if (out.numel() == 0) return out;
  if (w.is_cuda()) {
    NCF_ON_CUDA(cuda_csr_gather_sum(x, w, rows, cols, out));
    return out;
  }
  // The pairs index the CSR and w directly: check them all first (the GPU kernel skips bad ones).
  const int32_t* r = rows.data<int32_t>();
  const int32_t* c = cols.data<int32_t>();
  for (int64_t k = 0; k < rows.numel(); ++k)
    NCF_CHECK(r[k] >= 0 && r[k] < x.rows && c[k] >= 0 && c[k] < w.dim(1),
              "csr_gather_sum: pair " << k << " (" << r[k] << ", " << c[k] << ") is outside the " << x.rows
                                      << " rows and " << w.dim(1) << " columns");
  NCF_DISPATCH_FLOAT(w.dtype(), "csr_gather_sum", [&] { cpu_csr_gather_sum<scalar_t>(x, w, rows, cols, out); });
  return out;
}

Tensor csr_matmul(const BinaryCsr& x, const Tensor& dense) {
  check_float(dense, "csr_matmul", "dense");
  NCF_CHECK(dense.ndim() == 2, "csr_matmul: dense must be 2-D, got " << dense.describe());
  Tensor out = Tensor::empty({x.rows, dense.dim(1)}, dense.dtype(), dense.device());
  csr_gemm(x, dense, out);
  return out;
}

void csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                   Tensor& out) {
  check_csr(x, "csr_row_grams");
  check_float(table, "csr_row_grams", "table");
  NCF_CHECK(table.ndim() == 2 && table.dim(0) == x.cols, "csr_row_grams: table must be ("
                                                             << x.cols << ", k) for a CSR of " << x.cols
                                                             << " columns, got " << table.describe());
  const int64_t k = table.dim(1);
  NCF_CHECK(base.defined() && base.ndim() == 2 && base.dim(0) == k && base.dim(1) == k &&
                base.dtype() == table.dtype(),
            "csr_row_grams: base must be (" << k << ", " << k << ") " << dtype_name(table.dtype()) << ", got "
                                            << base.describe());
  NCF_CHECK(shift.defined() && shift.ndim() == 1 && shift.dim(0) == x.rows && shift.dtype() == table.dtype(),
            "csr_row_grams: shift must be (" << x.rows << ",) " << dtype_name(table.dtype()) << ", got "
                                             << shift.describe());
  NCF_CHECK(out.defined() && out.ndim() == 3 && out.dim(0) == x.rows && out.dim(1) == k && out.dim(2) == k &&
                out.dtype() == table.dtype(),
            "csr_row_grams: out must be (" << x.rows << ", " << k << ", " << k << ") "
                                           << dtype_name(table.dtype()) << ", got " << out.describe());
  check_same_device(x.offsets, table, "csr_row_grams");
  check_same_device(table, base, "csr_row_grams");
  check_same_device(table, shift, "csr_row_grams");
  check_same_device(table, out, "csr_row_grams");
  NCF_CHECK(!overlaps(out, table) && !overlaps(out, base) && !overlaps(out, shift),
            "csr_row_grams: out " << out.describe() << " shares memory with an input");
  if (out.numel() == 0) return;
  if (table.is_cuda()) return NCF_ON_CUDA(cuda_csr_row_grams(x, table, base, shift, out));
  NCF_DISPATCH_FLOAT(table.dtype(), "csr_row_grams",
                     [&] { cpu_csr_row_grams<scalar_t>(x, table, base, shift, out); });
}

namespace {
constexpr size_t kGpuSystemBytes = size_t{512} << 20;  // systems per batch of the GPU's row_gram_solve

// For each row s: out[s] = A_s^-1 b_s with A_s = base + shift[s] I + sum_{c in row s} table[c]^T table[c]
// and b_s = sum_{c in row s} table[c], in one pass per row while it is in cache: U = base's upper
// triangle (read from its lower one) + shift, the rows gathered in blocks of kSyrkDepth (their sum
// accumulating straight into out[s]), syrk_add on U's upper triangle, factor_upper in place, and the
// two triangular solves. One row per work item, so its bits do not depend on the thread count.
template <class T>
void cpu_csr_row_gram_solve(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                            Tensor& out) {
  constexpr int kC = SyrkTile<T>::kCols;
  const int32_t* offsets = x.offsets.data<int32_t>();
  const int32_t* indices = x.indices.data<int32_t>();
  const int64_t k = table.dim(1), kp = (k + kC - 1) / kC * kC, rows = x.rows;
  const T* rows_of = table.data<T>();
  const T* base_data = base.data<T>();
  const T* shift_data = shift.data<T>();
  T* o = out.data<T>();
  std::vector<int64_t> bad_row(static_cast<size_t>(rows), -1);
  std::vector<T> bad_pivot(static_cast<size_t>(rows), T(0));
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(dynamic, 8) if (rows * k * k >= kParallelCopy)
  for (int64_t s = 0; s < rows; ++s) {
    T* u = thread_scratch<T, kSystemSlot>(static_cast<size_t>(k * k));
    T* gathered = gather_scratch<T>(kp);
    T* solution = o + s * k;
    for (int64_t r = 0; r < k; ++r) {
      for (int64_t c = r; c < k; ++c) u[r * k + c] = base_data[c * k + r];
      u[r * k + r] += shift_data[s];
      solution[r] = T(0);
    }
    for (int32_t e0 = offsets[s]; e0 < offsets[s + 1]; e0 += static_cast<int32_t>(kSyrkDepth)) {
      const int64_t m = std::min<int64_t>(kSyrkDepth, offsets[s + 1] - e0);
      gather_rows(rows_of, k, kp, indices + e0, m, gathered, solution);
      syrk_add<true>(gathered, m, kp, k, u);
    }
    bad_row[s] = factor_upper(u, k, &bad_pivot[s]);
    if (bad_row[s] < 0) solve_upper_factored(u, k, solution);
  }
  for (int64_t s = 0; s < rows; ++s)
    NCF_CHECK(bad_row[s] < 0, "csr_row_gram_solve: the system of row "
                                  << s << " (of " << rows << ") is not positive definite: pivot "
                                  << bad_row[s] << " is " << bad_pivot[s] << " after elimination");
}
}  // namespace

void csr_row_gram_solve(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                        Tensor& out) {
  check_csr(x, "csr_row_gram_solve");
  check_float(table, "csr_row_gram_solve", "table");
  NCF_CHECK(table.ndim() == 2 && table.dim(0) == x.cols, "csr_row_gram_solve: table must be ("
                                                             << x.cols << ", k) for a CSR of " << x.cols
                                                             << " columns, got " << table.describe());
  const int64_t k = table.dim(1);
  NCF_CHECK(out.defined() && out.ndim() == 2 && out.dim(0) == x.rows && out.dim(1) == k &&
                out.dtype() == table.dtype(),
            "csr_row_gram_solve: out must be (" << x.rows << ", " << k << ") " << dtype_name(table.dtype())
                                                << ", got " << out.describe());
  check_same_device(table, out, "csr_row_gram_solve");
  NCF_CHECK(!overlaps(out, table),
            "csr_row_gram_solve: out " << out.describe() << " shares memory with table");
  if (out.numel() == 0) return;
  if (table.is_cuda()) {
    // The same steps as separate batched ops, in chunks of rows whose systems fit kGpuSystemBytes:
    // csr_row_grams builds them, csr_gemm writes the right-hand sides into out, cuSOLVER factorises,
    // and the triangular solves overwrite out with the solutions.
    const int64_t per_chunk = std::clamp<int64_t>(
        static_cast<int64_t>(kGpuSystemBytes / (static_cast<size_t>(k * k) * dtype_size(table.dtype()))), 1,
        x.rows);
    Tensor systems = Tensor::empty({per_chunk, k, k}, table.dtype(), table.device());
    for (int64_t begin = 0; begin < x.rows; begin += per_chunk) {
      const int64_t end = std::min(x.rows, begin + per_chunk);
      const BinaryCsr part = x.row_range(begin, end);
      Tensor chunk = systems.rows(0, end - begin);
      Tensor rhs = out.rows(begin, end);
      csr_row_grams(part, table, base, shift.rows(begin, end), chunk);
      csr_gemm(part, table, rhs);
      try {
        cholesky_batched_(chunk);
      } catch (const Error& error) {
        NCF_FAIL("csr_row_gram_solve: a system among rows ["
                 << begin << ", " << end << ") is not positive definite: " << error.what());
      }
      cholesky_solve_batched_(chunk, rhs);
    }
    return;
  }
  // The shapes of base and shift are checked by csr_row_grams on the GPU path; here:
  NCF_CHECK(base.defined() && base.ndim() == 2 && base.dim(0) == k && base.dim(1) == k &&
                base.dtype() == table.dtype() && base.device() == table.device(),
            "csr_row_gram_solve: base must be (" << k << ", " << k << ") " << dtype_name(table.dtype())
                                                 << " on " << table.device() << ", got " << base.describe());
  NCF_CHECK(shift.defined() && shift.ndim() == 1 && shift.dim(0) == x.rows &&
                shift.dtype() == table.dtype() && shift.device() == table.device(),
            "csr_row_gram_solve: shift must be (" << x.rows << ",) " << dtype_name(table.dtype()) << " on "
                                                  << table.device() << ", got " << shift.describe());
  check_same_device(x.offsets, table, "csr_row_gram_solve");
  NCF_DISPATCH_FLOAT(table.dtype(), "csr_row_gram_solve",
                     [&] { cpu_csr_row_gram_solve<scalar_t>(x, table, base, shift, out); });
}

// ---- diagonal helpers ---------------------------------------------------------------------------

Tensor diagonal(const Tensor& a) {
  check_float(a, "diagonal", "a");
  NCF_CHECK(a.ndim() == 2 && a.dim(0) == a.dim(1),
            "diagonal: expects a square (n, n) matrix, got " << a.describe());
  const int64_t n = a.dim(0);
  Tensor out = Tensor::empty({n}, a.dtype(), a.device());
  if (n == 0) return out;
  if (a.is_cuda()) {
    NCF_ON_CUDA(cuda_diagonal(a, out));
    return out;
  }
  NCF_DISPATCH_FLOAT(a.dtype(), "diagonal", [&] {
    const scalar_t* p = a.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    for (int64_t i = 0; i < n; ++i) o[i] = p[i * n + i];
  });
  return out;
}

namespace {
void set_or_add_diagonal(Tensor& a, double value, bool fill, const char* op) {
  check_float(a, op, "a");
  NCF_CHECK(a.ndim() == 2 && a.dim(0) == a.dim(1),
            op << ": expects a square (n, n) matrix, got " << a.describe());
  const int64_t n = a.dim(0);
  if (n == 0) return;
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_add_diagonal_(a, value, fill));
  NCF_DISPATCH_FLOAT(a.dtype(), op, [&] {
    scalar_t* p = a.data<scalar_t>();
    const scalar_t v = static_cast<scalar_t>(value);
    for (int64_t i = 0; i < n; ++i) p[i * n + i] = fill ? v : p[i * n + i] + v;
  });
}

// (OpenMP pragmas cannot sit inside NCF_DISPATCH_FLOAT's macro argument, hence a function.)
template <class T>
void cpu_scale_columns(T* p, int64_t rows, int64_t cols, const T* factors) {
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static) if (rows * cols >= kParallelCopy)
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) p[i * cols + j] *= factors[j];
}
}  // namespace

void add_diagonal_(Tensor& a, double value) { set_or_add_diagonal(a, value, false, "add_diagonal_"); }
void fill_diagonal_(Tensor& a, double value) { set_or_add_diagonal(a, value, true, "fill_diagonal_"); }

void scale_columns_(Tensor& a, const Tensor& factors) {
  check_float(a, "scale_columns_", "a");
  NCF_CHECK(a.ndim() == 2 && factors.defined() && factors.ndim() == 1 && factors.dim(0) == a.dim(1) &&
                factors.dtype() == a.dtype(),
            "scale_columns_: factors must be (" << (a.ndim() == 2 ? a.dim(1) : -1) << ",) "
                                                << dtype_name(a.dtype()) << " for a " << a.describe()
                                                << ", got " << factors.describe());
  check_same_device(a, factors, "scale_columns_");
  if (a.numel() == 0) return;
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_scale_columns_(a, factors));
  NCF_DISPATCH_FLOAT(a.dtype(), "scale_columns_", [&] {
    cpu_scale_columns(a.data<scalar_t>(), a.dim(0), a.dim(1), factors.data<scalar_t>());
  });
}

// ---- Cholesky -----------------------------------------------------------------------------------

namespace {
template <class T>
void cpu_cholesky_batched(Tensor& a) {
  const int64_t batch = a.dim(0), k = a.dim(1);
  T* base = a.data<T>();
  std::vector<int64_t> bad_row(static_cast<size_t>(batch), -1);
  std::vector<T> bad_pivot(static_cast<size_t>(batch), T(0));
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (batch * k * k * k >= 6 * kParallelCopy)
  for (int64_t s = 0; s < batch; ++s) {
    T* m = base + s * k * k;
    bad_row[s] = factor_lower(m, k, k, &bad_pivot[s]);
  }
  for (int64_t s = 0; s < batch; ++s)
    NCF_CHECK(bad_row[s] < 0, "cholesky_batched_: matrix "
                                  << s << " of " << a.describe() << " is not positive definite: pivot "
                                  << bad_row[s] << " is " << bad_pivot[s] << " after elimination");
}

template <class T>
void cpu_cholesky_solve_batched(const Tensor& l, Tensor& b) {
  const int64_t batch = l.dim(0), k = l.dim(1);
  const T* factors = l.data<T>();
  T* rhs = b.data<T>();
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (batch * k * k >= kParallelCopy)
  for (int64_t s = 0; s < batch; ++s) solve_factored(factors + s * k * k, k, rhs + s * k);
}
}  // namespace

void cholesky_batched_(Tensor& a) {
  check_batch(a, "cholesky_batched_");
  if (a.numel() == 0) return;
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_cholesky_batched_(a));
  NCF_DISPATCH_FLOAT(a.dtype(), "cholesky_batched_", [&] { cpu_cholesky_batched<scalar_t>(a); });
}

void cholesky_solve_batched_(const Tensor& l, Tensor& b) {
  check_batch(l, "cholesky_solve_batched_");
  check_float(b, "cholesky_solve_batched_", "b");
  NCF_CHECK(b.ndim() == 2 && b.dim(0) == l.dim(0) && b.dim(1) == l.dim(1),
            "cholesky_solve_batched_: b must be (" << l.dim(0) << ", " << l.dim(1) << ") for factors "
                                                   << l.describe() << ", got " << b.describe());
  NCF_CHECK(b.dtype() == l.dtype(),
            "cholesky_solve_batched_: dtypes differ, l " << l.describe() << ", b " << b.describe());
  check_same_device(l, b, "cholesky_solve_batched_");
  NCF_CHECK(!overlaps(l, b),
            "cholesky_solve_batched_: b " << b.describe() << " shares memory with l " << l.describe());
  if (b.numel() == 0) return;
  if (l.is_cuda()) return NCF_ON_CUDA(cuda_cholesky_solve_batched_(l, b));
  NCF_DISPATCH_FLOAT(l.dtype(), "cholesky_solve_batched_",
                     [&] { cpu_cholesky_solve_batched<scalar_t>(l, b); });
}

void cholesky_(Tensor& a) {
  check_square(a, "cholesky_");
  if (a.numel() == 0) return;
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_cholesky_(a));
  NCF_DISPATCH_FLOAT(a.dtype(), "cholesky_",
                     [&] { blocked_cholesky(a.data<scalar_t>(), a.dim(0), "cholesky_"); });
}

void spd_inverse_(Tensor& a) {
  check_square(a, "spd_inverse_");
  if (a.numel() == 0) return;
  if (a.is_cuda()) return NCF_ON_CUDA(cuda_spd_inverse_(a));
  NCF_DISPATCH_FLOAT(a.dtype(), "spd_inverse_", [&] {
    scalar_t* p = a.data<scalar_t>();
    blocked_cholesky(p, a.dim(0), "spd_inverse_");
    blocked_invert_lower(p, a.dim(0));
    blocked_lower_gram(p, a.dim(0));
  });
}

// ---- references ---------------------------------------------------------------------------------

namespace reference {

namespace {
std::vector<double> as_doubles(const Tensor& t, const char* op) {
  check_float(t, op, "input");
  NCF_CHECK(t.device().is_cpu(), op << ": the reference runs on the CPU only, got " << t.describe());
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  const std::vector<float> values = t.to_vector<float>();
  return std::vector<double>(values.begin(), values.end());
}
}  // namespace

Tensor gram(const Tensor& a) {
  NCF_CHECK(a.ndim() == 2, "reference::gram: expects a 2-D matrix, got " << a.describe());
  return matmul(a, a, true, false);
}

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  NCF_CHECK(a.ndim() == 2 && b.ndim() == 2,
            "reference::matmul: expects 2-D matrices, got " << a.describe() << " and " << b.describe());
  const std::vector<double> av = as_doubles(a, "reference::matmul"), bv = as_doubles(b, "reference::matmul");
  const int64_t m = trans_a ? a.dim(1) : a.dim(0), k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t k_b = trans_b ? b.dim(1) : b.dim(0), n = trans_b ? b.dim(0) : b.dim(1);
  NCF_CHECK(k == k_b, "reference::matmul: inner sizes differ, " << a.describe() << " and " << b.describe());
  std::vector<double> out(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p)
        sum += (trans_a ? av[p * m + i] : av[i * k + p]) * (trans_b ? bv[j * k + p] : bv[p * n + j]);
      out[i * n + j] = sum;
    }
  return Tensor::from_vector(out, {m, n});
}

Tensor dense_from_csr(const BinaryCsr& x) {
  check_csr(x, "reference::dense_from_csr");
  const HostCsr h = host_csr(x);
  std::vector<double> dense(static_cast<size_t>(x.rows * x.cols), 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int32_t e = h.offsets[r]; e < h.offsets[r + 1]; ++e) dense[r * x.cols + h.indices[e]] = 1.0;
  return Tensor::from_vector(dense, {x.rows, x.cols});
}

Tensor csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift) {
  check_csr(x, "reference::csr_row_grams");
  const HostCsr h = host_csr(x);
  const std::vector<double> t = as_doubles(table, "reference::csr_row_grams");
  const std::vector<double> b = as_doubles(base, "reference::csr_row_grams");
  const std::vector<double> d = as_doubles(shift, "reference::csr_row_grams");
  const int64_t k = table.dim(1);
  std::vector<double> out(static_cast<size_t>(x.rows * k * k));
  for (int64_t s = 0; s < x.rows; ++s)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double sum = b[std::max(i, j) * k + std::min(i, j)] + (i == j ? d[s] : 0.0);
        for (int32_t e = h.offsets[s]; e < h.offsets[s + 1]; ++e)
          sum += t[h.indices[e] * k + i] * t[h.indices[e] * k + j];
        out[(s * k + i) * k + j] = sum;
      }
  return Tensor::from_vector(out, {x.rows, k, k});
}

Tensor csr_row_gram_solve(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift) {
  const Tensor rhs = matmul(dense_from_csr(x), table);
  return cholesky_solve(cholesky(csr_row_grams(x, table, base, shift)), rhs);
}

Tensor cholesky(const Tensor& a) {
  const bool batched = a.ndim() == 3;
  NCF_CHECK((a.ndim() == 2 || batched) && a.dim(-1) == a.dim(-2),
            "reference::cholesky: expects (n, n) or (batch, k, k), got " << a.describe());
  std::vector<double> m = as_doubles(a, "reference::cholesky");
  const int64_t k = a.dim(-1), batch = batched ? a.dim(0) : 1;
  for (int64_t s = 0; s < batch; ++s) {
    double* l = m.data() + s * k * k;
    for (int64_t i = 0; i < k; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        double sum = l[i * k + j];
        for (int64_t p = 0; p < j; ++p) sum -= l[i * k + p] * l[j * k + p];
        if (i == j) {
          NCF_CHECK(sum > 0.0,
                    "reference::cholesky: matrix " << s << " is not positive definite at row " << i);
          l[i * k + i] = std::sqrt(sum);
        } else {
          l[i * k + j] = sum / l[j * k + j];
        }
      }
      for (int64_t j = i + 1; j < k; ++j) l[i * k + j] = 0.0;
    }
  }
  return Tensor::from_vector(m, a.shape());
}

Tensor cholesky_solve(const Tensor& l, const Tensor& b) {
  NCF_CHECK(
      l.ndim() == 3 && l.dim(1) == l.dim(2) && b.ndim() == 2 && b.dim(0) == l.dim(0) && b.dim(1) == l.dim(1),
      "reference::cholesky_solve: expects l (batch, k, k) and b (batch, k), got " << l.describe() << " and "
                                                                                  << b.describe());
  const std::vector<double> lv = as_doubles(l, "reference::cholesky_solve");
  std::vector<double> x = as_doubles(b, "reference::cholesky_solve");
  const int64_t batch = l.dim(0), k = l.dim(1);
  for (int64_t s = 0; s < batch; ++s) {
    const double* f = lv.data() + s * k * k;
    double* v = x.data() + s * k;
    for (int64_t i = 0; i < k; ++i) {  // L y = b
      double sum = v[i];
      for (int64_t p = 0; p < i; ++p) sum -= f[i * k + p] * v[p];
      v[i] = sum / f[i * k + i];
    }
    for (int64_t i = k - 1; i >= 0; --i) {  // L^T x = y
      double sum = v[i];
      for (int64_t p = i + 1; p < k; ++p) sum -= f[p * k + i] * v[p];
      v[i] = sum / f[i * k + i];
    }
  }
  return Tensor::from_vector(x, b.shape());
}

Tensor inverse(const Tensor& a) {
  NCF_CHECK(a.ndim() == 2 && a.dim(0) == a.dim(1),
            "reference::inverse: expects (n, n), got " << a.describe());
  const int64_t n = a.dim(0), w = 2 * n;
  const std::vector<double> av = as_doubles(a, "reference::inverse");
  // Gauss-Jordan on [A | I]: for each column, swap the row with the largest pivot up, scale it to a
  // unit pivot, and eliminate that column from every other row. The right half ends as A^-1.
  std::vector<double> m(static_cast<size_t>(n * w), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) m[i * w + j] = av[i * n + j];
    m[i * w + n + i] = 1.0;
  }
  for (int64_t c = 0; c < n; ++c) {
    int64_t pivot_row = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(m[r * w + c]) > std::fabs(m[pivot_row * w + c])) pivot_row = r;
    NCF_CHECK(m[pivot_row * w + c] != 0.0, "reference::inverse: the matrix is singular at column " << c);
    if (pivot_row != c)
      for (int64_t j = 0; j < w; ++j) std::swap(m[c * w + j], m[pivot_row * w + j]);
    const double scale = 1.0 / m[c * w + c];
    for (int64_t j = 0; j < w; ++j) m[c * w + j] *= scale;
    for (int64_t r = 0; r < n; ++r) {
      if (r == c || m[r * w + c] == 0.0) continue;
      const double factor = m[r * w + c];
      for (int64_t j = 0; j < w; ++j) m[r * w + j] -= factor * m[c * w + j];
    }
  }
  std::vector<double> inverse(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) inverse[i * n + j] = m[i * w + n + j];
  return Tensor::from_vector(inverse, {n, n});
}

Tensor csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols) {
  // (X w) by the dense triple loop, then the asked entries.
  const Tensor product = matmul(dense_from_csr(x), w);
  const double* p = product.data<double>();
  const std::vector<int32_t> r = rows.to_vector<int32_t>(), c = cols.to_vector<int32_t>();
  std::vector<double> out(r.size());
  for (size_t k = 0; k < r.size(); ++k) out[k] = p[static_cast<int64_t>(r[k]) * w.dim(1) + c[k]];
  return Tensor::from_vector(out, {static_cast<int64_t>(out.size())});
}

}  // namespace reference

}  // namespace ncf::ops
