#include "tensor/device.h"

#include <mutex>

#include "base/error.h"
#include "base/parse.h"

#ifdef NCF_HAS_CUDA
#include <cuda_runtime_api.h>
#endif

namespace ncf {

namespace {
// Asked once: every allocation checks its device (allocator_for -> require_device), and a driver call
// per allocation would cost more than the allocation itself.
struct CudaProbe {
  bool available = false;
  int count = 0;  // devices that answer
  std::string reason;
};

const CudaProbe& probe() {
  static const CudaProbe result = [] {
    CudaProbe p;
#ifdef NCF_HAS_CUDA
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      // No driver reports cudaErrorInsufficientDriver, not cudaErrorNoDevice: any failure is "no GPU".
      p.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(status);
      cudaGetLastError();  // clear the sticky error so later checks start clean
    } else if (count == 0) {
      p.reason = "no CUDA device found";
    } else {
      p.available = true;
      p.count = count;
    }
#else
    p.reason = "this build has no CUDA (no nvcc found, or NCF_WITH_CUDA=OFF)";
#endif
    return p;
  }();
  return result;
}
}  // namespace

bool cuda_available() { return probe().available; }
std::string cuda_unavailable_reason() { return probe().available ? "" : probe().reason; }

std::string device_name(Device device) {
  if (device.is_cpu()) return "cpu";
#ifdef NCF_HAS_CUDA
  require_device(device);
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, device.index) == cudaSuccess) return properties.name;
#endif
  return device.str();
}

void require_device(Device device) {
  if (device.is_cpu()) return;
  NCF_CHECK(cuda_available(), "CUDA was asked for (" << device.str()
                                                     << ") but no GPU answers: " << cuda_unavailable_reason()
                                                     << "; use the CPU (--device cpu)");
  NCF_CHECK(device.index >= 0 && device.index < probe().count,
            "CUDA device " << device.index << " asked for, but " << probe().count << " device(s) answer");
}

Device parse_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  if (name == "cpu") return Device::cpu();
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    const std::optional<int64_t> index = name == "cuda" ? 0 : to_int64(name.substr(5));
    NCF_CHECK(index && *index >= 0 && *index < 16,
              "unknown device '" << name << "': expected auto, cpu, cuda or cuda:N with N a GPU index");
    Device device = Device::cuda(static_cast<int>(*index));
    require_device(device);
    return device;
  }
  NCF_FAIL("unknown device '" << name << "': expected auto, cpu, cuda or cuda:N");
}

}  // namespace ncf
