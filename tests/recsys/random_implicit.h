// A small random implicit data set for the closed-form baselines' tests: each (user, item) is a
// training positive with probability `density`, except that the last user and the last item have
// none (rows and columns with no data must be handled too). No held-out items.
#pragma once

#include <cstdint>
#include <vector>

#include "data/implicit_dataset.h"
#include "tests/test_util.h"

namespace ncf::test {

inline data::ImplicitDataset random_implicit(int32_t users, int32_t items, double density, uint64_t seed) {
  data::ImplicitDataset d;
  d.num_users = users;
  d.num_items = items;
  d.test_item.assign(static_cast<size_t>(users), -1);
  d.validation_item.assign(static_cast<size_t>(users), -1);
  const std::vector<double> draws = test_values(static_cast<size_t>(users) * items, 0.0, 1.0, seed);
  std::vector<int32_t> pair_user, pair_item;
  for (int32_t u = 0; u + 1 < users; ++u)
    for (int32_t i = 0; i + 1 < items; ++i)
      if (draws[static_cast<size_t>(u) * items + i] < density) {
        pair_user.push_back(u);
        pair_item.push_back(i);
      }
  data::build_training_csr(d, pair_user, pair_item);
  return d;
}

// The training matrix as a dense 0/1 array, users x items, row-major.
inline std::vector<double> dense_training_matrix(const data::ImplicitDataset& d) {
  std::vector<double> x(static_cast<size_t>(d.num_users) * d.num_items, 0.0);
  for (int32_t u = 0; u < d.num_users; ++u)
    for (int64_t e = d.train_offsets[u]; e < d.train_offsets[u + 1]; ++e)
      x[static_cast<size_t>(u) * d.num_items + d.train_item[e]] = 1.0;
  return x;
}

}  // namespace ncf::test
