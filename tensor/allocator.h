// Caching allocators: one per device. A training step asks for the same buffer sizes every step,
// so freed blocks are kept in per-size free lists and handed out again; in steady state a step
// makes no cudaMalloc (GPU) and no malloc of tensor memory (CPU). The counters below prove it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor/device.h"

namespace ncf {

struct AllocatorStats {
  size_t bytes_in_use = 0;       // handed out to live tensors (rounded sizes)
  size_t peak_bytes = 0;         // largest bytes_in_use seen
  size_t cached_bytes = 0;       // held in free lists, ready for reuse
  uint64_t requests = 0;         // allocate() calls
  uint64_t raw_allocations = 0;  // calls that reached cudaMalloc / aligned_alloc
};

class CachingAllocator {
 public:
  explicit CachingAllocator(Device device) : device_(device) {}
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Returns a block of at least `bytes` (64-byte aligned on the CPU, 256 on the GPU).
  void* allocate(size_t bytes);
  // Gives a block back to the cache; `bytes` is the size asked for in allocate().
  void release(void* ptr, size_t bytes);
  // Returns every cached block to the system.
  void empty_cache();
  AllocatorStats stats() const;

  // Sizes are rounded up so that nearby requests share a free list.
  static size_t rounded_size(size_t bytes);

 private:
  void* raw_allocate(size_t bytes);
  void raw_free(void* ptr);

  Device device_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;
  AllocatorStats stats_;
};

// The allocator of a device (created on first use; lives for the whole program).
CachingAllocator& allocator_for(Device device);

}  // namespace ncf
