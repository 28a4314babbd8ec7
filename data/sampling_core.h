// The per-sample arithmetic of negative sampling and shuffling, as pure functions of
// (seed, epoch, index) marked NCF_HD so that a CUDA kernel runs exactly this code and draws exactly
// the samples the CPU draws. The CPU loops (negative_sampler.cpp) call these functions per index under
// OpenMP; a GPU port launches one thread per index and calls the same functions.
//
// Training negatives. Negative j of training positive p in epoch e is sample s = p*K + j, drawn from
// stream(train_negatives, e). Attempt 0 takes word s%4 of philox_draw(seed, stream, s/4), so four
// consecutive samples share one Philox call; attempt a >= 1 takes word (a-1)%4 of
// philox_draw(seed, stream, s | ((a-1)/4 + 1) << 40). Sample indices stay below 2^40, so retry counters
// never collide with first draws. A candidate, uniform in [0, num_items), is accepted unless the user
// trained on it. After 1 + 4 * kNegativeRetryBlocks rejections (only users who trained on most of the
// catalogue get there) the last candidate walks forward cyclically to the next item the user has not trained
// on: a deterministic end to the loop on both devices. How membership is tested does not change the result:
// the GPU binary-searches the user's sorted items, the CPU uses a per-user bitmap (faster).
//
// Evaluation negatives. For user u, attempt a uses word a%4 of philox_draw(seed, stream(eval_negatives),
// u << 32 | a/4); a candidate is rejected if the user ever interacted with it (training, validation or
// test item) or if it was already chosen, until N distinct items are found. When no more than N items
// remain the user gets all of them, in increasing order, then -1 padding.
//
// Shuffling. IndexPermutation is a keyed bijection sigma of [0, n): a few invertible rounds (xor with a
// key, multiply by an odd key, xor-shift) on the smallest power-of-two domain holding n, with cycle
// walking (re-apply until the value lands below n; fewer than 2 rounds on average). A shuffled epoch puts
// grouped row (or group) r at position sigma(r): one independent write per row, no sort.
#pragma once

#include <cstdint>

#include "data/random_streams.h"
#include "tensor/philox.h"

