// One epoch of training samples, made where the model trains: on a GPU by a kernel that runs the
// per-sample functions of sampling_core.h (one thread per row), on the CPU by TrainingSampler. Both
// give the same rows bit for bit for a seed and an epoch, and a GPU's rows never cross the PCIe bus:
// the batches of the epoch are views of these tensors.
//
//   users, items: (rows,) i32    labels: (rows,) f32    rows = training positives x (1 + negatives)
#pragma once

#include <memory>

#include "data/negative_sampler.h"
#include "tensor/tensor.h"

namespace ncf::data {

struct EpochTensors {
  Tensor users, items, labels;
};

class EpochSampler {
 public:
  // Uploads the training pairs and the per-user item lists once (GPU); `data` must outlive this.
  EpochSampler(const ImplicitDataset& data, int negatives, uint64_t seed, Device device,
               ShuffleMode shuffle = ShuffleMode::rows);
  // Fills `out` (reusing its tensors when they fit) with epoch `epoch`'s rows.
  void sample(uint32_t epoch, EpochTensors& out);
  int64_t rows_per_epoch() const { return cpu_sampler_.rows_per_epoch(); }

 private:
  const ImplicitDataset& data_;
  int negatives_;
  uint64_t seed_;
  Device device_;
  ShuffleMode shuffle_;
  TrainingSampler cpu_sampler_;                     // the CPU path (and the reference for the GPU path)
  Tensor train_user_, train_item_, train_offsets_;  // on the GPU: (P,), (P,), (users + 1,) as i32 pairs
};

// The kernel's host side (epoch_sampler.cu; defined only in a build with CUDA). train_offsets holds
// int64 offsets as pairs of i32 words.
void cuda_sample_epoch(const Tensor& train_user, const Tensor& train_item, const Tensor& train_offsets,
                       int32_t num_items, int negatives, uint64_t seed, uint32_t epoch, ShuffleMode shuffle,
                       EpochTensors& out);

}  // namespace ncf::data
