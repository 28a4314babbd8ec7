// Ranking evaluation of implicit-feedback models, the two protocols of the field:
//
//   sampled (He et al. 2017): each test user's held-out item is ranked among its evaluation
//     negatives (99 by default). Candidates form a set with the positive: a negative equal to the
//     positive, or a -1 padding slot, is dropped. Ties count against the model.
//   full ranking: the held-out item is ranked among every item the user has not trained on.
//
// Scores come from a Scorer: (users, items) i32 (n,) on the device -> (n,) f32 scores on the device.
// The candidate lists are built once and kept on the device; scoring runs in chunks of `chunk_rows`
// rows, and only the scores travel back to the host, in large asynchronous transfers on a GPU
// (evaluator.cpp), where ranks are counted in parallel.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/metrics.h"
#include "recsys/models.h"

namespace ncf::recsys {

using Scorer = std::function<Tensor(const Tensor& users, const Tensor& items)>;
struct BlockScorer;  // every item's score for a block of users (recsys/block_scorer.h)

// A trained model as a Scorer: evaluation mode (no dropout), no gradient recording.
Scorer model_scorer(ScoringModel& model);
// ItemPop: an item's score is its number of training positives.
Scorer popularity_scorer(const data::ImplicitDataset& data, Device device);

class ScoreTransfer;

class Evaluator {
 public:
  // heldout: which held-out item is the positive, the test item or the validation item.
  enum class Heldout { test, validation };

  // chunk_rows: rows scored per call; 0 picks 2^18 on a GPU and 2^14 on the CPU, where the chunk's
  // activations stay in the caching allocator (a wide MLP on 2^18 rows would hold about 1 GB).
  // transfer_rows: scores brought to the host at once (whole chunks); 0 picks 2^24 on a GPU and one
  // chunk on the CPU. Results never depend on either.
  Evaluator(const data::ImplicitDataset& data, Device device, int64_t k, Heldout heldout = Heldout::test,
            int64_t chunk_rows = 0, int64_t transfer_rows = 0);
  ~Evaluator();

  RankingMetrics sampled(const Scorer& scorer) const;
  // The sampled protocol's per-user results for evaluation users [user_begin, user_end) (in the
  // order of users()): the positive's 0-based rank and the number of candidates. ranking_metrics over
  // every user's values, in order, is sampled(): ranks evaluating shares of the users and gathering
  // them get the single process's metrics exactly (recsys/distributed.h).
  void sampled_ranks(const Scorer& scorer, int64_t user_begin, int64_t user_end, std::vector<int64_t>& ranks,
                     std::vector<int64_t>& counts) const;
  RankingMetrics full_ranking(const Scorer& scorer) const;
  // The same with every item's scores for a block of users at a time (e.g. one GEMM for GMF).
  RankingMetrics full_ranking(const BlockScorer& scorer) const;
  // Full ranking's per-user results for evaluation users [user_begin, user_end), as sampled_ranks.
  void full_ranking_ranks(const BlockScorer& scorer, int64_t user_begin, int64_t user_end,
                          std::vector<int64_t>& ranks, std::vector<int64_t>& counts) const;
  int64_t users() const { return static_cast<int64_t>(eval_users_.size()); }
  int64_t k() const { return k_; }

 private:
  // The transfer buffers, kept between calls (pinned memory is slow to allocate); grown when needed.
  ScoreTransfer& transfer(int64_t capacity) const;
  template <class Fill, class Rank>
  void score_in_groups(int64_t group_rows, int64_t groups, const Fill& fill, const Rank& rank_group) const;

  const data::ImplicitDataset& data_;
  Device device_;
  int64_t k_, chunk_rows_, transfer_rows_;
  std::vector<int32_t> eval_users_, positives_;  // users with a held-out item, and that item
  int64_t row_width_ = 0;                        // 1 positive + eval negatives per user
  Tensor sampled_users_, sampled_items_;         // (users * row_width,) on the device
  std::vector<int32_t> sampled_items_host_;
  mutable std::unique_ptr<ScoreTransfer> transfer_;
};

}  // namespace ncf::recsys
