// Evaluation metrics on plain arrays, independent of tensors and devices.
//
// Ranking (implicit feedback): each evaluated user has one held-out positive item and a list of
// candidate items (sampled negatives, or every unseen item). The candidates form a SET with the
// positive: a candidate whose id equals the positive's is dropped, as the paper's evaluation does.
// The 0-based rank is the number of remaining candidates scoring >= the positive: ties count against
// the model, so a constant model scores 0 rather than a lucky 1. NaN scores count against the model too.
//   HR@K   = 1 if rank < K else 0
//   NDCG@K = 1 / log2(rank + 2) if rank < K else 0
//   MRR    = 1 / (rank + 1)
//   AUC    = (#candidates scoring strictly below the positive) / #candidates = (n - rank) / n,
//            so ties count as losses; a user with no candidates is left out of the AUC mean only.
// Rating (explicit feedback): RMSE and MAE of predictions against targets.
#pragma once

#include <cstdint>
#include <vector>

namespace ncf::recsys {

// The positive's 0-based rank among `n` candidates; candidates whose id equals `pos_item` are skipped.
int64_t rank_of_positive(float pos_score, const float* cand_scores, const int32_t* cand_items,
                         int32_t pos_item, int64_t n);
// The same without ids, when the caller already removed the positive from the candidates.
int64_t rank_of_positive(float pos_score, const float* cand_scores, int64_t n);
// How many of `n` candidate ids differ from `pos_item` (the denominator of AUC).
int64_t count_candidates(const int32_t* cand_items, int32_t pos_item, int64_t n);

// Per-user metric values from a 0-based rank.
inline double hit_at_k(int64_t rank, int64_t k) { return rank < k ? 1.0 : 0.0; }
double ndcg_at_k(int64_t rank, int64_t k);
inline double reciprocal_rank(int64_t rank) { return 1.0 / static_cast<double>(rank + 1); }
// (n - rank) / n; 1 when n == 0 (nothing to beat), but see RankingAccumulator which skips such users.
double auc_from_rank(int64_t rank, int64_t n_candidates);

// Means over users of HR@k, NDCG@k, MRR and AUC.
struct RankingMetrics {
  double hr = 0, ndcg = 0, mrr = 0, auc = 0;
  int64_t users = 0;
  int64_t k = 10;
};

// Sums per-user values in double, in the order given (deterministic), and averages on result().
class RankingAccumulator {
 public:
  explicit RankingAccumulator(int64_t k);
  // One user: the positive's 0-based rank among n_candidates (positive already excluded).
  void add(int64_t rank, int64_t n_candidates);
  // Folds another accumulator's users in (same k), e.g. one per thread, merged in a fixed order.
  void merge(const RankingAccumulator& other);
  RankingMetrics result() const;

 private:
  int64_t k_;
  double hr_ = 0, ndcg_ = 0, mrr_ = 0, auc_ = 0;
  int64_t users_ = 0, auc_users_ = 0;
};

// The metrics of users with the given ranks and candidate counts (equal lengths), at cut-off k.
RankingMetrics ranking_metrics(const std::vector<int64_t>& ranks,
                               const std::vector<int64_t>& candidate_counts, int64_t k);

// Root mean squared error and mean absolute error over n pairs, accumulated in double; n must be > 0.
double rmse(const float* pred, const float* target, int64_t n);
double mae(const float* pred, const float* target, int64_t n);
double rmse(const std::vector<float>& pred, const std::vector<float>& target);
double mae(const std::vector<float>& pred, const std::vector<float>& target);

}  // namespace ncf::recsys
