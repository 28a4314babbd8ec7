// The CUDA side of a device: its stream, its cuBLAS and cuSOLVER handles, raw allocation, and the checking
// macros every CUDA call in the project goes through. Only compiled when NCF_HAS_CUDA is set.
//
// All work runs on one stream per device, so kernels are ordered without host synchronisation;
// a block released to the caching allocator can be reused at once by the next kernel on the same
// stream. Host code synchronises only where it reads results (copies to the CPU, item()), and every
// such wait goes through cuda_synchronize, which counts it (tensor/device_counters.h).
//
// Index faults. A kernel that meets an index outside its table (gather_rows, segment_sum_rows, ...)
// cannot throw, and the host cannot check the indices first without waiting for the GPU. So the
// kernel skips the index and records it in the device's CudaIndexFaults, a few words of device
// memory; the next cuda_synchronize copies them back with the wait it makes anyway, and throws
// naming the op, the index and its position, as the CPU would have at once. No extra wait, and no
// wrong index ever reaches memory.
#pragma once

#ifdef NCF_HAS_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <cstddef>
#include <cstdint>

#include "base/error.h"
#include "tensor/device_counters.h"

namespace ncf {

const char* cublas_status_name(cublasStatus_t status);
const char* cusolver_status_name(cusolverStatus_t status);

// The ops whose kernels report bad indices, one fault slot each.
enum class IndexOp : int {
  gather_rows,
  segment_sum_rows,
  scatter_add_rows,
  to_dense,
  sparse_adam_step,
  axpy_row_sparse,
  count
};
const char* index_op_name(IndexOp op);

// Per op: the smallest (position << 32 | uint32(index)) of a bad index seen since the last check, or
// kNoIndexFault. Positions are below 2^31 (the GPU ops check their sizes), so the two fit one word
// and one atomicMin keeps the first bad position with its index: a deterministic report.
constexpr unsigned long long kNoIndexFault = ~0ull;
struct CudaIndexFaults {
  unsigned long long first[static_cast<int>(IndexOp::count)];
};

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
// It also counts the launch (device_counters().kernel_launches).
#define NCF_CUDA_LAUNCH_CHECK(kernel_name)                                                                 \
  do {                                                                                                     \
    ::ncf::count_kernel_launch();                                                                          \
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
// Waits for the device's stream; then throws if a kernel recorded an index fault since the last wait.
void cuda_synchronize(int device_index = 0);
// The device's fault slots (device memory), for kernels to report into with report_index_fault.
CudaIndexFaults* cuda_index_faults(int device_index = 0);

// cuBLAS may use TF32 tensor cores for f32 products (on by default; off for exact comparisons).
void set_allow_tf32(bool allow);
bool allow_tf32();

void* cuda_raw_allocate(size_t bytes, int device_index);
void cuda_raw_free(void* ptr, int device_index);
// Page-locked host memory: the GPU copies into it asynchronously (and faster than into pageable memory).
void* cuda_pinned_allocate(size_t bytes);
void cuda_pinned_free(void* ptr);  // never throws (destructors call it)

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
inline unsigned int cuda_blocks_for(int64_t n, int threads_per_block = 256) {
  const int64_t blocks = (n + threads_per_block - 1) / threads_per_block;
  const int64_t cap = 132 * 16;  // a few waves on an H100's 132 SMs; grid-stride loops cover the rest
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

#if defined(__CUDACC__)
// A grid-stride loop over n elements: for (i = first_index(); i < n; i += grid_stride()), whatever
// the grid size cuda_blocks_for chose.
__device__ __forceinline__ int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Records a bad index at `position` of an op's index array (see "Index faults" at the top).
__device__ __forceinline__ void report_index_fault(CudaIndexFaults* faults, IndexOp op, int64_t position,
                                                   int32_t index) {
  const unsigned long long where =
      position < 0x7fffffff ? static_cast<unsigned long long>(position) : 0x7fffffffull;
  atomicMin(&faults->first[static_cast<int>(op)], (where << 32) | static_cast<uint32_t>(index));
}
#endif

}  // namespace ncf

#endif  // NCF_HAS_CUDA
