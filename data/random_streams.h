// The Philox stream numbers used by the data layer, one per purpose, so that no two uses of one seed
// ever draw the same numbers. A stream is 32 bits: the purpose in the top 8 bits, an epoch (or other
// small counter) in the low 24 bits.
#pragma once

#include <cstdint>

#include "tensor/philox.h"

namespace ncf::data {

enum class RandomPurpose : uint32_t {
  train_negatives = 0xD1,  // training negatives, low bits = epoch
  shuffle = 0xD2,          // per-epoch permutation keys, low bits = epoch
  eval_negatives = 0xD3,   // evaluation negatives (drawn once)
  user_sample = 0xD4,      // sample_users
  ratio_split = 0xD5,      // random ratio split
  synthetic = 0xD6,        // synthetic data generator (low bits name the quantity)
};

NCF_HD uint32_t random_stream(RandomPurpose purpose, uint32_t counter = 0) {
  return (static_cast<uint32_t>(purpose) << 24) | (counter & 0xFFFFFFu);
}

}  // namespace ncf::data
