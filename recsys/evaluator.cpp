// Ranking evaluation (see evaluator.h): candidate rows are scored in chunks on the device; the scores
// travel to the host in large groups, where ranks are counted in parallel.
//
// On a GPU a group's chunks are copied, device to device and without waiting, into one staging
// tensor; the whole group then goes to the host in one asynchronous copy into one of two pinned host
// buffers, and the host ranks that group while the GPU already scores the next. Full ranking on
// ML-20M (138k users x 27k items, 3.7e9 scores) thus makes about 220 transfers of 64 MiB with 220
// waits, where one synchronous pageable copy per 2^18-row chunk made 14,000 round trips. Full ranking
// scores through a BlockScorer (recsys/block_scorer.h): one GEMM per block of users for the bilinear
// models, every pair through the Scorer for the others. On the CPU the same code runs with plain
// buffers and immediate copies.
#include "recsys/evaluator.h"

#include <algorithm>
#include <cstring>

#include "autograd/variable.h"
#include "recsys/block_scorer.h"
#include "tensor/cpu_parallel.h"
#include "tensor/ops/index.h"
#include "tensor/pinned.h"

namespace ncf::recsys {

// Two host buffers (pinned on a GPU) and, on a GPU, one device staging tensor of `capacity` scores.
class ScoreTransfer {
 public:
  ScoreTransfer(Device device, int64_t capacity) : device_(device), capacity_(capacity) {
    for (PinnedBuffer& buffer : host_)
      buffer = PinnedBuffer(static_cast<size_t>(capacity) * sizeof(float), device);
    if (device.is_cuda()) staging_ = Tensor::empty({capacity}, DType::f32, device);
  }
  int64_t capacity() const { return capacity_; }
  Device device() const { return device_; }

  // Puts one chunk of scores (n,) f32 at row `offset` of the group being filled in `slot`.
  void put(int slot, int64_t offset, const Tensor& scores) {
    const int64_t n = scores.numel();
    NCF_CHECK(offset + n <= capacity_, "score transfer: rows [" << offset << ", " << offset + n
                                                                << ") past its capacity " << capacity_);
    if (device_.is_cuda()) {
      staging_.rows(offset, offset + n).copy_from(scores.view({n}));  // device to device: no wait
    } else {
      copy_to_host_async(scores, host_[slot].as<float>() + offset);  // a memcpy
    }
  }
  // Ends the group in `slot` (its first `rows` rows): starts its copy to the host. The staging tensor
  // may be refilled at once: the next group's copies into it queue behind this one on the stream.
  void send(int slot, int64_t rows) {
    if (device_.is_cuda()) copy_to_host_async(staging_.rows(0, rows), host_[slot].data());
    ready_[slot].record(device_);
  }
  // The scores of the group sent from `slot`, once they have arrived.
  const float* receive(int slot) {
    ready_[slot].wait();
    return host_[slot].as<float>();
  }

