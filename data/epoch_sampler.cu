// The epoch sampler on the GPU: one thread per grouped row r = p*(1+K) + j of positive p.
//   j == 0: the positive (train_user[p], train_item[p], 1)
//   j >= 1: negative j-1 of p, drawn by training_negative() with the user's sorted items (binary
//           search), the same function and counters as the CPU sampler, so the same item
// The row is written at its shuffled place: sigma(r) for row shuffling, sigma(p)*(1+K) + j for group
// shuffling (sigma = IndexPermutation, a bijection, so every output row is written exactly once).
#include "data/epoch_sampler.h"
#include "data/random_streams.h"
#include "data/sampling_core.h"
#include "tensor/cuda_context.h"

namespace ncf::data {

namespace {
__global__ void sample_epoch_kernel(const int32_t* __restrict__ train_user,
                                    const int32_t* __restrict__ train_item,
                                    const int64_t* __restrict__ offsets, int64_t positives, int32_t num_items,
                                    int negatives, uint64_t seed, uint32_t epoch, int shuffle_mode,
                                    IndexPermutation sigma, int32_t* __restrict__ out_user,
                                    int32_t* __restrict__ out_item, float* __restrict__ out_label) {
  const int group = 1 + negatives;
  const int64_t rows = positives * group;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = r / group;
    const int j = static_cast<int>(r - p * group);
    const int32_t user = train_user[p];
    int32_t item;
    if (j == 0) {
      item = train_item[p];
    } else {
      const int64_t begin = offsets[user], count = offsets[user + 1] - begin;
      item = training_negative(train_item + begin, count, num_items, seed, epoch,
                               static_cast<uint64_t>(p) * negatives + (j - 1));
    }
    int64_t destination = r;  // ShuffleMode::none
    if (shuffle_mode == static_cast<int>(ShuffleMode::rows)) destination = static_cast<int64_t>(sigma(r));
    if (shuffle_mode == static_cast<int>(ShuffleMode::groups))
      destination = static_cast<int64_t>(sigma(p)) * group + j;
    out_user[destination] = user;
    out_item[destination] = item;
    out_label[destination] = j == 0 ? 1.0f : 0.0f;
  }
}
}  // namespace

void cuda_sample_epoch(const Tensor& train_user, const Tensor& train_item, const Tensor& train_offsets,
                       int32_t num_items, int negatives, uint64_t seed, uint32_t epoch, ShuffleMode shuffle,
                       EpochTensors& out) {
  const int64_t positives = train_user.numel();
  const int64_t rows = positives * (1 + negatives);
  const int64_t units = shuffle == ShuffleMode::groups ? positives : rows;
  const IndexPermutation sigma = IndexPermutation::make(static_cast<uint64_t>(units), seed,
                                                        random_stream(RandomPurpose::shuffle, epoch));
  const int device = out.users.device().index;
  sample_epoch_kernel<<<cuda_blocks_for(rows), 256, 0, cuda_stream(device)>>>(
      train_user.data<int32_t>(), train_item.data<int32_t>(),
      reinterpret_cast<const int64_t*>(train_offsets.data<int32_t>()), positives, num_items, negatives, seed,
      epoch, static_cast<int>(shuffle), sigma, out.users.data<int32_t>(), out.items.data<int32_t>(),
      out.labels.data<float>());
  NCF_CUDA_LAUNCH_CHECK("sample_epoch_kernel");
}

}  // namespace ncf::data
