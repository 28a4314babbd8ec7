#include "recsys/evaluator.h"

#include <algorithm>

#include "autograd/variable.h"
#include "recsys/block_scorer.h"
#include "tensor/ops/index.h"

namespace ncf::recsys {

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
                     int64_t chunk_rows)
    : data_(data),
      device_(device),
      k_(k),
      chunk_rows_(chunk_rows > 0     ? chunk_rows
                  : device.is_cuda() ? 1 << 18
                                     : 1 << 14) {
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

RankingMetrics Evaluator::sampled(const Scorer& scorer) const {
  const int64_t rows = sampled_users_.numel();
  std::vector<float> scores(static_cast<size_t>(rows));
  const int64_t chunk = std::max<int64_t>(row_width_, chunk_rows_ / row_width_ * row_width_);
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t end = std::min(rows, begin + chunk);
    const std::vector<float> part =
        scorer(sampled_users_.rows(begin, end), sampled_items_.rows(begin, end)).to_vector<float>();
    std::copy(part.begin(), part.end(), scores.begin() + begin);
  }
  const int64_t n_users = static_cast<int64_t>(eval_users_.size());
  std::vector<int64_t> ranks(n_users), counts(n_users);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n_users; ++r) {
    const float* s = scores.data() + r * row_width_;
    const int32_t* items = sampled_items_host_.data() + r * row_width_;
    ranks[r] = rank_of_positive(s[0], s + 1, items + 1, items[0], row_width_ - 1);
    counts[r] = count_candidates(items + 1, items[0], row_width_ - 1);
  }
  return ranking_metrics(ranks, counts, k_);
}

RankingMetrics Evaluator::full_ranking(const Scorer& scorer) const {
  return full_ranking(pairwise_block_scorer(scorer, data_.num_items, device_, chunk_rows_));
}

RankingMetrics Evaluator::full_ranking(const BlockScorer& scorer) const {
  const int64_t n_items = data_.num_items, n_users = static_cast<int64_t>(eval_users_.size());
  NCF_CHECK(scorer.items == n_items,
            "full ranking: the scorer scores " << scorer.items << " items, the data has " << n_items);
  std::vector<int64_t> ranks(n_users), counts(n_users);
  // Every item for a chunk of users: (users_in_chunk * n_items) scores at once.
  const int64_t users_per_chunk = std::max<int64_t>(1, chunk_rows_ / std::max<int64_t>(1, n_items));
  for (int64_t first = 0; first < n_users; first += users_per_chunk) {
    const int64_t count = std::min(users_per_chunk, n_users - first);
    const std::vector<int32_t> users(eval_users_.begin() + first, eval_users_.begin() + first + count);
    const std::vector<float> scores = scorer.score(users).to_vector<float>();
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < count; ++j) {
      const int64_t r = first + j;
      const int32_t u = eval_users_[r], positive = positives_[r];
      const float* s = scores.data() + j * n_items;
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
  }
  return ranking_metrics(ranks, counts, k_);
}

}  // namespace ncf::recsys
