// Top-K recommendations from a trained model, and items like a given one.
//
// recommend_block: every item's score for a block of users (recsys/block_scorer.h: a GEMM for
//   bilinear models), the items each user trained on pushed to -inf on the device, the K best kept
//   by ops::topk_rows (larger scores first, equal scores by ascending dense item id), and only the
//   (users, K) winners copied back and mapped to raw ids and titles. A user with fewer than K unseen
//   items gets all of them. recommend() is the same for one user: a block of one.
// similar_items: the cosine of one item's vector with every other item's (ScoringModel::item_vectors),
//   the item itself left out, the same order rule.
#pragma once

#include <string>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/block_scorer.h"

namespace ncf::recsys {

struct Recommendation {
  int64_t raw_item = 0;
  int32_t item = 0;    // dense id
  float score = 0.0f;  // the model's score (a logit for GMF / MLP / NeuMF), or the cosine for similar_items
  std::string title;   // empty when no titles were loaded
};

// One list per user of `users` (dense ids of `data`), in that order.
std::vector<std::vector<Recommendation>> recommend_block(const BlockScorer& scorer,
                                                         const data::ImplicitDataset& data,
                                                         const std::vector<int32_t>& users, int64_t k,
                                                         Device device);
std::vector<Recommendation> recommend(const BlockScorer& scorer, const data::ImplicitDataset& data,
                                      int32_t user, int64_t k, Device device);

// The k items whose vectors (items, d) have the largest cosine with item `item`'s, the item left out.
// A zero vector has cosine 0 with everything.
std::vector<Recommendation> similar_items(const Tensor& item_vectors, const data::ImplicitDataset& data,
                                          int32_t item, int64_t k);

}  // namespace ncf::recsys
