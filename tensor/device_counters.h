// Counters of what the host asks of a GPU: waits, kernel launches, library calls, memory operations
// and raw allocations, summed over all devices since the program started. They prove properties a
// timing cannot: that a steady-state training step never waits for the GPU and never reaches
// cudaMalloc (so it could be captured once as a CUDA Graph and replayed), and how many launches it
// costs. Each count is one relaxed atomic increment at the few places that do these things:
//   host_syncs       cuda_synchronize (every read of GPU data by the host goes through it: copies to
//                    and from host memory, to_vector(), item(), synchronize()) and DeviceEvent::wait
//   kernel_launches  NCF_CUDA_LAUNCH_CHECK, which follows every launch of our own kernels
//   library_calls    cuBLAS products and CUB algorithms (each launches one or more kernels of its own)
//   memory_ops       cudaMemsetAsync and cudaMemcpyAsync enqueued on a stream
//   raw_allocations  cudaMalloc and cudaHostAlloc; raw_frees: cudaFree and cudaFreeHost (cudaFree
//                    waits for the whole device)
// Plain C++ with no CUDA in it: a CPU-only build compiles it too, and every count stays zero there.
#pragma once

#include <atomic>
#include <cstdint>

namespace ncf {

struct DeviceCounters {
  uint64_t host_syncs = 0;
  uint64_t kernel_launches = 0;
  uint64_t library_calls = 0;
  uint64_t memory_ops = 0;
  uint64_t raw_allocations = 0;
  uint64_t raw_frees = 0;

  // What happened between two snapshots: later - earlier.
  DeviceCounters operator-(const DeviceCounters& earlier) const {
    return {host_syncs - earlier.host_syncs,           kernel_launches - earlier.kernel_launches,
            library_calls - earlier.library_calls,     memory_ops - earlier.memory_ops,
            raw_allocations - earlier.raw_allocations, raw_frees - earlier.raw_frees};
  }
};

namespace detail {
struct AtomicDeviceCounters {
  std::atomic<uint64_t> host_syncs{0}, kernel_launches{0}, library_calls{0}, memory_ops{0},
      raw_allocations{0}, raw_frees{0};
};
// One instance for the whole program (an inline variable: every translation unit shares it).
inline AtomicDeviceCounters g_device_counters;

inline void bump(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
}  // namespace detail

inline void count_host_sync() { detail::bump(detail::g_device_counters.host_syncs); }
inline void count_kernel_launch() { detail::bump(detail::g_device_counters.kernel_launches); }
inline void count_library_call() { detail::bump(detail::g_device_counters.library_calls); }
inline void count_memory_op() { detail::bump(detail::g_device_counters.memory_ops); }
inline void count_raw_allocation() { detail::bump(detail::g_device_counters.raw_allocations); }
inline void count_raw_free() { detail::bump(detail::g_device_counters.raw_frees); }

// A snapshot of every counter.
inline DeviceCounters device_counters() {
  const detail::AtomicDeviceCounters& c = detail::g_device_counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {c.host_syncs.load(relaxed), c.kernel_launches.load(relaxed), c.library_calls.load(relaxed),
          c.memory_ops.load(relaxed), c.raw_allocations.load(relaxed), c.raw_frees.load(relaxed)};
}

}  // namespace ncf
