// hash_bytes: four independent lanes of multiply-and-rotate over 8-byte words (so the loop runs at
// memory speed instead of one multiply's latency per word), folded together and finished with a
// 64-bit mixer. Every input bit and every position reaches every output bit.
#include "base/hash.h"

#include <cstring>

namespace ncf {

namespace {
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull, kPrime2 = 0xC2B2AE3D27D4EB4Full;

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t round(uint64_t lane, uint64_t word) { return rotl(lane + word * kPrime2, 31) * kPrime1; }

uint64_t finish(uint64_t h) {  // MurmurHash3's finaliser
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

uint64_t load_word(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);  // any alignment
  return word;
}
}  // namespace

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t lane[4] = {seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1};
  size_t at = 0;
  for (; at + 32 <= size; at += 32)
    for (int k = 0; k < 4; ++k) lane[k] = round(lane[k], load_word(p + at + 8 * k));
  uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + size;
  for (; at + 8 <= size; at += 8) h = rotl(h ^ round(0, load_word(p + at)), 27) * kPrime1 + kPrime2;
  for (; at < size; ++at) h = rotl(h ^ (p[at] * kPrime1), 11) * kPrime2;
  return finish(h);
}

}  // namespace ncf
