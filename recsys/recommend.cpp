// Top-K unseen items for blocks of users, and items like a given one (recommend.h).
#include "recsys/recommend.h"

#include <cmath>
#include <limits>

#include "tensor/ops/index.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/sort.h"

namespace ncf::recsys {

namespace {
Recommendation make_recommendation(const data::ImplicitDataset& data, int32_t item, float score) {
  Recommendation r;
  r.item = item;
  r.raw_item = data.items.raw(item);
  r.score = score;
  auto title = data.titles.find(r.raw_item);
  if (title != data.titles.end()) r.title = title->second;
  return r;
}
}  // namespace

std::vector<std::vector<Recommendation>> recommend_block(const BlockScorer& scorer,
                                                         const data::ImplicitDataset& data,
                                                         const std::vector<int32_t>& users, int64_t k,
                                                         Device device) {
  const int64_t n = data.num_items, b = static_cast<int64_t>(users.size());
  NCF_CHECK(scorer.items == n,
            "recommend: the scorer scores " << scorer.items << " items, the data set has " << n);
  NCF_CHECK(k >= 1, "recommend: k must be >= 1, got " << k);
  NCF_CHECK(b * n < INT32_MAX,
            "recommend: a block of " << b << " users x " << n << " items is too large for i32 positions");
  std::vector<std::vector<Recommendation>> out(static_cast<size_t>(b));
  if (b == 0) return out;
  std::vector<int32_t> seen_at;  // positions j * n + item of the block's training pairs
  for (int64_t j = 0; j < b; ++j) {
    const int32_t u = users[j];
    NCF_CHECK(u >= 0 && u < data.num_users,
              "recommend: user " << u << " out of range (0.." << data.num_users - 1 << ")");
    const int32_t* trained = data.user_items(u);
    for (int64_t t = 0; t < data.user_count(u); ++t)
      seen_at.push_back(static_cast<int32_t>(j * n + trained[t]));
  }
  Tensor scores = scorer.score(users);  // (b, n) on the device
  NCF_CHECK(
      scores.ndim() == 2 && scores.dim(0) == b && scores.dim(1) == n,
      "recommend: the scorer returned " << scores.describe() << " for " << b << " users x " << n << " items");
  // Seen items can never be recommended: -inf is added at their places, where the scores are.
  if (!seen_at.empty()) {
    const auto count = static_cast<int64_t>(seen_at.size());
    Tensor flat = scores.view({b * n, 1});
    ops::scatter_add_rows_(
        flat, Tensor::from_vector(seen_at, {count}, device),
        Tensor::from_vector(std::vector<float>(seen_at.size(), -std::numeric_limits<float>::infinity()),
                            {count, 1}, device));
  }
  const int64_t keep = std::min(k, n);
  Tensor values, indices;
  ops::topk_rows(scores, keep, values, indices);
  const std::vector<float> top_scores = values.to_vector<float>();
  const std::vector<int32_t> top_items = indices.to_vector<int32_t>();
  for (int64_t j = 0; j < b; ++j) {
    // The first `unseen` places hold unseen items: every seen one scores -inf and sorts after them.
    const int64_t unseen = n - data.user_count(users[j]), count = std::min(keep, unseen);
    for (int64_t t = 0; t < count; ++t)
      out[j].push_back(make_recommendation(data, top_items[j * keep + t], top_scores[j * keep + t]));
  }
  return out;
}

std::vector<Recommendation> recommend(const BlockScorer& scorer, const data::ImplicitDataset& data,
                                      int32_t user, int64_t k, Device device) {
  return recommend_block(scorer, data, {user}, k, device).front();
}

std::vector<Recommendation> similar_items(const Tensor& item_vectors, const data::ImplicitDataset& data,
                                          int32_t item, int64_t k) {
  NCF_CHECK(
      item_vectors.ndim() == 2 && item_vectors.dim(0) == data.num_items,
      "similar items: item vectors " << item_vectors.describe() << " for " << data.num_items << " items");
  check_dtype(item_vectors, DType::f32, "similar items", "item vectors");
  NCF_CHECK(item >= 0 && item < data.num_items,
            "similar items: item " << item << " out of range (0.." << data.num_items - 1 << ")");
  NCF_CHECK(k >= 1, "similar items: k must be >= 1, got " << k);
  const int64_t n = item_vectors.dim(0), d = item_vectors.dim(1);
  // Unit rows (a zero row stays zero), then one product with the item's unit vector: the cosines.
  std::vector<float> unit = item_vectors.to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    double squares = 0.0;
    for (int64_t f = 0; f < d; ++f) squares += static_cast<double>(unit[i * d + f]) * unit[i * d + f];
    const double inverse = squares > 0.0 ? 1.0 / std::sqrt(squares) : 0.0;
    for (int64_t f = 0; f < d; ++f) unit[i * d + f] = static_cast<float>(unit[i * d + f] * inverse);
  }
  const Tensor units = Tensor::from_vector(unit, {n, d});
  std::vector<float> cosines = ops::matmul(units, units.rows(item, item + 1), false, true).to_vector<float>();
  cosines[item] = -std::numeric_limits<float>::infinity();  // not like itself: it is itself
  const int64_t keep = std::min(k, n - 1);
  std::vector<Recommendation> out;
  if (keep <= 0) return out;
  Tensor values, indices;
  ops::topk_rows(Tensor::from_vector(cosines, {1, n}), keep, values, indices);
  const std::vector<float> top_values = values.to_vector<float>();
  const std::vector<int32_t> top_items = indices.to_vector<int32_t>();
  for (int64_t t = 0; t < keep; ++t) out.push_back(make_recommendation(data, top_items[t], top_values[t]));
  return out;
}

}  // namespace ncf::recsys
