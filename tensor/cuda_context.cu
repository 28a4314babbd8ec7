// Per-device CUDA state: one stream and one cuBLAS handle per device, created on first use, and a
// cuSOLVER handle created the first time a factorisation asks for it.
#include "tensor/cuda_context.h"

#include <mutex>

#include "tensor/device.h"

namespace ncf {

namespace {
struct DeviceState {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
};

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
  });
  return states[device_index];
}
}  // namespace

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
void cuda_synchronize(int device_index) { NCF_CUDA_CHECK(cudaStreamSynchronize(cuda_stream(device_index))); }
void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

void* cuda_raw_allocate(size_t bytes, int device_index) {
  state(device_index);
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    NCF_FAIL("cudaMalloc of " << bytes << " bytes on cuda:" << device_index
                              << " failed: " << cudaGetErrorString(status));
  }
  return ptr;
}

void cuda_raw_free(void* ptr, int device_index) { NCF_CUDA_CHECK(cudaFree(ptr)); }

}  // namespace ncf
