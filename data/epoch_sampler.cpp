// EpochSampler: the CPU path (TrainingSampler, then a copy into the epoch tensors) and the upload
// of the training pairs for the GPU kernel (epoch_sampler.cu).
#include "data/epoch_sampler.h"

#include <cstring>

namespace ncf::data {

namespace {
Tensor fitting(Tensor& existing, int64_t rows, DType dtype, Device device) {
  if (existing.defined() && existing.numel() == rows && existing.dtype() == dtype &&
      existing.device() == device)
    return existing;
  return Tensor::empty({rows}, dtype, device);
}
}  // namespace

EpochSampler::EpochSampler(const ImplicitDataset& data, int negatives, uint64_t seed, Device device,
                           ShuffleMode shuffle)
    : data_(data),
      negatives_(negatives),
      seed_(seed),
      device_(device),
      shuffle_(shuffle),
      cpu_sampler_(data, negatives, seed, shuffle) {
  if (!device.is_cuda()) return;
  const int64_t positives = data.num_train();
  train_user_ = Tensor::from_vector(data.train_user, {positives}, device);
  train_item_ = Tensor::from_vector(data.train_item, {positives}, device);
  // int64 offsets travel as twice as many i32 words (the tensor library has no i64 dtype).
  std::vector<int32_t> words(data.train_offsets.size() * 2);
  std::memcpy(words.data(), data.train_offsets.data(), data.train_offsets.size() * sizeof(int64_t));
  train_offsets_ = Tensor::from_vector(words, {static_cast<int64_t>(words.size())}, device);
}

void EpochSampler::sample(uint32_t epoch, EpochTensors& out) {
  const int64_t rows = rows_per_epoch();
  out.users = fitting(out.users, rows, DType::i32, device_);
  out.items = fitting(out.items, rows, DType::i32, device_);
  out.labels = fitting(out.labels, rows, DType::f32, device_);
  if (device_.is_cuda())
    return NCF_ON_CUDA(cuda_sample_epoch(train_user_, train_item_, train_offsets_, data_.num_items,
                                         negatives_, seed_, epoch, shuffle_, out));
  // On the CPU the sampler writes into the tensors themselves: no second copy of the epoch
  // (12 bytes a row: 355 MB for the tutorial's 30 M rows).
  cpu_sampler_.sample(epoch, out.users.data<int32_t>(), out.items.data<int32_t>(), out.labels.data<float>());
}

}  // namespace ncf::data
