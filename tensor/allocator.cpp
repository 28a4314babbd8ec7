#include "tensor/allocator.h"

#include <cstdlib>
#include <memory>

#include "base/error.h"

#ifdef NCF_HAS_CUDA
#include "tensor/cuda_context.h"
#endif

namespace ncf {

size_t CachingAllocator::rounded_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(1) << 20;  // 512 B granules below 1 MiB, 1 MiB above
  if (bytes == 0) bytes = 1;
  const size_t granule = bytes < kLarge ? kSmall : kLarge;
  return (bytes + granule - 1) / granule * granule;
}

void* CachingAllocator::raw_allocate(size_t bytes) {
  if (device_.is_cpu()) {
    void* ptr = std::aligned_alloc(64, bytes);  // bytes is a multiple of 512, as aligned_alloc needs
    NCF_CHECK(ptr != nullptr, "out of host memory allocating " << bytes << " bytes");
    return ptr;
  }
#ifdef NCF_HAS_CUDA
  return cuda_raw_allocate(bytes, device_.index);
#else
  NCF_FAIL("cannot allocate on " << device_.str() << ": this build has no CUDA");
#endif
}

void CachingAllocator::raw_free(void* ptr) {
  if (device_.is_cpu()) {
    std::free(ptr);
    return;
  }
#ifdef NCF_HAS_CUDA
  cuda_raw_free(ptr, device_.index);
#endif
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = rounded_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.requests;
  void* ptr = nullptr;
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    stats_.cached_bytes -= size;
  } else {
    try {
      ptr = raw_allocate(size);
    } catch (const Error&) {
      // Out of memory: give the cache back to the system and try once more.
      for (auto& [block_size, blocks] : free_blocks_)
        for (void* block : blocks) raw_free(block);
      free_blocks_.clear();
      stats_.cached_bytes = 0;
      ptr = raw_allocate(size);
    }
    ++stats_.raw_allocations;
  }
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes) stats_.peak_bytes = stats_.bytes_in_use;
  return ptr;
}

void CachingAllocator::release(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  const size_t size = rounded_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.bytes_in_use -= size;
  stats_.cached_bytes += size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, blocks] : free_blocks_)
    for (void* block : blocks) raw_free(block);
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

CachingAllocator::~CachingAllocator() {
  // The CUDA runtime may already be shut down at program exit; host blocks are freed, device
  // blocks are left to the driver, which reclaims them with the process.
  if (device_.is_cpu()) empty_cache();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

CachingAllocator& allocator_for(Device device) {
  // Leaked on purpose: tensors held in static objects may be freed after main() returns.
  static CachingAllocator* cpu = new CachingAllocator(Device::cpu());
  if (device.is_cpu()) return *cpu;
  require_device(device);
  static CachingAllocator* gpus[16] = {};
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  NCF_CHECK(device.index >= 0 && device.index < 16, "device index " << device.index << " out of range");
  if (!gpus[device.index]) gpus[device.index] = new CachingAllocator(device);
  return *gpus[device.index];
}

}  // namespace ncf
