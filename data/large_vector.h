// resize_large: std::vector::resize for the big columns of the data layer (tens of millions of rows),
// with the memory backed by transparent huge pages where the kernel offers them.
//
// Why: a fresh 400 MB column costs ~100,000 page faults at 4 KiB per page; on a virtual machine each
// costs microseconds, and the faults took longer than parsing the file. Asking for huge pages
// (madvise MADV_HUGEPAGE on the reserved, not yet touched memory) makes that ~200 faults of 2 MiB.
// The advice is only a hint: without huge pages (other systems, THP disabled) the result is the same.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ncf::data {

// Hints the kernel to back [data, data + bytes) with huge pages; only whole pages inside are advised.
inline void advise_huge_pages(const void* data, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

// v.resize(n), where growing allocates the new storage first (reserve touches no page), advises it,
// and only then lets resize write the new elements. Small sizes skip the advice.
template <class T>
void resize_large(std::vector<T>& v, size_t n) {
  constexpr size_t kWorthAdvising = size_t{4} << 20;  // below a few huge pages the advice buys nothing
  if (n > v.capacity() && n * sizeof(T) >= kWorthAdvising) {
    v.reserve(n);
    advise_huge_pages(v.data(), n * sizeof(T));
  }
  v.resize(n);
}

}  // namespace ncf::data
