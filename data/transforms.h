// Transforms of Interactions before a split: binarize, k-core style filtering, and user sampling.
// Each returns a new Interactions with re-densified IdMaps (order of first appearance is preserved).
#pragma once

#include <cstdint>
#include <optional>

#include "data/interactions.h"

namespace ncf::data {

// Implicit feedback: with no threshold every rating is a positive; with a threshold only rows with
// rating >= threshold are kept. Kept rows get rating 1.0.
// Takes its input by value: binarize(std::move(x)) with no threshold reuses x's columns, no copy.
Interactions binarize(Interactions in, std::optional<float> threshold = std::nullopt);

// Drops users with fewer than min_user rows and items with fewer than min_item rows, repeatedly until
// no row is dropped (removing an item can push a user below the bar, and so on). 0 disables a bound.
Interactions filter_min_interactions(const Interactions& in, int64_t min_user, int64_t min_item);

// Keeps each user with probability `fraction`, decided by Philox from (seed, raw user id) alone: the
// same users are chosen whatever the row order, and a larger fraction keeps a superset of users.
Interactions sample_users(const Interactions& in, double fraction, uint64_t seed);

}  // namespace ncf::data
