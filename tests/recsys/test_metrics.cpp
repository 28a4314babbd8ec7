// Tests of the ranking and rating metrics against hand-computed values: ties count against the model,
// the positive repeated among its candidates is dropped, K beyond the list, AUC, MRR, RMSE and MAE.
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "base/error.h"
#include "recsys/metrics.h"

using doctest::Approx;

TEST_CASE("rank_of_positive: candidates scoring >= the positive count, ties against the model") {
  const std::vector<float> scores = {0.1f, 0.9f, 0.5f, 0.5f, 0.3f};
  const std::vector<int32_t> items = {10, 11, 12, 13, 14};
  CHECK(ncf::recsys::rank_of_positive(0.5f, scores.data(), items.data(), 99, 5) == 3);  // 0.9 and two ties
  CHECK(ncf::recsys::rank_of_positive(0.95f, scores.data(), items.data(), 99, 5) == 0);
  CHECK(ncf::recsys::rank_of_positive(0.0f, scores.data(), items.data(), 99, 5) == 5);
  CHECK(ncf::recsys::rank_of_positive(0.5f, scores.data(), 5) == 3);
  CHECK(ncf::recsys::rank_of_positive(0.5f, scores.data(), items.data(), 99, 0) == 0);

  // A constant model is ranked last, not first.
  const std::vector<float> flat(100, 0.0f);
  std::vector<int32_t> ids(100);
  for (int i = 0; i < 100; ++i) ids[i] = i + 1;
  CHECK(ncf::recsys::rank_of_positive(0.0f, flat.data(), ids.data(), 0, 100) == 100);
}

TEST_CASE("rank_of_positive: a candidate equal to the positive item is dropped (the list is a set)") {
  // Item 12 is the positive itself, listed among its negatives twice: its scores equal the positive's and
  // would count as ties; dropping them leaves only 0.9 above.
  const std::vector<float> scores = {0.1f, 0.9f, 0.5f, 0.2f, 0.5f};
  const std::vector<int32_t> items = {10, 11, 12, 13, 12};
  CHECK(ncf::recsys::rank_of_positive(0.5f, scores.data(), items.data(), 12, 5) == 1);
  CHECK(ncf::recsys::count_candidates(items.data(), 12, 5) == 3);
  CHECK(ncf::recsys::count_candidates(items.data(), 77, 5) == 5);
}

TEST_CASE("rank_of_positive: NaN scores count against the model") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> scores = {0.1f, nan, 0.2f};
  const std::vector<int32_t> items = {1, 2, 3};
  CHECK(ncf::recsys::rank_of_positive(0.5f, scores.data(), items.data(), 0, 3) == 1);
  CHECK(ncf::recsys::rank_of_positive(nan, scores.data(), items.data(), 0, 3) == 3);
}

TEST_CASE("per-user values: HR, NDCG with 0-based rank, MRR, AUC") {
  CHECK(ncf::recsys::hit_at_k(0, 10) == 1.0);
  CHECK(ncf::recsys::hit_at_k(9, 10) == 1.0);
  CHECK(ncf::recsys::hit_at_k(10, 10) == 0.0);
  CHECK(ncf::recsys::ndcg_at_k(0, 10) == Approx(1.0));
  CHECK(ncf::recsys::ndcg_at_k(1, 10) == Approx(1.0 / std::log2(3.0)));
  CHECK(ncf::recsys::ndcg_at_k(2, 10) == Approx(0.5));  // 1/log2(4)
  CHECK(ncf::recsys::ndcg_at_k(9, 10) == Approx(1.0 / std::log2(11.0)));
  CHECK(ncf::recsys::ndcg_at_k(10, 10) == 0.0);
  CHECK(ncf::recsys::reciprocal_rank(0) == 1.0);
  CHECK(ncf::recsys::reciprocal_rank(3) == Approx(0.25));
  CHECK(ncf::recsys::auc_from_rank(0, 99) == 1.0);
  CHECK(ncf::recsys::auc_from_rank(99, 99) == 0.0);
  CHECK(ncf::recsys::auc_from_rank(1, 4) == Approx(0.75));
  CHECK(ncf::recsys::auc_from_rank(0, 0) == 1.0);
}

