// TrainingSampler: the epoch's negatives and its shuffle on the CPU, with OpenMP.
//
// Negatives are drawn in grouped order (positive p = 0..P-1, which runs user by user), so each thread
// loads one user's training items into an ItemBitmap once and tests all of that user's candidates in O(1).
//
// The shuffle puts unit r (a row, or a whole group) at position sigma(r). Written naively that is one
// random write per row into arrays of hundreds of MB, and at 100M rows the cache and TLB misses cost
// seconds. So the CPU does the same placement in two cache-friendly passes, bucketing by destination:
//   count:   each thread counts, per destination bucket (at most 256 runs of consecutive positions), the
//            units of its range of groups that land there;
//   scatter: each thread writes its units (destination offset, user, item[s]) into the bucket's slice of a
//            staging buffer: 256 sequential write streams, which the L1 cache can combine;
//   place:   each bucket's entries go to their final positions, random writes within a region that fits
//            in the last-level cache.
// With ShuffleMode::rows the bucket slices are the output arrays themselves (user, item, and the offset
// with the label bit parked in the label array), and the place pass permutes each bucket through a
// bucket-sized buffer: no epoch-sized staging buffer (it was 12 bytes a row). Destinations are then
// computed twice (sigma is a few multiplies).
// The result is exactly "unit r at sigma(r)", whatever the thread count, and what a GPU kernel computes
// with one thread per unit.
#include "data/negative_sampler.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "base/error.h"
#include "data/item_bitmap.h"
#include "data/random_streams.h"
#include "data/sampling_core.h"
#include "tensor/cpu_parallel.h"

