// Top-K recommendations for one user: score every item, drop the ones the user trained on, keep
// the K best (ops::topk_rows: larger scores first, ties by item order), map back to raw ids.
#pragma once

#include <string>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/evaluator.h"

namespace ncf::recsys {

struct Recommendation {
  int64_t raw_item = 0;
  int32_t item = 0;  // dense id
  float score = 0.0f;
  std::string title;  // empty when no titles were loaded
};

std::vector<Recommendation> recommend(const Scorer& scorer, const data::ImplicitDataset& data, int32_t user,
                                      int64_t k, Device device);

}  // namespace ncf::recsys
