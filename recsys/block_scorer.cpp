// Scores of every item for a block of users (block_scorer.h): a GEMM for bilinear models, the Scorer
// on every pair otherwise.
#include "recsys/block_scorer.h"

#include <algorithm>

#include "tensor/ops/concat.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/index.h"
#include "tensor/ops/matmul.h"

namespace ncf::recsys {

namespace {
// A (rows, 1) column of one value.
Tensor constant_column(int64_t rows, double value, Device device) {
  Tensor column = Tensor::empty({rows, 1}, DType::f32, device);
  ops::fill_(column, value);
  return column;
}

int64_t default_chunk_rows(Device device) { return device.is_cuda() ? 1 << 18 : 1 << 14; }
}  // namespace

BlockScorer bilinear_block_scorer(const BilinearFactors& factors, Device device) {
  const Tensor& user_factors = factors.user_factors;
  const Tensor& item_factors = factors.item_factors;
  NCF_CHECK(
      user_factors.ndim() == 2 && item_factors.ndim() == 2 && user_factors.dim(1) == item_factors.dim(1),
      "bilinear scores: user factors " << user_factors.describe() << " and item factors "
                                       << item_factors.describe() << " must be (users, d) and (items, d)");
  check_dtype(user_factors, DType::f32, "bilinear scores", "user factors");
  check_dtype(item_factors, DType::f32, "bilinear scores", "item factors");
  NCF_CHECK(user_factors.device() == device && item_factors.device() == device,
            "bilinear scores: the factors live on " << user_factors.device().str() << " and "
                                                    << item_factors.device().str() << ", not on "
                                                    << device.str());
  const int64_t users = user_factors.dim(0), items = item_factors.dim(0);
  // The biases become columns: [U | b_u | 1] . [V | 1 | b_i + b] = U.V + b_u + b_i + b.
  std::vector<Tensor> user_side = {user_factors}, item_side = {item_factors};
  if (factors.user_bias.defined()) {
    NCF_CHECK(factors.user_bias.numel() == users,
              "bilinear scores: user bias " << factors.user_bias.describe() << " for " << users << " users");
    user_side.push_back(factors.user_bias.view({users, 1}));
    item_side.push_back(constant_column(items, 1.0, device));
  }
  if (factors.item_bias.defined() || factors.bias != 0.0) {
    Tensor item_constant = constant_column(items, factors.bias, device);
    if (factors.item_bias.defined()) {
      NCF_CHECK(factors.item_bias.numel() == items, "bilinear scores: item bias "
                                                        << factors.item_bias.describe() << " for " << items
                                                        << " items");
      item_constant = ops::add(factors.item_bias.view({items, 1}), item_constant);
    }
    user_side.push_back(constant_column(users, 1.0, device));
    item_side.push_back(item_constant);
  }
  const Tensor user_matrix = ops::concat_cols(user_side), item_matrix = ops::concat_cols(item_side);
  BlockScorer scorer;
  scorer.items = items;
  scorer.path = "bilinear: one GEMM per block of users (" + factors.formula + ")";
  scorer.score = [user_matrix, item_matrix, items, device](const std::vector<int32_t>& block) {
    const auto b = static_cast<int64_t>(block.size());
    NCF_CHECK(b > 0, "bilinear scores: an empty block of users");
    const Tensor rows = ops::gather_rows(user_matrix, Tensor::from_vector(block, {b}, device));
    Tensor scores = Tensor::empty({b, items}, DType::f32, device);
    ops::gemm(rows, false, item_matrix, true, scores);
    return scores;
  };
  return scorer;
}

BlockScorer pairwise_block_scorer(Scorer scorer, int64_t num_items, Device device, int64_t chunk_rows) {
  NCF_CHECK(num_items > 0, "pairwise scores: no items to score");
  if (chunk_rows <= 0) chunk_rows = default_chunk_rows(device);
  const int64_t users_per_call = std::max<int64_t>(1, chunk_rows / num_items);
  // Every item, users_per_call times over: the items of any call are a prefix of it, uploaded once.
  std::vector<int32_t> items_host(static_cast<size_t>(users_per_call * num_items));
  for (int64_t j = 0; j < users_per_call; ++j)
    for (int64_t i = 0; i < num_items; ++i) items_host[j * num_items + i] = static_cast<int32_t>(i);
  const Tensor all_items = Tensor::from_vector(items_host, {users_per_call * num_items}, device);

  BlockScorer block;
  block.items = num_items;
  block.path =
      "pairwise: the model on every (user, item) pair, " + std::to_string(users_per_call) + " users per call";
  block.score = [scorer = std::move(scorer), all_items, num_items, users_per_call,
                 device](const std::vector<int32_t>& users) {
    const auto b = static_cast<int64_t>(users.size());
    NCF_CHECK(b > 0, "pairwise scores: an empty block of users");
    Tensor out;
    std::vector<int32_t> users_host;
    for (int64_t first = 0; first < b; first += users_per_call) {
      const int64_t count = std::min(users_per_call, b - first), rows = count * num_items;
      users_host.resize(static_cast<size_t>(rows));
      for (int64_t j = 0; j < count; ++j)
        std::fill(users_host.begin() + j * num_items, users_host.begin() + (j + 1) * num_items,
                  users[first + j]);
      const Tensor scores = scorer(Tensor::from_vector(users_host, {rows}, device), all_items.rows(0, rows))
                                .view({count, num_items});
      if (count == b) return scores;  // one call: no copy
      if (!out.defined()) out = Tensor::empty({b, num_items}, DType::f32, device);
      Tensor part = out.rows(first, first + count);
      part.copy_from(scores);
    }
    return out;
  };
  return block;
}

BlockScorer block_scorer(ScoringModel& model, int64_t num_items, Device device) {
  if (std::optional<BilinearFactors> factors = model.bilinear_factors()) {
    NCF_CHECK(factors->item_factors.dim(0) == num_items, "block scores: the " << model.type() << " model has "
                                                                              << factors->item_factors.dim(0)
                                                                              << " items, not " << num_items);
    return bilinear_block_scorer(*factors, device);
  }
  if (const auto* ease = dynamic_cast<const EaseModel*>(&model)) {
    NCF_CHECK(ease->training().cols == num_items,
              "block scores: the ease model has " << ease->training().cols << " items, not " << num_items);
    return BlockScorer{[ease](const std::vector<int32_t>& users) { return ease->block_scores(users); }, num_items,
                       "EASE: x_u B, one sparse-dense product per block"};
  }
  return pairwise_block_scorer(model_scorer(model), num_items, device);
}

int64_t users_per_block(int64_t num_items, Device device) {
  const int64_t values = device.is_cuda() ? int64_t{1} << 25 : int64_t{1} << 22;
  return std::max<int64_t>(1, values / std::max<int64_t>(1, num_items));
}

}  // namespace ncf::recsys
