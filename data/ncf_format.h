// Reader of the NCF paper's data files (He et al. 2017), which come already split ("given" split):
//   PREFIX.train.rating    user \t item \t rating [\t timestamp]     training interactions
//   PREFIX.test.rating     the same layout, one held-out (latest) pair per test user
//   PREFIX.test.negative   (user,item) \t neg \t neg ...             sampled negatives per test pair
// Ids are already dense and 0-based and are kept as they are (identity IdMaps). The item count is the
// largest item id in any of the three files + 1 (3,706 for ml-1m, where two items never occur in
// training), the user count the largest user id of the training and test files + 1; an id space of
// which more than 1% (and more than 10 ids) occurs in no file is refused, naming the largest id's line.
// A test user absent from training is valid (real NCF-format sets hold them), and so is an item
// absent from training.
// The negative file is kept as it is: a negative equal to the test item stays in the list (the
// evaluator treats the candidates as a set). Users without a negative line get -1 rows; lines with
// fewer negatives than the longest line are padded with -1.
#pragma once

#include <string>

#include "data/implicit_dataset.h"

namespace ncf::data {

// Reads PREFIX.train.rating, PREFIX.test.rating and (when present) PREFIX.test.negative.
ImplicitDataset read_ncf(const std::string& prefix);

}  // namespace ncf::data