namespace ncf::data {

constexpr int kNegativeRetryBlocks = 16;  // retry draws (4 attempts each) before the cyclic walk
constexpr int kNegativeRetryShift = 40;   // sample index bits; the retry block goes above them

// True when `item` is in the sorted array items[0, count).
NCF_HD bool sorted_contains(const int32_t* items, int64_t count, int32_t item) {
  int64_t low = 0, high = count;
  while (low < high) {  // lower bound, branch-light
    const int64_t mid = (low + high) >> 1;
    if (items[mid] < item) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low < count && items[low] == item;
}

// One training negative, given the candidate word of attempt 0 and a membership test `trained(item)`.
template <class Trained>
NCF_HD int32_t training_negative_from(uint32_t first_word, const Trained& trained, int32_t num_items,
                                      uint64_t seed, uint32_t stream, uint64_t sample) {
  int32_t candidate = static_cast<int32_t>(philox_below(first_word, static_cast<uint32_t>(num_items)));
  if (!trained(candidate)) return candidate;
  for (int block = 1; block <= kNegativeRetryBlocks; ++block) {
    const Philox4 draw =
        philox_draw(seed, stream, sample | (static_cast<uint64_t>(block) << kNegativeRetryShift));
    for (int w = 0; w < 4; ++w) {
      candidate = static_cast<int32_t>(philox_below(draw.v[w], static_cast<uint32_t>(num_items)));
      if (!trained(candidate)) return candidate;
    }
  }
  for (;;) {  // a nearly saturated user: the next free item after the last candidate
    candidate = candidate + 1 == num_items ? 0 : candidate + 1;
    if (!trained(candidate)) return candidate;
  }
}

// One training negative for a user whose sorted training items are items[0, count) (a GPU thread's
// whole job). The caller guarantees count < num_items.
NCF_HD int32_t training_negative(const int32_t* items, int64_t count, int32_t num_items, uint64_t seed,
                                 uint32_t epoch, uint64_t sample) {
  const uint32_t stream = random_stream(RandomPurpose::train_negatives, epoch);
  const uint32_t first_word = philox_draw(seed, stream, sample >> 2).v[sample & 3];
  const auto trained = [&](int32_t item) { return sorted_contains(items, count, item); };
  return training_negative_from(first_word, trained, num_items, seed, stream, sample);
}

// Up to n evaluation negatives for one user into out[0, n); returns how many were found (the rest of
// out is -1). `reject(item, out, found)` says whether a candidate may not be taken: the user interacted
// with it or it is among out[0, found). `available` is how many items the user never interacted with.
template <class Reject>
NCF_HD int32_t eval_negatives_from(const Reject& reject, int64_t available, int32_t num_items, int32_t n,
                                   uint64_t seed, uint32_t user, int32_t* out) {
  int32_t found = 0;
  if (available <= n) {  // not enough to draw from: take every remaining item
    for (int32_t item = 0; item < num_items && found < n; ++item)
      if (!reject(item, out, found)) out[found++] = item;
  } else {
    const uint32_t stream = random_stream(RandomPurpose::eval_negatives);
    for (uint64_t block = 0; found < n; ++block) {
      const Philox4 draw = philox_draw(seed, stream, (static_cast<uint64_t>(user) << 32) | block);
      for (int w = 0; w < 4 && found < n; ++w) {
        const auto candidate =
            static_cast<int32_t>(philox_below(draw.v[w], static_cast<uint32_t>(num_items)));
        if (!reject(candidate, out, found)) out[found++] = candidate;
      }
    }
  }
  for (int32_t k = found; k < n; ++k) out[k] = -1;
  return found;
}

// The same for a user given by its sorted training items and its held-out (test/validation) items,
// which are not in training by construction.
NCF_HD int32_t eval_negatives_for_user(const int32_t* train_items, int64_t train_count,
                                       const int32_t* held_out, int held_out_count, int32_t num_items,
                                       int32_t n, uint64_t seed, uint32_t user, int32_t* out) {
  const auto reject = [&](int32_t item, const int32_t* chosen, int32_t found) {
    for (int h = 0; h < held_out_count; ++h)
      if (held_out[h] == item) return true;
    for (int32_t k = 0; k < found; ++k)
      if (chosen[k] == item) return true;
    return sorted_contains(train_items, train_count, item);
  };
  const int64_t available = static_cast<int64_t>(num_items) - train_count - held_out_count;
  return eval_negatives_from(reject, available, num_items, n, seed, user, out);
}

// A keyed bijection sigma of [0, n) (see the top comment). Build on the host with make(); apply anywhere.
struct IndexPermutation {
  static constexpr int kRounds = 4;
  uint64_t n = 0;
  uint64_t mask = 0;  // 2^bits - 1, the smallest power-of-two domain holding n
  int shift = 1;      // xor-shift distance: about half the bits
  uint64_t xor_key[kRounds] = {};
  uint64_t mul_key[kRounds] = {};  // odd

  static IndexPermutation make(uint64_t n, uint64_t seed, uint32_t stream) {
    IndexPermutation perm;
    perm.n = n;
    int bits = 0;
    while (bits < 64 && (uint64_t{1} << bits) < n) ++bits;
    perm.mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    perm.shift = bits / 2 > 0 ? bits / 2 : 1;
    for (int r = 0; r < kRounds; ++r) {
      const Philox4 draw = philox_draw(seed, stream, static_cast<uint64_t>(r));
      perm.xor_key[r] = ((static_cast<uint64_t>(draw.v[0]) << 32) | draw.v[1]) & perm.mask;
      perm.mul_key[r] = ((static_cast<uint64_t>(draw.v[2]) << 32) | draw.v[3]) | 1u;
    }
    return perm;
  }

  // One pass over the power-of-two domain: every step is invertible modulo 2^bits.
  NCF_HD uint64_t scramble(uint64_t x) const {
    for (int r = 0; r < kRounds; ++r) {
      x ^= xor_key[r];
      x = (x * mul_key[r]) & mask;  // spreads low bits upward
      x ^= x >> shift;              // and high bits back down
    }
    return x;
  }

  NCF_HD uint64_t operator()(uint64_t i) const {
    if (n <= 1) return 0;
    uint64_t x = scramble(i);
    while (x >= n) x = scramble(x);  // cycle walking stays a bijection on [0, n)
    return x;
  }
};

}  // namespace ncf::data
