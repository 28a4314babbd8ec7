// The CUDA side of a device: its stream, its cuBLAS and cuSOLVER handles, raw allocation, and the checking
// macros every CUDA call in the project goes through. Only compiled when NCF_HAS_CUDA is set.
//
// All work runs on one stream per device, so kernels are ordered without host synchronisation;
// a block released to the caching allocator can be reused at once by the next kernel on the same
// stream. Host code synchronises only where it reads results (copies to the CPU, item()).
#pragma once

#ifdef NCF_HAS_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>

#include "base/error.h"

namespace ncf {

const char* cublas_status_name(cublasStatus_t status);
const char* cusolver_status_name(cusolverStatus_t status);

}  // namespace ncf

// Wraps a CUDA runtime call: on failure throws with the call's text, file, line and CUDA's message.
#define NCF_CUDA_CHECK(call)                                                                                \
  do {                                                                                                      \
    const cudaError_t ncf_status_ = (call);                                                                 \
    if (ncf_status_ != cudaSuccess)                                                                         \
      ::ncf::throw_error(__FILE__, __LINE__,                                                                \
                         std::string("CUDA call failed: ") + #call + ": " + cudaGetErrorName(ncf_status_) + \
                             " (" + cudaGetErrorString(ncf_status_) + ")");                                 \
  } while (0)

#define NCF_CUBLAS_CHECK(call)                                                                          \
  do {                                                                                                  \
    const cublasStatus_t ncf_status_ = (call);                                                          \
    if (ncf_status_ != CUBLAS_STATUS_SUCCESS)                                                           \
      ::ncf::throw_error(                                                                               \
          __FILE__, __LINE__,                                                                           \
          std::string("cuBLAS call failed: ") + #call + ": " + ::ncf::cublas_status_name(ncf_status_)); \
  } while (0)

#define NCF_CUSOLVER_CHECK(call)                                                                            \
  do {                                                                                                      \
    const cusolverStatus_t ncf_status_ = (call);                                                            \
    if (ncf_status_ != CUSOLVER_STATUS_SUCCESS)                                                             \
      ::ncf::throw_error(                                                                                   \
          __FILE__, __LINE__,                                                                               \
          std::string("cuSOLVER call failed: ") + #call + ": " + ::ncf::cusolver_status_name(ncf_status_)); \
  } while (0)

// After every kernel launch: a bad configuration or an earlier asynchronous fault shows up here.
#define NCF_CUDA_LAUNCH_CHECK(kernel_name)                                                                 \
  do {                                                                                                     \
    const cudaError_t ncf_status_ = cudaGetLastError();                                                    \
    if (ncf_status_ != cudaSuccess)                                                                        \
      ::ncf::throw_error(                                                                                  \
          __FILE__, __LINE__,                                                                              \
          std::string("kernel launch failed: ") + (kernel_name) + ": " + cudaGetErrorString(ncf_status_)); \
  } while (0)

namespace ncf {

cudaStream_t cuda_stream(int device_index = 0);
cublasHandle_t cublas_handle(int device_index = 0);
// The dense cuSOLVER handle of a device, bound to its stream; created on first use only (most runs
// never factorise anything, and creating one costs time and memory).
cusolverDnHandle_t cusolver_handle(int device_index = 0);
void cuda_synchronize(int device_index = 0);

// cuBLAS may use TF32 tensor cores for f32 products (on by default; off for exact comparisons).
void set_allow_tf32(bool allow);
bool allow_tf32();

void* cuda_raw_allocate(size_t bytes, int device_index);
void cuda_raw_free(void* ptr, int device_index);

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
inline unsigned int cuda_blocks_for(int64_t n, int threads_per_block = 256) {
  const int64_t blocks = (n + threads_per_block - 1) / threads_per_block;
  const int64_t cap = 132 * 16;  // a few waves on an H100's 132 SMs; grid-stride loops cover the rest
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

}  // namespace ncf

#endif  // NCF_HAS_CUDA
