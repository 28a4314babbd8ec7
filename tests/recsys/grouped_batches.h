// Test helpers for training steps on hand-made batches: a model's parameters as one vector, and
// batches in groups (a positive, then `negatives` items the user never trained on, all of one user)
// from the banded data set (tests/recsys/banded_dataset.h).
#pragma once

#include <vector>

#include "recsys/models.h"
#include "tests/test_util.h"

namespace ncf::test {

// Every parameter's values, in registration order.
inline std::vector<double> parameter_values(recsys::ScoringModel& model) {
  std::vector<double> out;
  for (const auto& [name, p] : model.named_parameters()) {
    const std::vector<double> v = values_of(p.value());
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

struct Batch {
  Tensor users, items, labels;
};

// `groups` groups of 1 + `negatives` rows. Group g belongs to user first_user + (g mod
// distinct_users), so a batch holds each of those users in several groups when distinct_users <
// groups; its positive is one of the user's training items.
inline Batch grouped_batch(const data::ImplicitDataset& d, int first_user, int groups, int negatives,
                           int distinct_users) {
  std::vector<int32_t> users, items;
  std::vector<float> labels;
  for (int g = 0; g < groups; ++g) {
    const int32_t u = (first_user + g % distinct_users) % d.num_users;
    users.insert(users.end(), static_cast<size_t>(1 + negatives), u);
    items.push_back(d.train_item[d.train_offsets[u] + g % 3]);
    labels.push_back(1.0f);
    for (int j = 0; j < negatives; ++j) {
      int32_t item = (u * 7 + 11 * g + 5 * j) % d.num_items;
      while (d.user_trained_on(u, item)) item = (item + 1) % d.num_items;
      items.push_back(item);
      labels.push_back(0.0f);
    }
  }
  const int64_t n = static_cast<int64_t>(users.size());
  return {Tensor::from_vector(users, {n}), Tensor::from_vector(items, {n}), Tensor::from_vector(labels, {n})};
}

}  // namespace ncf::test
