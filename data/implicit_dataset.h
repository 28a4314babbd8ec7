// ImplicitDataset: everything training and evaluation on implicit feedback need, after a split.
//
//   train_user/train_item  P unique (user, item) training positives, ordered by user then item.
//   train_offsets/items    the same pairs as a per-user CSR: user u's sorted training items are
//                          train_items[train_offsets[u] .. train_offsets[u+1]). Binary search in it
//                          rejects positives during negative sampling. (train_items == train_item.)
//   test_item[u]           the held-out item of user u, -1 when none.
//   validation_item[u]     a second held-out item (leave-one-out with validation), -1 when none.
//   eval_negatives         num_users x eval_negatives_per_user items, row u for user u; rows of users
//                          without a test item, and padding when too few items were left, are -1.
//   item_popularity[i]     number of training positives of item i (ItemPop, popularity-based models).
// IdMaps and titles are carried from the Interactions so results can be printed with raw ids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/interactions.h"

namespace ncf::data {

struct ImplicitDataset {
  int32_t num_users = 0;
  int32_t num_items = 0;
  std::vector<int32_t> train_user, train_item;
  std::vector<int64_t> train_offsets;  // num_users + 1
  std::vector<int32_t> test_item, validation_item;
  int32_t eval_negatives_per_user = 0;
  std::vector<int32_t> eval_negatives;
  std::vector<int64_t> item_popularity;
  IdMap users, items;
  Titles titles;
  std::string source;

  int64_t num_train() const { return static_cast<int64_t>(train_item.size()); }
  // Sorted training items of user u and their count.
  const int32_t* user_items(int32_t u) const { return train_item.data() + train_offsets[u]; }
  int64_t user_count(int32_t u) const { return train_offsets[u + 1] - train_offsets[u]; }
  bool user_trained_on(int32_t u, int32_t item) const;
  int32_t num_test_users() const;
  // Row u of eval_negatives (eval_negatives_per_user entries, -1 padded).
  const int32_t* user_eval_negatives(int32_t u) const {
    return eval_negatives.data() + static_cast<int64_t>(u) * eval_negatives_per_user;
  }
};

// Builds train_user/train_item/train_offsets/item_popularity from (user, item) pairs in any order,
// dropping duplicate pairs and every pair whose item is the user's test or validation item (so no
// held-out pair is also a training positive). Arrays test_item/validation_item must already be set.
void build_training_csr(ImplicitDataset& data, const std::vector<int32_t>& pair_user,
                        const std::vector<int32_t>& pair_item);
// The same, reusing pair_user's memory for train_user (fresh memory is what building the CSR of a big
// table costs most: the kernel zeroes every new page). pair_user is left empty.
void build_training_csr(ImplicitDataset& data, std::vector<int32_t>&& pair_user,
                        const std::vector<int32_t>& pair_item);

// A 64-bit fingerprint of everything a model trained on this data depends on: the raw ids behind the
// dense ids, the training pairs, the held-out items and the evaluation negatives. The same rows in
// another order (other dense ids) or a changed file give another fingerprint.
uint64_t fingerprint(const ImplicitDataset& data);

// Takes the test (and validation) item away from users with no training row, so they are not
// evaluated; returns how many users that was.
int32_t drop_cold_test_users(ImplicitDataset& data);

// Draws eval_negatives (n per user with a test item) with the scheme of sampling_core.h, in parallel;
// the result depends on (seed, data) only, not on the thread count.
void draw_eval_negatives(ImplicitDataset& data, int32_t n, uint64_t seed);

}  // namespace ncf::data
