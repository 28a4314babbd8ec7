// Splits of Interactions into training and held-out data.
//
// leave_one_out (implicit feedback, the NCF protocol): per user, interactions are sorted by timestamp,
// stably, so file order breaks ties; the last one is the test item and, with validation, the latest
// one with a different item is the validation item. The held-out unit is the item: every other row of
// the user with that item is dropped from training too, and duplicate training pairs collapse to one
// (implicit data has no use for repeats). A user keeps at least one distinct item in training: with a
// single distinct item there is no test item (test_item = -1); with two and validation on, only the test
// item is held out. Evaluation negatives are not drawn here: call draw_eval_negatives (or use load.h).
//
// ratio_split (explicit ratings, random): a global, exact split: the round(test_fraction * rows) rows
// with the smallest Philox keys (seed, row index) form the test set.
// temporal_ratio_split (explicit ratings, per user): each user's latest round(test_fraction * n_u) rows
// (same stable timestamp order as above) go to test, keeping at least one row of each user in training.
// Both keep the input's IdMaps for train and test (ids agree across the two), rows in file order.
#pragma once

#include <cstdint>

#include "data/implicit_dataset.h"
#include "data/interactions.h"

namespace ncf::data {

ImplicitDataset leave_one_out(const Interactions& interactions, bool validation = false);
// The same for a table that is not needed afterwards (e.g. leave_one_out(binarize(read(...)))): its
// user column's memory becomes the training users'. Leaves `interactions` valid but unspecified.
ImplicitDataset leave_one_out(Interactions&& interactions, bool validation = false);

struct ExplicitDataset {
  Interactions train, test;
};

ExplicitDataset ratio_split(const Interactions& interactions, double test_fraction, uint64_t seed);
ExplicitDataset temporal_ratio_split(const Interactions& interactions, double test_fraction);
// A split that comes as two files (MovieLens' u1.base / u1.test): the test rows are mapped into the
// training rows' id spaces; a user or item seen only in the test file is appended to the IdMaps, so a
// model has a (never trained) row for it and still predicts it from its biases and the mean.
ExplicitDataset given_split(const Interactions& train, const Interactions& test);

}  // namespace ncf::data