TEST_CASE("ranking_metrics: one user") {
  // Positive 0.5 among {0.9, 0.5(tie), 0.1, 0.2}: rank 2 (0.9 and the tie), 4 candidates.
  const std::vector<float> scores = {0.9f, 0.5f, 0.1f, 0.2f};
  const std::vector<int32_t> items = {1, 2, 3, 4};
  const int64_t rank = ncf::recsys::rank_of_positive(0.5f, scores.data(), items.data(), 0, 4);
  REQUIRE(rank == 2);
  const ncf::recsys::RankingMetrics m = ncf::recsys::ranking_metrics({rank}, {4}, 10);
  CHECK(m.users == 1);
  CHECK(m.k == 10);
  CHECK(m.hr == 1.0);
  CHECK(m.ndcg == Approx(0.5));
  CHECK(m.mrr == Approx(1.0 / 3.0));
  CHECK(m.auc == Approx(0.5));  // beats 0.1 and 0.2; the tie is a loss

  const ncf::recsys::RankingMetrics at2 = ncf::recsys::ranking_metrics({rank}, {4}, 2);
  CHECK(at2.hr == 0.0);
  CHECK(at2.ndcg == 0.0);
  CHECK(at2.mrr == Approx(1.0 / 3.0));  // MRR and AUC do not depend on K
}

TEST_CASE("ranking_metrics: many users, and K larger than the candidate list") {
  // Ranks 0, 1, 4, 99 among 99 candidates each.
  const std::vector<int64_t> ranks = {0, 1, 4, 99};
  const std::vector<int64_t> counts = {99, 99, 99, 99};
  const ncf::recsys::RankingMetrics m = ncf::recsys::ranking_metrics(ranks, counts, 3);
  CHECK(m.users == 4);
  CHECK(m.hr == Approx(0.5));
  CHECK(m.ndcg == Approx((1.0 + 1.0 / std::log2(3.0)) / 4.0));
  CHECK(m.mrr == Approx((1.0 + 0.5 + 0.2 + 0.01) / 4.0));
  CHECK(m.auc == Approx((1.0 + 98.0 / 99 + 95.0 / 99 + 0.0) / 4.0));

  // K = 1000 with 5 candidates: every rank is a hit, the worst included.
  const ncf::recsys::RankingMetrics wide = ncf::recsys::ranking_metrics({5, 0}, {5, 5}, 1000);
  CHECK(wide.hr == 1.0);
  CHECK(wide.ndcg == Approx((1.0 / std::log2(7.0) + 1.0) / 2.0));
}

TEST_CASE("RankingAccumulator: merge equals one pass; users without candidates are left out of AUC only") {
  ncf::recsys::RankingAccumulator all(10), first(10), second(10);
  const std::vector<std::pair<int64_t, int64_t>> users = {{0, 99}, {12, 99}, {3, 50}, {0, 0}};
  for (size_t i = 0; i < users.size(); ++i) {
    all.add(users[i].first, users[i].second);
    (i < 2 ? first : second).add(users[i].first, users[i].second);
  }
  first.merge(second);
  const auto a = all.result(), b = first.result();
  CHECK(a.users == 4);
  CHECK(a.hr == b.hr);
  CHECK(a.ndcg == b.ndcg);
  CHECK(a.mrr == b.mrr);
  CHECK(a.auc == b.auc);
  CHECK(a.hr == Approx(0.75));
  CHECK(a.auc == Approx((1.0 + 87.0 / 99 + 47.0 / 50) / 3.0));

  CHECK(ncf::recsys::RankingAccumulator(5).result().users == 0);
  CHECK(ncf::recsys::RankingAccumulator(5).result().hr == 0.0);
  CHECK_THROWS_AS(all.add(5, 4), ncf::Error);  // a rank beyond the candidates is a caller bug
  CHECK_THROWS_AS(ncf::recsys::RankingAccumulator(0), ncf::Error);
  CHECK_THROWS_AS(ncf::recsys::ranking_metrics({1, 2}, {3}, 10), ncf::Error);
  ncf::recsys::RankingAccumulator other_k(5);
  CHECK_THROWS_AS(all.merge(other_k), ncf::Error);
}

TEST_CASE("rmse and mae") {
  const std::vector<float> pred = {3.0f, 4.0f, 2.5f, 5.0f};
  const std::vector<float> target = {4.0f, 4.0f, 1.5f, 3.0f};
  // errors -1, 0, 1, 2: squares 1 0 1 4 -> sqrt(6/4); absolutes 1 0 1 2 -> 1
  CHECK(ncf::recsys::rmse(pred, target) == Approx(std::sqrt(1.5)));
  CHECK(ncf::recsys::mae(pred, target) == Approx(1.0));
  CHECK(ncf::recsys::rmse(pred.data(), pred.data(), 4) == 0.0);
  CHECK(ncf::recsys::mae(pred.data(), target.data(), 1) == Approx(1.0));
  CHECK_THROWS_AS(ncf::recsys::rmse(pred, std::vector<float>{1.0f}), ncf::Error);
  CHECK_THROWS_AS(ncf::recsys::mae(pred.data(), target.data(), 0), ncf::Error);
}
