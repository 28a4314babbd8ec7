// Where a tensor lives. The CPU always answers; CUDA answers when the build has CUDA and the
// runtime finds a device (any failure of cudaGetDeviceCount, e.g. no driver, means "no GPU").
#pragma once

#include <ostream>
#include <string>

#include "base/error.h"

namespace ncf {

enum class DeviceKind : unsigned char { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool is_cuda() const { return kind == DeviceKind::cuda; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

// True when this build has CUDA and a GPU answers. Checked once, then cached.
bool cuda_available();
// Why cuda_available() is false ("built without CUDA", "cudaGetDeviceCount: ...").
std::string cuda_unavailable_reason();
// The GPU's name ("NVIDIA H100 80GB HBM3") or "cpu".
std::string device_name(Device device);
// "auto" -> cuda when available else cpu; "cpu"; "cuda" (an error naming the reason when none answers).
Device parse_device(const std::string& name);
// Throws a clear error when asked for CUDA where none answers.
void require_device(Device device);

}  // namespace ncf

// The one place where host code reaches an op family's CUDA side. NCF_ON_CUDA(cuda_unary(op, x, out))
// is the call itself in a build with CUDA. In a build without CUDA no tensor can live on a GPU (the
// allocator refuses), so the branch that holds it is never taken; there it becomes a throw that says
// so, rather than a reference to a function that was not compiled.
#ifdef NCF_HAS_CUDA
#define NCF_ON_CUDA(...) (__VA_ARGS__)
#else
#define NCF_ON_CUDA(...) ::ncf::throw_error(__FILE__, __LINE__, "this build has no CUDA")
#endif