namespace ncf::data {
namespace {

// Calls emit(p, j, negative) for every negative j of positives [p_begin, p_end), in order.
template <class Emit>
void sample_negatives(const ImplicitDataset& d, int k, uint64_t seed, uint32_t epoch, int64_t p_begin,
                      int64_t p_end, ItemBitmap& trained, const Emit& emit) {
  const uint32_t stream = random_stream(RandomPurpose::train_negatives, epoch);
  int32_t current = -1;
  uint64_t block = ~uint64_t{0};
  Philox4 draw{};
  for (int64_t p = p_begin; p < p_end; ++p) {
    const int32_t u = d.train_user[p];
    if (u != current) {
      if (current >= 0) trained.clear(d.user_items(current), d.user_count(current));
      trained.set(d.user_items(u), d.user_count(u));
      current = u;
    }
    for (int j = 0; j < k; ++j) {
      const uint64_t sample = static_cast<uint64_t>(p) * k + j;
      if ((sample >> 2) != block) {  // four consecutive samples share one draw
        block = sample >> 2;
        draw = philox_draw(seed, stream, block);
      }
      emit(p, j, training_negative_from(draw.v[sample & 3], trained, d.num_items, seed, stream, sample));
    }
  }
  if (current >= 0) trained.clear(d.user_items(current), d.user_count(current));
}

// First positive of thread t's share of the positives.
int64_t share_begin(int64_t positives, int threads, int t) { return positives * t / threads; }

}  // namespace

TrainingSampler::TrainingSampler(const ImplicitDataset& data, int negatives, uint64_t seed,
                                 ShuffleMode shuffle)
    : data_(&data), negatives_(negatives), seed_(seed), shuffle_(shuffle) {
  NCF_CHECK(negatives >= 0, "TrainingSampler: the negative count must be >= 0, got " << negatives);
  for (int32_t u = 0; u < data.num_users; ++u) {
    if (negatives > 0 && data.user_count(u) >= data.num_items)
      NCF_FAIL("TrainingSampler: user " << u << " trained on all " << data.num_items
                                        << " items, so no negative can be drawn");
  }
}

TrainingEpoch TrainingSampler::sample(uint32_t epoch) {
  TrainingEpoch out;
  sample(epoch, out);
  return out;
}

void TrainingSampler::sample(uint32_t epoch, TrainingEpoch& out) {
  const int64_t rows = rows_per_epoch();
  out.user.resize(rows);
  out.item.resize(rows);
  out.label.resize(rows);
  out.group_size = 1 + negatives_;
  out.shuffle = shuffle_;
  out.epoch = epoch;
  sample(epoch, out.user.data(), out.item.data(), out.label.data());
}

void TrainingSampler::sample(uint32_t epoch, int32_t* out_user, int32_t* out_item, float* out_label) {
  const ImplicitDataset& d = *data_;
  const int64_t positives = d.num_train();
  const int k = negatives_;
  const int group = 1 + k;
  const int64_t rows = positives * group;
  const uint64_t seed = seed_;

  if (shuffle_ == ShuffleMode::none) {
#pragma omp parallel num_threads(::ncf::cpu_threads())
    {
      ItemBitmap trained(d.num_items);
      const int t = omp_get_thread_num(), threads = omp_get_num_threads();
      const int64_t begin = share_begin(positives, threads, t), end = share_begin(positives, threads, t + 1);
      for (int64_t p = begin; p < end; ++p) {
        std::fill_n(out_user + p * group, group, d.train_user[p]);
        out_item[p * group] = d.train_item[p];
        out_label[p * group] = 1.0f;
      }
      sample_negatives(d, k, seed, epoch, begin, end, trained, [&](int64_t p, int j, int32_t negative) {
        out_item[p * group + 1 + j] = negative;
        out_label[p * group + 1 + j] = 0.0f;
      });
    }
    return;
  }

  // Units: rows (ShuffleMode::rows) or groups (ShuffleMode::groups). A staging entry is [offset in bucket |
  // label << 31, user, item] for a row, [offset in bucket, user, item x group] for a group.
  const bool by_rows = shuffle_ == ShuffleMode::rows;
  const int64_t units = by_rows ? rows : positives;
  const int per_unit = by_rows ? 1 : group;
  const int stride = 2 + per_unit;
  const IndexPermutation sigma = IndexPermutation::make(static_cast<uint64_t>(units), seed,
                                                        random_stream(RandomPurpose::shuffle, epoch));
  int bucket_bits = 12;  // at most ~256 buckets, each at least 4096 units
  while ((units >> bucket_bits) >= 256) ++bucket_bits;
  const int kBucketBits = bucket_bits;
  const int64_t buckets = (units >> kBucketBits) + 1;
  if (by_rows) {
    std::vector<int32_t>().swap(staging_);  // rows stage in the output arrays
  } else {
    staging_.resize(static_cast<size_t>(units) * stride);
  }
  int32_t* staging = staging_.data();
  const bool keep_destinations = !by_rows && static_cast<uint64_t>(units) <= (uint64_t{1} << 32);
  auto* destination = reinterpret_cast<uint32_t*>(out_item);  // rows >= units slots
  auto destination_of = [&](int64_t unit) {
    return keep_destinations ? static_cast<uint64_t>(destination[unit]) : sigma(static_cast<uint64_t>(unit));
  };

#pragma omp parallel num_threads(::ncf::cpu_threads())
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
#pragma omp single
    cursors_.assign(static_cast<size_t>(threads) * buckets, 0);
    int64_t* cursor = cursors_.data() + static_cast<int64_t>(t) * buckets;
    const int64_t p_begin = share_begin(positives, threads, t),
                  p_end = share_begin(positives, threads, t + 1);
    const int64_t u_begin = by_rows ? p_begin * group : p_begin, u_end = by_rows ? p_end * group : p_end;
    // sigma is computed once per unit: the destinations wait in out_item (overwritten by the place pass)
    // when they fit in 32 bits, else they are recomputed in the scatter pass.
    for (int64_t unit = u_begin; unit < u_end; ++unit) {
      const uint64_t to = sigma(static_cast<uint64_t>(unit));
      if (keep_destinations) destination[unit] = static_cast<uint32_t>(to);
      ++cursor[to >> kBucketBits];
    }
#pragma omp barrier
#pragma omp single
    for (int64_t b = 0; b < buckets; ++b) {  // thread t's slice of bucket b starts after threads < t
      int64_t at = b << kBucketBits;
      for (int other = 0; other < threads; ++other) {
        int64_t& c = cursors_[static_cast<size_t>(other) * buckets + b];
        const int64_t count = c;
        c = at;
        at += count;
      }
    }
    // (the single's implied barrier publishes the cursors)
    ItemBitmap trained(d.num_items);
    auto stage = [&](int64_t unit, int32_t user, int32_t item, bool positive) {
      const uint64_t to = destination_of(unit);
      const int64_t at = cursor[to >> kBucketBits]++;
      const uint32_t head =
          static_cast<uint32_t>(to & ((1u << kBucketBits) - 1)) | (positive ? 0x80000000u : 0u);
      out_user[at] = user;
      out_item[at] = item;
      std::memcpy(out_label + at, &head, sizeof head);  // the label slot parks the head until placed
    };
    if (by_rows) {
      int64_t last_p = -1;
      sample_negatives(d, k, seed, epoch, p_begin, p_end, trained, [&](int64_t p, int j, int32_t negative) {
        if (p != last_p) stage(p * group, d.train_user[p], d.train_item[p], true), last_p = p;
        stage(p * group + 1 + j, d.train_user[p], negative, false);
      });
      if (k == 0)
        for (int64_t p = p_begin; p < p_end; ++p) stage(p, d.train_user[p], d.train_item[p], true);
    } else {
      int32_t* entry = nullptr;
      int64_t last_p = -1;
      auto open_group = [&](int64_t p) {
        const uint64_t to = destination_of(p);
        entry = staging + cursor[to >> kBucketBits]++ * stride;
        entry[0] = static_cast<int32_t>(to & ((1u << kBucketBits) - 1));
        entry[1] = d.train_user[p];
        entry[2] = d.train_item[p];
        last_p = p;
      };
      sample_negatives(d, k, seed, epoch, p_begin, p_end, trained, [&](int64_t p, int j, int32_t negative) {
        if (p != last_p) open_group(p);
        entry[3 + j] = negative;
      });
      if (k == 0)
        for (int64_t p = p_begin; p < p_end; ++p) open_group(p);
    }
#pragma omp barrier
    // Place: bucket b's entries fill positions [b << kBucketBits, ...) in some order; each lands at its
    // offset.
    std::vector<int32_t> bucket_user, bucket_item;
    std::vector<uint32_t> bucket_head;
#pragma omp for schedule(dynamic, 4)
    for (int64_t b = 0; b < buckets; ++b) {
      const int64_t first = b << kBucketBits, last = std::min(units, (b + 1) << kBucketBits);
      if (by_rows) {  // the bucket's entries sit in its own output slice: permute it through a copy
        const size_t n = static_cast<size_t>(last - first);
        bucket_user.assign(out_user + first, out_user + last);
        bucket_item.assign(out_item + first, out_item + last);
        bucket_head.resize(n);
        std::memcpy(bucket_head.data(), out_label + first, n * sizeof(uint32_t));
        for (size_t e = 0; e < n; ++e) {
          const int64_t unit_at = first + (bucket_head[e] & 0x7FFFFFFFu);
          out_user[unit_at] = bucket_user[e];
          out_item[unit_at] = bucket_item[e];
          out_label[unit_at] = bucket_head[e] >> 31 ? 1.0f : 0.0f;
        }
        continue;
      }
      for (int64_t e = first; e < last; ++e) {
        const int32_t* entry = staging + e * stride;
        const auto head = static_cast<uint32_t>(entry[0]);
        const int64_t unit_at = first + (head & 0x7FFFFFFFu);
        const int64_t row = unit_at * group;
        for (int s = 0; s < group; ++s) {
          out_user[row + s] = entry[1];
          out_item[row + s] = entry[2 + s];
          out_label[row + s] = s == 0 ? 1.0f : 0.0f;
        }
      }
    }
  }
}

