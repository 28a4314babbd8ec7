// Dense and binary-sparse linear algebra for the closed-form baselines (iALS, EASE):
//
//   gram(a)                       a (m, n)                 -> (n, n) = a^T a
//   csr_gram(x, dtype)            X binary CSR (r, c)      -> (c, c) = X^T X (co-occurrence counts)
//   csr_matmul(x, dense)          X binary CSR (r, c), dense (c, d) -> (r, d) = X dense
//   csr_gather_sum(x, w, rows, cols)  -> (m,): out[k] = (X w)[rows[k]][cols[k]], one entry per pair
//   csr_row_grams(x, t, base, sh) -> (r, k, k): out[s] = base + sh[s] I + sum_{c in row s} t[c]^T t[c]
//   csr_row_gram_solve(...)       -> (r, k): out[s] = (that matrix)^-1 sum_{c in row s} t[c]
//   cholesky_batched_(a)          a (batch, k, k) SPD      -> in place: L with a = L L^T per matrix
//   cholesky_solve_batched_(l, b) l (batch, k, k) from above, b (batch, k) -> in place: x with
//                                 L L^T x = b per matrix
//   cholesky_(a)                  a (n, n) SPD             -> in place: L with a = L L^T (blocked)
//   spd_inverse_(a)               a (n, n) SPD             -> in place: a^-1 (both triangles)
//   diagonal, add_diagonal_, fill_diagonal_, scale_columns_: the small steps around them (EASE)
//
// "SPD" is symmetric positive definite. Only the lower triangle of an SPD input is read (j <= i in
// row-major (i, j)); a factor L is lower triangular with its strict upper triangle set to zero.
// A matrix that is not positive definite (a pivot <= 0 or NaN) raises an ncf::Error naming the
// matrix and the row (and, on the CPU, the pivot's value).
//
// Every op takes f32 or f64 and works on the CPU and, in CUDA builds, on the GPU (linalg.cu: cuBLAS
// syrk; cuSOLVER potrf, potri and batched potrf; kernels of our own for the CSR products, the row
// Grams and the batched triangular solves). The CPU results are deterministic: every sum runs in an
// order fixed by the shapes alone, never by the thread count. On the GPU our kernels sum in a fixed
// order too (csr_gram adds its integer counts by atomics in any order, which is exact, so the result
// is the same); the library calls are as reproducible as cuBLAS and cuSOLVER make them.
//
// ops::reference holds the textbook versions (plain loops, one thread, all arithmetic in f64) that
// the tests compare the optimised ones with; they are not meant for large inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

// A binary sparse matrix (every stored entry equals 1) in compressed-row form, on one device.
// Row r holds the columns indices[offsets[r] .. offsets[r+1]), strictly increasing. offsets[0] need
// not be 0, so a range of rows is a view of the same indices (row_range).
struct BinaryCsr {
  Tensor offsets;  // (rows + 1,) i32, non-decreasing
  Tensor indices;  // (>= offsets[rows],) i32, in [0, cols)
  int64_t rows = 0, cols = 0;

  // Rows [begin, end) as a BinaryCsr sharing this one's tensors.
  BinaryCsr row_range(int64_t begin, int64_t end) const;
  Device device() const { return offsets.device(); }
};

// Validates (offsets start at 0, never decrease, end at indices.size(); each row's columns strictly
// increase inside [0, cols)) and uploads to `device`. The validation runs here, on the host, once:
// the ops below trust a BinaryCsr's structure.
BinaryCsr make_binary_csr(const std::vector<int64_t>& offsets, const std::vector<int32_t>& indices,
                          int64_t cols, Device device = Device::cpu());
// The transpose (cols, rows), as a CSR of the columns; rows of the result are again increasing.
BinaryCsr transpose(const BinaryCsr& x);

// a^T a for a (m, n): (n, n), exactly symmetric. CPU: gemm (matmul.h). GPU: cuBLAS syrk without TF32
// (exact f32 products, unlike gemm's default), mirrored into the upper triangle.
Tensor gram(const Tensor& a);

// X^T X for a binary X (r, c): out[i][j] = number of rows holding both columns i and j (so the
// diagonal is each column's count). Counts are integers, exact in f32 up to 2^24 rows.
Tensor csr_gram(const BinaryCsr& x, DType dtype = DType::f32);

