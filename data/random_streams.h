// The Philox stream numbers used by the data layer, one per purpose, so that no two uses of one seed
// ever draw the same numbers. A stream is 32 bits: the purpose in the top 8 bits, an epoch (or other
// small counter) in the low 24 bits.
#pragma once

#include <cstdint>

#include "tensor/philox.h"

namespace ncf::data {

enum class RandomPurpose : uint32_t {
  kTrainNegatives = 0xD1,  // training negatives, low bits = epoch
  kShuffle = 0xD2,         // per-epoch permutation keys, low bits = epoch
  kEvalNegatives = 0xD3,   // evaluation negatives (drawn once)
  kUserSample = 0xD4,      // sample_users
  kRatioSplit = 0xD5,      // random ratio split
  kSynthetic = 0xD6,       // synthetic data generator (low bits name the quantity)
};

NCF_HD uint32_t random_stream(RandomPurpose purpose, uint32_t counter = 0) {
  return (static_cast<uint32_t>(purpose) << 24) | (counter & 0xFFFFFFu);
}

}  // namespace ncf::data
