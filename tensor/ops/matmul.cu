// Matrix products on the GPU through cuBLAS: out (m, n) = alpha * op(a) @ op(b) + beta * out.
//
// cuBLAS is column-major, our tensors are row-major. A row-major (r, c) matrix is, byte for byte,
// the column-major (c, r) matrix of its transpose. So instead of out = op(a) op(b) we ask cuBLAS
// for out^T = op(b)^T op(a)^T, all in column-major: pass b first, then a, and swap m and n. The
// result lands in out's memory already in row-major order; no copy or explicit transpose happens.
#include "tensor/cuda_context.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/matmul_cuda.h"

namespace ncf::ops {

void cuda_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& out, double alpha,
               double beta) {
  const int64_t m = out.dim(0), n = out.dim(1);
  const int64_t k = trans_a ? a.dim(0) : a.dim(1);
  if (m == 0 || n == 0) return;
  const int device = a.device().index;
  cublasHandle_t handle = cublas_handle(device);
  // Leading dimensions: the row length of each row-major matrix as stored (cuBLAS wants >= 1 even
  // when a size is 0).
  auto leading = [](int64_t row_length) { return static_cast<int>(row_length > 1 ? row_length : 1); };
  const int lda = leading(a.dim(1)), ldb = leading(b.dim(1)), ldo = leading(n);
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);  // column-major sizes

  if (out.dtype() == DType::f32) {
    // TF32 tensor cores round the inputs to 10 mantissa bits: fast, and fine for training, but
    // not for exact comparisons with the CPU; the math mode is set on every call because the
    // switch may have moved since the last one.
    NCF_CUBLAS_CHECK(
        cublasSetMathMode(handle, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
    NCF_CUBLAS_CHECK(cublasSgemm(handle, op_b, op_a, M, N, K, &alpha_f, b.data<float>(), ldb, a.data<float>(),
                                 lda, &beta_f, out.data<float>(), ldo));
    count_library_call();
  } else if (out.dtype() == DType::f64) {
    NCF_CUBLAS_CHECK(cublasDgemm(handle, op_b, op_a, M, N, K, &alpha, b.data<double>(), ldb, a.data<double>(),
                                 lda, &beta, out.data<double>(), ldo));
    count_library_call();
  } else {
    NCF_FAIL("gemm: expects f32 or f64, got " << out.describe());
  }
}

}  // namespace ncf::ops
