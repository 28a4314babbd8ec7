// Training samples of one epoch: every training positive followed by K fresh negatives, shuffled.
//
// Layout before shuffling ("grouped"): group p = rows p*(1+K) .. p*(1+K)+K: the positive
// (train_user[p], train_item[p], 1) then its K negatives (same user, label 0). All the per-sample work
// is in sampling_core.h (pure functions of seed, epoch and index) and the CPU runs it under OpenMP, so
// the result is the same for any thread count and a CUDA kernel can reproduce it exactly.
//
// Shuffle modes (a fresh Philox-keyed permutation sigma per epoch, see sampling_core.h):
//   rows    (default, what the paper's Keras code does): grouped row r goes to row sigma(r). Positives
//           and negatives are mixed across the whole epoch.
//   groups  group p goes to group position sigma(p) and stays whole: its 1+K rows share a user (lets a
//           model compute the user's part once per group); batch boundaries should be multiples of 1+K.
//   none    the grouped layout in training-pair order (for tests and debugging).
#pragma once

#include <cstdint>
#include <vector>

#include "data/implicit_dataset.h"

namespace ncf::data {

enum class ShuffleMode { rows, groups, none };

struct TrainingEpoch {
  std::vector<int32_t> user, item;
  std::vector<float> label;  // 1 for positives, 0 for negatives
  int32_t group_size = 1;    // 1 + K
  ShuffleMode shuffle = ShuffleMode::rows;
  uint32_t epoch = 0;
  int64_t size() const { return static_cast<int64_t>(user.size()); }
};

class TrainingSampler {
 public:
  // Keeps a reference to `data`, which must outlive the sampler. Throws ncf::Error when a user
  // trained on every item (no negative exists for it).
  TrainingSampler(const ImplicitDataset& data, int negatives = 4, uint64_t seed = 42,
                  ShuffleMode shuffle = ShuffleMode::rows);

  // Fills `out` with epoch `epoch`'s samples, reusing its buffers (no allocation after the first epoch).
  void sample(uint32_t epoch, TrainingEpoch& out);
  TrainingEpoch sample(uint32_t epoch);
  // The same rows into caller-owned arrays of rows_per_epoch() entries each (no copy).
  void sample(uint32_t epoch, int32_t* user, int32_t* item, float* label);

  int negatives() const { return negatives_; }
  int64_t rows_per_epoch() const { return data_->num_train() * (1 + negatives_); }
  const ImplicitDataset& data() const { return *data_; }

 private:
  const ImplicitDataset* data_;
  int negatives_;
  uint64_t seed_;
  ShuffleMode shuffle_;
  std::vector<int32_t> staging_;  // shuffle staging entries, reused across epochs
  std::vector<int64_t> cursors_;  // per thread and destination bucket
};

// The same epoch by the plain sequential algorithm, the reference the fast sampler is tested against
// and the place to read first: for each training positive p in order, emit the positive, then its
// K negatives (training_negative: binary search in the user's sorted items), then put unit r (a row,
// or with ShuffleMode::groups a whole group) at position sigma(r).
TrainingEpoch sample_epoch_reference(const ImplicitDataset& data, int negatives, uint64_t seed,
                                     ShuffleMode shuffle, uint32_t epoch);

}  // namespace ncf::data