TrainingEpoch sample_epoch_reference(const ImplicitDataset& d, int negatives, uint64_t seed,
                                     ShuffleMode shuffle, uint32_t epoch) {
  const int group = 1 + negatives;
  const int64_t rows = d.num_train() * group;
  // The grouped layout: positive p at row p * group, its negatives after it.
  std::vector<int32_t> user(rows), item(rows);
  std::vector<float> label(rows);
  for (int64_t p = 0; p < d.num_train(); ++p) {
    const int32_t u = d.train_user[p];
    for (int j = 0; j < group; ++j) {
      const int64_t row = p * group + j;
      user[row] = u;
      label[row] = j == 0 ? 1.0f : 0.0f;
      item[row] = j == 0 ? d.train_item[p]
                         : training_negative(d.user_items(u), d.user_count(u), d.num_items, seed, epoch,
                                             static_cast<uint64_t>(p) * negatives + (j - 1));
    }
  }
  TrainingEpoch out;
  out.group_size = group;
  out.shuffle = shuffle;
  out.epoch = epoch;
  if (shuffle == ShuffleMode::none) {
    out.user = std::move(user), out.item = std::move(item), out.label = std::move(label);
    return out;
  }
  // Unit r goes to position sigma(r); a unit is one row, or one group of `group` rows.
  const int64_t unit_rows = shuffle == ShuffleMode::rows ? 1 : group;
  const IndexPermutation sigma = IndexPermutation::make(static_cast<uint64_t>(rows / unit_rows), seed,
                                                        random_stream(RandomPurpose::shuffle, epoch));
  out.user.resize(rows), out.item.resize(rows), out.label.resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t to =
        static_cast<int64_t>(sigma(static_cast<uint64_t>(r / unit_rows))) * unit_rows + r % unit_rows;
    out.user[to] = user[r];
    out.item[to] = item[r];
    out.label[to] = label[r];
  }
  return out;
}

}  // namespace ncf::data
