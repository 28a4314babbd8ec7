// A small, learnable implicit data set for model tests: user u likes 8 items in a band that moves
// with u (items (u + 3j) mod `items`), so a model can learn who likes what from the neighbours.
#pragma once

#include "data/implicit_dataset.h"
#include "data/splits.h"

namespace ncf::test {

inline data::ImplicitDataset banded_dataset(int users, int items, int eval_negatives) {
  data::Interactions x;
  for (int u = 0; u < users; ++u) {
    for (int j = 0; j < 8; ++j) {
      x.user.push_back(x.users.insert(1000 + u));
      x.item.push_back(x.items.insert(1 + (u + 3 * j) % items));
      x.rating.push_back(4.0f);
      x.timestamp.push_back(100 * u + j);
    }
  }
  data::ImplicitDataset d = data::leave_one_out(x);
  data::draw_eval_negatives(d, eval_negatives, 7);
  return d;
}

}  // namespace ncf::test
