#include "recsys/recommend.h"

#include <limits>

#include "tensor/ops/sort.h"

namespace ncf::recsys {

std::vector<Recommendation> recommend(const Scorer& scorer, const data::ImplicitDataset& data, int32_t user,
                                      int64_t k, Device device) {
  NCF_CHECK(user >= 0 && user < data.num_users,
            "user " << user << " out of range (0.." << data.num_users - 1 << ")");
  const int32_t n = data.num_items;
  std::vector<int32_t> items(n);
  for (int32_t i = 0; i < n; ++i) items[i] = i;
  const Tensor users_t = Tensor::from_vector(std::vector<int32_t>(n, user), {n}, device);
  std::vector<float> scores = scorer(users_t, Tensor::from_vector(items, {n}, device)).to_vector<float>();
  // Seen items can never be recommended: push them below every real score.
  const int32_t* trained = data.user_items(user);
  for (int64_t j = 0; j < data.user_count(user); ++j)
    scores[trained[j]] = -std::numeric_limits<float>::infinity();
  const int64_t unseen = n - data.user_count(user);
  k = std::min<int64_t>(k, unseen);
  std::vector<Recommendation> out;
  if (k <= 0) return out;
  Tensor values, indices;
  ops::topk_rows(Tensor::from_vector(scores, {1, n}), k, values, indices);
  const std::vector<float> top_scores = values.to_vector<float>();
  const std::vector<int32_t> top_items = indices.to_vector<int32_t>();
  for (int64_t j = 0; j < k; ++j) {
    Recommendation r;
    r.item = top_items[j];
    r.raw_item = data.items.raw(r.item);
    r.score = top_scores[j];
    auto title = data.titles.find(r.raw_item);
    if (title != data.titles.end()) r.title = title->second;
    out.push_back(r);
  }
  return out;
}

}  // namespace ncf::recsys
