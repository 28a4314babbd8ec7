// Ranking and rating metrics (definitions and tie rules in metrics.h).
#include "recsys/metrics.h"

#include <cmath>

#include "base/error.h"

namespace ncf::recsys {

int64_t rank_of_positive(float pos_score, const float* cand_scores, const int32_t* cand_items,
                         int32_t pos_item, int64_t n) {
  // Branch-free so the loop vectorises: !(c < pos) is true for c >= pos and for any NaN, which puts ties
  // and broken scores against the model.
  int64_t rank = 0;
  for (int64_t i = 0; i < n; ++i) {
    rank += static_cast<int64_t>(!(cand_scores[i] < pos_score) & (cand_items[i] != pos_item));
  }
  return rank;
}

int64_t rank_of_positive(float pos_score, const float* cand_scores, int64_t n) {
  int64_t rank = 0;
  for (int64_t i = 0; i < n; ++i) rank += static_cast<int64_t>(!(cand_scores[i] < pos_score));
  return rank;
}

int64_t count_candidates(const int32_t* cand_items, int32_t pos_item, int64_t n) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += static_cast<int64_t>(cand_items[i] != pos_item);
  return count;
}

double ndcg_at_k(int64_t rank, int64_t k) {
  return rank < k ? 1.0 / std::log2(static_cast<double>(rank) + 2.0) : 0.0;
}

double auc_from_rank(int64_t rank, int64_t n_candidates) {
  if (n_candidates <= 0) return 1.0;
  return static_cast<double>(n_candidates - rank) / static_cast<double>(n_candidates);
}

RankingAccumulator::RankingAccumulator(int64_t k) : k_(k) {
  NCF_CHECK(k >= 1, "ranking metrics: k must be >= 1, got " << k);
}

void RankingAccumulator::add(int64_t rank, int64_t n_candidates) {
  NCF_CHECK(rank >= 0 && rank <= n_candidates,
            "ranking metrics: rank " << rank << " outside [0, " << n_candidates << "] candidates");
  hr_ += hit_at_k(rank, k_);
  ndcg_ += ndcg_at_k(rank, k_);
  mrr_ += reciprocal_rank(rank);
  if (n_candidates > 0) {
    auc_ += auc_from_rank(rank, n_candidates);
    ++auc_users_;
  }
  ++users_;
}

void RankingAccumulator::merge(const RankingAccumulator& other) {
  NCF_CHECK(other.k_ == k_, "ranking metrics: cannot merge k=" << other.k_ << " into k=" << k_);
  hr_ += other.hr_;
  ndcg_ += other.ndcg_;
  mrr_ += other.mrr_;
  auc_ += other.auc_;
  users_ += other.users_;
  auc_users_ += other.auc_users_;
}

RankingMetrics RankingAccumulator::result() const {
  RankingMetrics m;
  m.k = k_;
  m.users = users_;
  if (users_ > 0) {
    const double n = static_cast<double>(users_);
    m.hr = hr_ / n;
    m.ndcg = ndcg_ / n;
    m.mrr = mrr_ / n;
  }
  if (auc_users_ > 0) m.auc = auc_ / static_cast<double>(auc_users_);
  return m;
}

RankingMetrics ranking_metrics(const std::vector<int64_t>& ranks,
                               const std::vector<int64_t>& candidate_counts, int64_t k) {
  NCF_CHECK(ranks.size() == candidate_counts.size(), "ranking metrics: " << ranks.size() << " ranks but "
                                                                         << candidate_counts.size()
                                                                         << " candidate counts");
  RankingAccumulator acc(k);
  for (size_t i = 0; i < ranks.size(); ++i) acc.add(ranks[i], candidate_counts[i]);
  return acc.result();
}

double rmse(const float* pred, const float* target, int64_t n) {
  NCF_CHECK(n > 0, "rmse of no predictions");
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(n));
}

double mae(const float* pred, const float* target, int64_t n) {
  NCF_CHECK(n > 0, "mae of no predictions");
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += std::fabs(static_cast<double>(pred[i]) - static_cast<double>(target[i]));
  return sum / static_cast<double>(n);
}

double rmse(const std::vector<float>& pred, const std::vector<float>& target) {
  NCF_CHECK(pred.size() == target.size(),
            "rmse: " << pred.size() << " predictions but " << target.size() << " targets");
  return rmse(pred.data(), target.data(), static_cast<int64_t>(pred.size()));
}

double mae(const std::vector<float>& pred, const std::vector<float>& target) {
  NCF_CHECK(pred.size() == target.size(),
            "mae: " << pred.size() << " predictions but " << target.size() << " targets");
  return mae(pred.data(), target.data(), static_cast<int64_t>(pred.size()));
}

}  // namespace ncf::recsys
