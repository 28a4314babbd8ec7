// IdMap: a two-way map between the raw ids of a file (any int64) and dense ids 0..n-1.
//
// Dense ids are handed out in order of first appearance, so the same file always gives the same
// numbering. Lookups use a flat open-addressing hash table (linear probing, power-of-two size):
// parsing MovieLens-20M looks up 40 million ids, and a node-based std::unordered_map would spend
// more time chasing pointers than the parser spends reading the file.
#pragma once

#include <cstdint>
#include <vector>

namespace ncf::data {

class IdMap {
 public:
  IdMap() = default;
  // A map over the given raw ids, dense id i <-> raw_ids[i]; the raw ids must be distinct.
  static IdMap from_raw_ids(std::vector<int64_t> raw_ids);
  // The identity map 0..n-1 (the NCF files' ids are already dense).
  static IdMap identity(int32_t n);

  int32_t size() const { return static_cast<int32_t>(raw_.size()); }
  bool empty() const { return raw_.empty(); }

  // Dense id of `raw`, or -1 when absent.
  int32_t find(int64_t raw) const {
    if (slots_.empty()) return -1;
    for (uint64_t slot = hash(raw) & mask_;; slot = (slot + 1) & mask_) {
      const int32_t dense = slots_[slot];
      if (dense < 0) return -1;
      if (raw_[dense] == raw) return dense;
    }
  }
  // Dense id of `raw`; ncf::Error when absent.
  int32_t dense(int64_t raw) const;
  // Raw id of a dense id (0 <= dense < size()).
  int64_t raw(int32_t dense) const { return raw_[dense]; }
  const std::vector<int64_t>& raw_ids() const { return raw_; }

  // Dense id of `raw`, adding it as the next id when new. ncf::Error past INT32_MAX ids.
  int32_t insert(int64_t raw);
  void reserve(int64_t expected_ids);

  bool operator==(const IdMap& other) const { return raw_ == other.raw_; }

 private:
  static uint64_t hash(int64_t raw) {  // a 64-bit mixer (MurmurHash3's finaliser): sequential ids spread out
    uint64_t x = static_cast<uint64_t>(raw);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
  }
  void rehash(uint64_t slot_count);

  std::vector<int64_t> raw_;    // dense -> raw
  std::vector<int32_t> slots_;  // hash slots holding dense ids, -1 = empty; load factor <= 1/2
  uint64_t mask_ = 0;
};

}  // namespace ncf::data