 private:
  Device device_;
  int64_t capacity_;
  PinnedBuffer host_[2];
  DeviceEvent ready_[2];
  Tensor staging_;
};

Scorer model_scorer(ScoringModel& model) {
  return [&model](const Tensor& users, const Tensor& items) {
    ag::NoGradGuard no_grad;
    const bool was_training = model.is_training();
    model.eval();
    Tensor scores = model.forward(users, items).value();
    model.train(was_training);
    return scores.view({scores.numel()});
  };
}

Scorer popularity_scorer(const data::ImplicitDataset& data, Device device) {
  std::vector<float> popularity(data.item_popularity.begin(), data.item_popularity.end());
  const Tensor table = Tensor::from_vector(popularity, {static_cast<int64_t>(popularity.size()), 1}, device);
  return [table](const Tensor& users, const Tensor& items) {
    return ops::gather_rows(table, items).view({items.numel()});
  };
}

Evaluator::Evaluator(const data::ImplicitDataset& data, Device device, int64_t k, Heldout heldout,
                     int64_t chunk_rows, int64_t transfer_rows)
    : data_(data),
      device_(device),
      k_(k),
      chunk_rows_(chunk_rows > 0     ? chunk_rows
                  : device.is_cuda() ? 1 << 18
                                     : 1 << 14),
      // On a GPU, 64 MiB of f32 per transfer: large enough that the copy runs at the link's bandwidth
      // and its wait is a small share of the time. On the CPU a group is one chunk.
      transfer_rows_(transfer_rows > 0  ? transfer_rows
                     : device.is_cuda() ? int64_t(1) << 24
                                        : chunk_rows_) {
  NCF_CHECK(k >= 1, "evaluation cut-off k must be >= 1, got " << k);
  const std::vector<int32_t>& heldout_items =
      heldout == Heldout::test ? data.test_item : data.validation_item;
  for (int32_t u = 0; u < data.num_users; ++u) {
    if (u < static_cast<int32_t>(heldout_items.size()) && heldout_items[u] >= 0) {
      eval_users_.push_back(u);
      positives_.push_back(heldout_items[u]);
    }
  }
  // One row per user: the positive, then its negatives; padding (-1) becomes the positive, which the
  // set rule then drops, so every row has the same width and one flat array serves all users.
  row_width_ = 1 + data.eval_negatives_per_user;
  std::vector<int32_t> users(eval_users_.size() * row_width_);
  sampled_items_host_.resize(users.size());
  for (size_t r = 0; r < eval_users_.size(); ++r) {
    const int32_t u = eval_users_[r];
    const int32_t* negatives = data.user_eval_negatives(u);
    int32_t* row = sampled_items_host_.data() + r * row_width_;
    row[0] = positives_[r];
    for (int64_t j = 0; j < data.eval_negatives_per_user; ++j)
      row[1 + j] = negatives[j] >= 0 ? negatives[j] : positives_[r];
    std::fill(users.begin() + r * row_width_, users.begin() + (r + 1) * row_width_, u);
  }
  const int64_t n = static_cast<int64_t>(users.size());
  sampled_users_ = Tensor::from_vector(users, {n}, device);
  sampled_items_ = Tensor::from_vector(sampled_items_host_, {n}, device);
}

Evaluator::~Evaluator() = default;

ScoreTransfer& Evaluator::transfer(int64_t capacity) const {
  if (!transfer_ || transfer_->capacity() < capacity) {
    transfer_.reset();  // the old buffers go first: at most one set is held
    transfer_ = std::make_unique<ScoreTransfer>(device_, capacity);
  }
  return *transfer_;
}

// Scores `groups` groups of rows and hands each group's scores, on the host, to rank_group(g, scores), while
// the device already scores group g + 1. fill(g, put) scores group g by chunks, calling
// put(offset, scores) for each, and returns the group's number of rows.
template <class Fill, class Rank>
void Evaluator::score_in_groups(int64_t group_rows, int64_t groups, const Fill& fill,
                                const Rank& rank_group) const {
  ScoreTransfer& scores = transfer(group_rows);
  auto enqueue = [&](int64_t g) {
    const int slot = static_cast<int>(g % 2);
    const int64_t rows =
        fill(g, [&](int64_t offset, const Tensor& chunk) { scores.put(slot, offset, chunk); });
    scores.send(slot, rows);
  };
  if (groups > 0) enqueue(0);
  for (int64_t g = 0; g < groups; ++g) {
    if (g + 1 < groups) enqueue(g + 1);  // its buffer is free: the host ranked group g - 1 already
    rank_group(g, scores.receive(static_cast<int>(g % 2)));
  }
  synchronize(device_);  // a bad index met while scoring is reported here (tensor/cuda_context.h)
}

RankingMetrics Evaluator::sampled(const Scorer& scorer) const {
  std::vector<int64_t> ranks, counts;
  sampled_ranks(scorer, 0, static_cast<int64_t>(eval_users_.size()), ranks, counts);
  return ranking_metrics(ranks, counts, k_);
}

void Evaluator::sampled_ranks(const Scorer& scorer, int64_t user_begin, int64_t user_end,
                              std::vector<int64_t>& ranks, std::vector<int64_t>& counts) const {
  NCF_CHECK(0 <= user_begin && user_begin <= user_end && user_end <= static_cast<int64_t>(eval_users_.size()),
            "sampled_ranks: users [" << user_begin << ", " << user_end << ") out of range for "
                                     << eval_users_.size() << " evaluation users");
  const int64_t n_users = user_end - user_begin;
  ranks.assign(n_users, 0);
  counts.assign(n_users, 0);
  if (n_users == 0) return;
  // Whole users per chunk, whole chunks per group (one transfer).
  const int64_t users_per_chunk = std::max<int64_t>(1, chunk_rows_ / row_width_);
  const int64_t users_per_group = std::min(
      n_users, std::max<int64_t>(1, transfer_rows_ / row_width_ / users_per_chunk) * users_per_chunk);
  const int64_t groups = (n_users + users_per_group - 1) / users_per_group;
  auto fill = [&](int64_t g, const auto& put) {
    const int64_t first = g * users_per_group, count = std::min(users_per_group, n_users - first);
    for (int64_t c = 0; c < count; c += users_per_chunk) {
      const int64_t begin = (user_begin + first + c) * row_width_;
      const int64_t end = (user_begin + first + std::min(count, c + users_per_chunk)) * row_width_;
      put(c * row_width_, scorer(sampled_users_.rows(begin, end), sampled_items_.rows(begin, end)));
    }
    return count * row_width_;
  };
  auto rank_group = [&](int64_t g, const float* group_scores) {
    const int64_t first = g * users_per_group, count = std::min(users_per_group, n_users - first);
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
    for (int64_t j = 0; j < count; ++j) {
      const int64_t r = first + j;
      const float* s = group_scores + j * row_width_;
      const int32_t* items = sampled_items_host_.data() + (user_begin + r) * row_width_;
      ranks[r] = rank_of_positive(s[0], s + 1, items + 1, items[0], row_width_ - 1);
      counts[r] = count_candidates(items + 1, items[0], row_width_ - 1);
    }
  };
  score_in_groups(users_per_group * row_width_, groups, fill, rank_group);
}

RankingMetrics Evaluator::full_ranking(const Scorer& scorer) const {
  return full_ranking(pairwise_block_scorer(scorer, data_.num_items, device_, chunk_rows_));
}

RankingMetrics Evaluator::full_ranking(const BlockScorer& scorer) const {
  std::vector<int64_t> ranks, counts;
  full_ranking_ranks(scorer, 0, static_cast<int64_t>(eval_users_.size()), ranks, counts);
  return ranking_metrics(ranks, counts, k_);
}

void Evaluator::full_ranking_ranks(const BlockScorer& scorer, int64_t user_begin, int64_t user_end,
                                   std::vector<int64_t>& ranks, std::vector<int64_t>& counts) const {
  NCF_CHECK(0 <= user_begin && user_begin <= user_end && user_end <= static_cast<int64_t>(eval_users_.size()),
            "full_ranking_ranks: users [" << user_begin << ", " << user_end << ") out of range for "
                                          << eval_users_.size() << " evaluation users");
  const int64_t n_items = data_.num_items, n_users = user_end - user_begin;
  NCF_CHECK(scorer.items == n_items,
            "full ranking: the scorer scores " << scorer.items << " items, the data has " << n_items);
  ranks.assign(n_users, 0);
  counts.assign(n_users, 0);
  if (n_users == 0 || n_items == 0) return;
  // Every item for a block of users: (users_in_block, n_items) scores at once; whole blocks per
  // group (one transfer).
  const int64_t users_per_chunk = std::max<int64_t>(1, chunk_rows_ / n_items);
  const int64_t users_per_group =
      std::min(n_users, std::max<int64_t>(1, transfer_rows_ / n_items / users_per_chunk) * users_per_chunk);
  const int64_t groups = (n_users + users_per_group - 1) / users_per_group;
  auto fill = [&](int64_t g, const auto& put) {
    const int64_t first = g * users_per_group, count = std::min(users_per_group, n_users - first);
    for (int64_t c = 0; c < count; c += users_per_chunk) {
      const auto begin = eval_users_.begin() + user_begin + first + c;
      const std::vector<int32_t> users(begin, begin + std::min(users_per_chunk, count - c));
      put(c * n_items, scorer.score(users));
    }
    return count * n_items;
  };
  auto rank_group = [&](int64_t g, const float* group_scores) {
    const int64_t first = g * users_per_group, count = std::min(users_per_group, n_users - first);
#pragma omp parallel for num_threads(::ncf::cpu_threads()) schedule(static)
    for (int64_t j = 0; j < count; ++j) {
      const int64_t r = first + j;
      const int32_t u = eval_users_[user_begin + r], positive = positives_[user_begin + r];
      const float* s = group_scores + j * n_items;
      const float pos_score = s[positive];
      // Walk the items and the user's sorted training items together, skipping the trained ones.
      const int32_t* trained = data_.user_items(u);
      const int64_t n_trained = data_.user_count(u);
      int64_t t = 0, rank = 0, candidates = 0;
      for (int32_t i = 0; i < n_items; ++i) {
        while (t < n_trained && trained[t] < i) ++t;
        if ((t < n_trained && trained[t] == i) || i == positive) continue;
        ++candidates;
        if (!(s[i] < pos_score)) ++rank;  // ties (and NaN) count against the model
      }
      ranks[r] = rank;
      counts[r] = candidates;
    }
  };
  score_in_groups(users_per_group * n_items, groups, fill, rank_group);
}

}  // namespace ncf::recsys
