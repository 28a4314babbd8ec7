// Philox4x32-10: a counter-based random number generator (Salmon et al., SC'11).
//
// A counter-based generator is a pure function: output = philox(counter, key). There is no
// hidden state to advance, so element i of a random tensor is simply philox(i, seed): a CPU loop
// and a CUDA grid compute the very same numbers in any order, on any number of threads. That is
// what lets this project promise identical negatives, shuffles and initial weights on both devices.
//
// Conventions used throughout the project:
//   key     = (low 32 bits of seed, high 32 bits of seed)
//   counter = (index low, index high, stream, 0)   `stream` separates independent uses of one seed
//                                                    (e.g. weight init of parameter #3, or epoch 7's
//                                                    negatives)
// Each call yields four 32-bit words; helpers below turn word 0 into floats and bounded integers.
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"

namespace ncf {

struct Philox4 {
  uint32_t v[4];
};

// 32x32 -> 64-bit multiply, split into high and low halves.
NCF_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

// Ten rounds of the Philox S-P network over a 128-bit counter with a 64-bit key.
NCF_HD Philox4 philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;    // round multipliers
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // key schedule (golden ratio, sqrt(3)-1)
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kMul0, counter.v[0], hi0, lo0);
    philox_mulhilo(kMul1, counter.v[2], hi1, lo1);
    counter = Philox4{{hi1 ^ counter.v[1] ^ key0, lo1, hi0 ^ counter.v[3] ^ key1, lo0}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

// The project's single entry point: four random words for (seed, stream, index).
NCF_HD Philox4 philox_draw(uint64_t seed, uint32_t stream, uint64_t index) {
  const Philox4 counter{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), stream, 0u}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform float in [0, 1): the top 24 bits of a word, exactly representable in f32.
NCF_HD float philox_unit_float(uint32_t word) { return static_cast<float>(word >> 8) * (1.0f / 16777216.0f); }

// Uniform double in [0, 1) from two words (53 bits).
NCF_HD double philox_unit_double(uint32_t hi_word, uint32_t lo_word) {
  const uint64_t bits = (static_cast<uint64_t>(hi_word) << 21) ^ (lo_word >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Integer in [0, n) by Lemire's multiply-shift (bias below 2^-32 * n: negligible for item counts).
NCF_HD uint32_t philox_below(uint32_t word, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(word) * n) >> 32);
}

// Standard normal by Box-Muller from two words; the same formula on host and device.
// Uses double internally so that CPU and GPU agree to the last float bit in practice.
NCF_HD float philox_normal(uint32_t word_a, uint32_t word_b) {
  const double u1 = (static_cast<double>(word_a) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]: log is finite
  const double u2 = static_cast<double>(word_b) * (1.0 / 4294967296.0);
  return static_cast<float>(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

}  // namespace ncf