// out (r, d) = X dense for a binary X (r, c) and dense (c, d): row r of out sums the rows of dense
// named by row r of X, in increasing column order. csr_gemm writes into out (which may be a view,
// e.g. rows of a larger matrix); csr_matmul allocates it.
void csr_gemm(const BinaryCsr& x, const Tensor& dense, Tensor& out);
Tensor csr_matmul(const BinaryCsr& x, const Tensor& dense);

// The Gram matrix of each row's gathered table rows, plus a base and a diagonal shift:
//   out[s] = base + shift[s] I + sum over the columns c of row s of X of table[c]^T table[c]
// X binary (r, c), table (c, k), base (k, k) symmetric (its lower triangle is read), shift (r,),
// out (r, k, k), all one dtype. Both triangles of out are written. This is the per-user system of
// implicit ALS: base = alpha0 Y^T Y, shift = the user's regularisation, table = the item factors.
void csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                   Tensor& out);

// Solves each row's system: out[s] (k) = A_s^-1 b_s with A_s = csr_row_grams' out[s] and
// b_s = sum over the columns c of row s of table[c] (csr_gemm's row s): the normal equations of
// implicit ALS for every user at once. out (r, k) may be a view (the rows of a factor matrix).
// CPU: one fused pass per row, in cache (gather, syrk, Cholesky, two triangular solves). GPU: the
// separate batched ops, in chunks of systems that fit 512 MiB. A row whose system is not positive
// definite raises an error naming it.
void csr_row_gram_solve(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift,
                        Tensor& out);

// Diagonal helpers of a square (n, n) matrix: its diagonal (n,); a += value I; a[i][i] = value;
// a[i][j] *= factors[j] (each column scaled, factors (n,) of a's dtype).
Tensor diagonal(const Tensor& a);
void add_diagonal_(Tensor& a, double value);
void fill_diagonal_(Tensor& a, double value);
void scale_columns_(Tensor& a, const Tensor& factors);

// Cholesky factorisation of each matrix of a (batch, k, k), in place (lower L, strict upper zeroed).
void cholesky_batched_(Tensor& a);
// Solves L L^T x = b for each matrix of l (batch, k, k) (lower factors from cholesky_batched_) and
// each row of b (batch, k); x overwrites b. b may be a view (e.g. rows of a factor matrix).
void cholesky_solve_batched_(const Tensor& l, Tensor& b);

// Cholesky factorisation of one (n, n) matrix, in place (lower L, strict upper zeroed). The CPU
// path is blocked (blocks of kLinalgBlock), with the off-diagonal updates done by gemm.
void cholesky_(Tensor& a);
// Inverse of one SPD (n, n) matrix, in place: both triangles hold the (symmetric) inverse.
// CPU: L = cholesky, X = L^-1 by blocks, a^-1 = X^T X by blocks; about n^3 / 2 multiply-adds.
void spd_inverse_(Tensor& a);

constexpr int64_t kLinalgBlock = 256;  // block size of the CPU blocked factorisation and inverse

// out[k] = sum over the columns j of row rows[k] of x of w[j][cols[k]]: the entries of X w at m
// (row, column) pairs without forming X w (a linear item-item model's scores, EASE). x (r, c), w (c, n)
// f32 or f64, rows and cols (m,) i32 in range -> (m,) in w's dtype, each sum in the row's column order.
Tensor csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols);

namespace reference {
// Textbook versions, CPU only, f32 or f64 inputs, all arithmetic and every result in f64.
Tensor gram(const Tensor& a);                             // triple loop
Tensor dense_from_csr(const BinaryCsr& x);                // (r, c) of 0/1
Tensor cholesky(const Tensor& a);                         // (n, n) or (batch, k, k), Cholesky-Banachiewicz
Tensor cholesky_solve(const Tensor& l, const Tensor& b);  // (batch, k, k), (batch, k): forward, back
Tensor inverse(const Tensor& a);                          // (n, n): Gauss-Jordan, partial pivoting
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);  // triple loop
Tensor csr_row_grams(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift);
Tensor csr_row_gram_solve(const BinaryCsr& x, const Tensor& table, const Tensor& base, const Tensor& shift);
Tensor csr_gather_sum(const BinaryCsr& x, const Tensor& w, const Tensor& rows, const Tensor& cols);
}  // namespace reference

}  // namespace ncf::ops
