// Per-device CUDA state, created on first use: one stream, one cuBLAS handle, and the index-fault
// slots with their pinned host mirror (see cuda_context.h); a cuSOLVER handle is created the first
// time a factorisation asks for it. Every wait for a stream, allocation and free of raw memory passes
// through here and is counted (tensor/device_counters.h).
#include "tensor/cuda_context.h"

#include <cstring>
#include <mutex>

#include "tensor/device.h"

namespace ncf {

namespace {
struct DeviceState {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  CudaIndexFaults* faults = nullptr;       // device memory, written by kernels
  CudaIndexFaults* faults_host = nullptr;  // pinned: where each wait copies them
};

void reset_faults(DeviceState& s) {
  std::memset(s.faults_host, 0xff, sizeof(CudaIndexFaults));  // every slot kNoIndexFault
  NCF_CUDA_CHECK(cudaMemsetAsync(s.faults, 0xff, sizeof(CudaIndexFaults), s.stream));
  count_memory_op();
}

bool g_allow_tf32 = true;

DeviceState& state(int device_index) {
  static DeviceState states[16];
  static std::once_flag once[16];
  NCF_CHECK(device_index >= 0 && device_index < 16, "CUDA device index " << device_index << " out of range");
  std::call_once(once[device_index], [device_index] {
    require_device(Device::cuda(device_index));
    DeviceState& s = states[device_index];
    NCF_CUDA_CHECK(cudaSetDevice(device_index));
    NCF_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    NCF_CUBLAS_CHECK(cublasCreate(&s.cublas));
    NCF_CUBLAS_CHECK(cublasSetStream(s.cublas, s.stream));
    NCF_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s.faults), sizeof(CudaIndexFaults)));
    NCF_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&s.faults_host), sizeof(CudaIndexFaults)));
    count_raw_allocation();
    count_raw_allocation();
    reset_faults(s);
  });
  return states[device_index];
}
}  // namespace

const char* index_op_name(IndexOp op) {
  switch (op) {
    case IndexOp::gather_rows:
      return "gather_rows";
    case IndexOp::segment_sum_rows:
      return "segment_sum_rows";
    case IndexOp::scatter_add_rows:
      return "scatter_add_rows_";
    case IndexOp::to_dense:
      return "to_dense";
    case IndexOp::sparse_adam_step:
      return "sparse_adam_step";
    case IndexOp::axpy_row_sparse:
      return "axpy_row_sparse_";
    default:
      return "an index op";
  }
}

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    default:
      return "CUBLAS_STATUS_UNKNOWN";
  }
}

const char* cusolver_status_name(cusolverStatus_t status) {
  switch (status) {
    case CUSOLVER_STATUS_NOT_INITIALIZED:
      return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
      return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
      return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
      return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
      return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
      return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_NOT_SUPPORTED";
    case CUSOLVER_STATUS_INVALID_WORKSPACE:
      return "CUSOLVER_STATUS_INVALID_WORKSPACE";
    default:
      return "CUSOLVER_STATUS_UNKNOWN";
  }
}

cusolverDnHandle_t cusolver_handle(int device_index) {
  static cusolverDnHandle_t handles[16];
  static std::once_flag once[16];
  const cudaStream_t stream = cuda_stream(device_index);  // also checks the index and the device
  std::call_once(once[device_index], [device_index, stream] {
    NCF_CUDA_CHECK(cudaSetDevice(device_index));
    NCF_CUSOLVER_CHECK(cusolverDnCreate(&handles[device_index]));
    NCF_CUSOLVER_CHECK(cusolverDnSetStream(handles[device_index], stream));
  });
  return handles[device_index];
}

cudaStream_t cuda_stream(int device_index) { return state(device_index).stream; }
cublasHandle_t cublas_handle(int device_index) { return state(device_index).cublas; }
CudaIndexFaults* cuda_index_faults(int device_index) { return state(device_index).faults; }

void cuda_synchronize(int device_index) {
  DeviceState& s = state(device_index);
  // The fault words ride along with the wait: one small copy queued before it, read after it.
  NCF_CUDA_CHECK(
      cudaMemcpyAsync(s.faults_host, s.faults, sizeof(CudaIndexFaults), cudaMemcpyDeviceToHost, s.stream));
  count_memory_op();
  NCF_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  count_host_sync();
  for (int op = 0; op < static_cast<int>(IndexOp::count); ++op) {
    const unsigned long long first = s.faults_host->first[op];
    if (first == kNoIndexFault) continue;
    reset_faults(s);  // reported once; the next wait starts clean
    const auto position = static_cast<int64_t>(first >> 32);
    const auto index = static_cast<int32_t>(static_cast<uint32_t>(first & 0xffffffffu));
    NCF_FAIL(index_op_name(static_cast<IndexOp>(op))
             << " on cuda:" << device_index << ": index " << index << " at position " << position
             << " is outside the table; the GPU skipped it and reports it at this synchronisation, the first "
                "after the op");
  }
}
void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

void* cuda_raw_allocate(size_t bytes, int device_index) {
  state(device_index);
  void* ptr = nullptr;
  count_raw_allocation();
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    NCF_FAIL("cudaMalloc of " << bytes << " bytes on cuda:" << device_index
                              << " failed: " << cudaGetErrorString(status));
  }
  return ptr;
}

void cuda_raw_free(void* ptr, int device_index) {
  count_raw_free();
  NCF_CUDA_CHECK(cudaFree(ptr));
}

void* cuda_pinned_allocate(size_t bytes) {
  void* ptr = nullptr;
  count_raw_allocation();
  const cudaError_t status = cudaHostAlloc(&ptr, bytes, cudaHostAllocDefault);
  if (status != cudaSuccess) {
    cudaGetLastError();
    NCF_FAIL("cudaHostAlloc of " << bytes
                                 << " bytes of pinned host memory failed: " << cudaGetErrorString(status));
  }
  return ptr;
}

void cuda_pinned_free(void* ptr) {
  if (ptr == nullptr) return;
  count_raw_free();
  // Called from destructors, so it never throws; a failure here (the runtime already shut down at
  // exit) leaves nothing to clean up anyway.
  if (cudaFreeHost(ptr) != cudaSuccess) cudaGetLastError();
}

}  // namespace ncf
