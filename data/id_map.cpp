// IdMap construction and growth (lookups are inline in the header).
#include "data/id_map.h"

#include <limits>
#include <string>

#include "base/error.h"

namespace ncf::data {

IdMap IdMap::from_raw_ids(std::vector<int64_t> raw_ids) {
  IdMap map;
  map.reserve(static_cast<int64_t>(raw_ids.size()));
  for (int64_t raw : raw_ids) {
    NCF_CHECK(map.find(raw) < 0, "IdMap: raw id " << raw << " appears twice (at dense ids " << map.find(raw)
                                                  << " and " << map.size() << ")");
    map.insert(raw);
  }
  return map;
}

IdMap IdMap::identity(int32_t n) {
  std::vector<int64_t> raw(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) raw[i] = i;
  return from_raw_ids(std::move(raw));
}

int32_t IdMap::dense(int64_t raw) const {
  const int32_t id = find(raw);
  NCF_CHECK(id >= 0, "IdMap: unknown raw id " << raw << " (the map holds " << size() << " ids)");
  return id;
}

void IdMap::reserve(int64_t expected_ids) {
  uint64_t slots = 16;
  while (slots < 2 * static_cast<uint64_t>(expected_ids)) slots *= 2;
  if (slots > slots_.size()) rehash(slots);
  raw_.reserve(static_cast<size_t>(expected_ids));
}

void IdMap::rehash(uint64_t slot_count) {
  slots_.assign(slot_count, -1);
  mask_ = slot_count - 1;
  for (int32_t dense = 0; dense < size(); ++dense) {
    uint64_t slot = hash(raw_[dense]) & mask_;
    while (slots_[slot] >= 0) slot = (slot + 1) & mask_;
    slots_[slot] = dense;
  }
}

int32_t IdMap::insert(int64_t raw) {
  if (slots_.empty()) rehash(16);
  uint64_t slot = hash(raw) & mask_;
  for (;; slot = (slot + 1) & mask_) {
    const int32_t dense = slots_[slot];
    if (dense < 0) break;
    if (raw_[dense] == raw) return dense;
  }
  NCF_CHECK(raw_.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()),
            "IdMap: raw id " << raw << " would be distinct id number 2^31, more than dense int32 ids hold");
  const int32_t dense = size();
  raw_.push_back(raw);
  slots_[slot] = dense;
  if (2 * raw_.size() > slots_.size()) rehash(2 * slots_.size());
  return dense;
}

}  // namespace ncf::data
