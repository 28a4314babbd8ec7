// A fast 64-bit hash of bytes, for checksums and fingerprints (not for security): the data cache's
// checksum, and the fingerprint of the data a run was trained on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ncf {

// Hash of `size` bytes, continuing from `seed` (pass a previous result to hash several pieces).
uint64_t hash_bytes(const void* data, size_t size, uint64_t seed = 0);

// The bytes of a vector of plain values, with its length mixed in (so [1, 2] + [3] differs from [1] + [2,
// 3]).
template <class T>
uint64_t hash_vector(const std::vector<T>& values, uint64_t seed) {
  const uint64_t count = values.size();
  return hash_bytes(values.data(), values.size() * sizeof(T), hash_bytes(&count, sizeof count, seed));
}

}  // namespace ncf
