// Pinned host buffers, asynchronous copies to the host and stream events (see pinned.h). Without
// CUDA, or for the CPU, each is its plain host equivalent.
#include "tensor/pinned.h"

#include <cstdlib>
#include <cstring>
#include <utility>

#ifdef NCF_HAS_CUDA
#include "tensor/cuda_context.h"
#endif

namespace ncf {

PinnedBuffer::PinnedBuffer(size_t bytes, Device device) : bytes_(bytes) {
  const size_t size = bytes > 0 ? bytes : 1;
#ifdef NCF_HAS_CUDA
  if (device.is_cuda()) {
    require_device(device);
    data_ = cuda_pinned_allocate(size);
    pinned_ = true;
    return;
  }
#endif
  data_ = std::malloc(size);
  NCF_CHECK(data_ != nullptr, "out of host memory allocating " << size << " bytes");
}

void PinnedBuffer::release() {
#ifdef NCF_HAS_CUDA
  if (pinned_) {
    cuda_pinned_free(data_);
    data_ = nullptr;
    return;
  }
#endif
  std::free(data_);
  data_ = nullptr;
}

PinnedBuffer::~PinnedBuffer() { release(); }

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      pinned_(std::exchange(other.pinned_, false)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    pinned_ = std::exchange(other.pinned_, false);
  }
  return *this;
}

void copy_to_host_async(const Tensor& src, void* dst) {
  if (src.nbytes() == 0) return;
  if (!src.is_cuda()) {
    std::memcpy(dst, src.raw_data(), src.nbytes());
    return;
  }
#ifdef NCF_HAS_CUDA
  NCF_CUDA_CHECK(cudaMemcpyAsync(dst, src.raw_data(), src.nbytes(), cudaMemcpyDeviceToHost,
                                 cuda_stream(src.device().index)));
  count_memory_op();
#endif
}

DeviceEvent::~DeviceEvent() {
#ifdef NCF_HAS_CUDA
  if (event_) cudaEventDestroy(static_cast<cudaEvent_t>(event_));  // never throws from a destructor
#endif
}

void DeviceEvent::record(Device device) {
  pending_ = false;
  if (!device.is_cuda()) return;  // CPU work is done when its call returns
#ifdef NCF_HAS_CUDA
  if (event_ && device != device_) {
    NCF_CUDA_CHECK(cudaEventDestroy(static_cast<cudaEvent_t>(event_)));
    event_ = nullptr;
  }
  if (!event_) {
    cudaEvent_t event = nullptr;
    // No timing: such an event is cheaper to record and to wait for.
    NCF_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    event_ = event;
  }
  device_ = device;
  NCF_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), cuda_stream(device.index)));
  pending_ = true;
#endif
}

void DeviceEvent::wait() {
  if (!pending_) return;
#ifdef NCF_HAS_CUDA
  NCF_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event_)));
  count_host_sync();
#endif
  pending_ = false;
}

}  // namespace ncf
