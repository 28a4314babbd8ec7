// ItemBitmap: one user's items as bits over the catalogue, for O(1) membership tests on the CPU.
// Sampling loops set the bits of a user's training items, test many candidates, then clear the same
// bits (cost proportional to the user's items, not the catalogue). It answers exactly what a binary search
// in the sorted item list answers, so samples do not depend on which test is used.
#pragma once

#include <cstdint>
#include <vector>

namespace ncf::data {

class ItemBitmap {
 public:
  explicit ItemBitmap(int32_t num_items) : words_((static_cast<size_t>(num_items) + 63) / 64, 0) {}
  bool operator()(int32_t item) const { return (words_[item >> 6] >> (item & 63)) & 1u; }
  void set(int32_t item) { words_[item >> 6] |= uint64_t{1} << (item & 63); }
  void clear(int32_t item) { words_[item >> 6] &= ~(uint64_t{1} << (item & 63)); }
  void set(const int32_t* items, int64_t count) {
    for (int64_t k = 0; k < count; ++k) set(items[k]);
  }
  void clear(const int32_t* items, int64_t count) {
    for (int64_t k = 0; k < count; ++k) words_[items[k] >> 6] = 0;  // whole words: cheaper, same result
  }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace ncf::data
