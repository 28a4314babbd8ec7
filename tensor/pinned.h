// Copies from a GPU to the host without waiting at each one: page-locked ("pinned") host buffers,
// an asynchronous copy into them, and an event that says when the copies before it have landed.
//
// A copy into ordinary (pageable) host memory makes the host wait for the GPU and goes through a
// staging buffer; into pinned memory the copy engine writes directly, while the host and the GPU
// both keep working. A caller that reads many results (the evaluator: billions of scores for full
// ranking) enqueues the copy, records an event, does something else (ranks the previous chunk),
// and waits only when it needs the data.
//
// On the CPU (a CPU tensor, or a build without CUDA) the same calls work: the buffer is ordinary
// memory, the copy happens at once, and waiting is free; code using them needs no second path.
#pragma once

#include <cstddef>

#include "tensor/tensor.h"

namespace ncf {

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  // `bytes` of host memory, page-locked when `device` is a GPU.
  PinnedBuffer(size_t bytes, Device device);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }

 private:
  void release();
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool pinned_ = false;
};

// Starts copying src's bytes into dst (which must hold src.nbytes() bytes) on src's stream and returns:
// from a GPU the copy lands later (record a DeviceEvent after it and wait on that); from the CPU it
// is done on return.
void copy_to_host_async(const Tensor& src, void* dst);

// A point in a device's stream: wait() returns once everything enqueued before record() is done.
class DeviceEvent {
 public:
  DeviceEvent() = default;
  ~DeviceEvent();
  DeviceEvent(const DeviceEvent&) = delete;
  DeviceEvent& operator=(const DeviceEvent&) = delete;

  void record(Device device);
  void wait();  // a host wait (counted as one in device_counters()) when recorded on a GPU

 private:
  void* event_ = nullptr;  // a cudaEvent_t, created on first record on a GPU
  Device device_;
  bool pending_ = false;
};

}  // namespace ncf
