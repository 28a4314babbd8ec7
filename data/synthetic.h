// A generator of MovieLens-shaped rating data at any scale, deterministic by seed (and independent of
// the thread count: every user's rows are a pure function of (seed, user)).
//
// Shape: each user rates at least min_per_user items (MovieLens keeps users with >= 20 ratings) plus a
// log-normally distributed extra share, so activity is heavy-tailed. Items are drawn without repetition
// per user from a mixture: Zipf popularity over a global item ranking, Zipf over the user's taste
// cluster's own ranking (users in a cluster share favourites), and a little uniform noise. Ratings are
// 0.5..5 in halves from user bias + item quality + a taste bonus + noise. Timestamps fall in a burst of
// activity per user between start_time and end_time (many ties at second resolution, as in MovieLens).
// Rows are grouped by user, items in increasing raw id, like ML-20M's ratings.csv.
#pragma once

#include <cstdint>
#include <string>

#include "data/interactions.h"

namespace ncf::data {

struct SyntheticConfig {
  int32_t users = 138493;  // MovieLens-20M's shape
  int32_t items = 26744;
  int64_t ratings = 20000263;
  uint64_t seed = 20;
  int32_t clusters = 32;
  double zipf_exponent = 1.0;
  int32_t min_per_user = 20;
  int64_t start_time = 789652009;  // 1995-01-09, ML-20M's first rating
  int64_t end_time = 1427784002;   // 2015-03-31, its last
};

// Raw ids are userId 1..users and movieId 1..items (a movie's id says nothing about its popularity).
Interactions generate_synthetic(const SyntheticConfig& config);

// Writes rows as a MovieLens ratings.csv (header userId,movieId,rating,timestamp), formatting in
// parallel; written to a temporary file and renamed, so `path` is either complete or absent.
void write_ratings_csv(const Interactions& rows, const std::string& path);

// generate_synthetic + write_ratings_csv.
void write_synthetic_csv(const SyntheticConfig& config, const std::string& path);

// A larger data set grown from a real one, in the spirit of MLPerf's ml-20m x16 x32: each user u
// becomes `user_factor` users (u, a) and each item i becomes `item_factor` items (i, b). Every rating
// (u, i, r, t) becomes one rating per copy a of its user, (u, a) rating (i, b) with the same r and t,
// where b = (hash(seed, u, i) + a) mod item_factor. So each new user keeps its original's history
// (count, order, timestamps: the leave-one-out test item keeps its place) on copies of the same
// items, two copies of one user share no item copy when item_factor >= user_factor, and an item's
// ratings are spread over its copies. Ratings grow by user_factor, users by user_factor, items by
// item_factor. (MLPerf's fractal expansion, a Kronecker product with a random small matrix, also
// grows the ratings per user; this keeps them, which is what a scaling measurement wants.)
// Raw ids are 1-based: user u's copy a is u * user_factor + a + 1 (dense u in the input), likewise
// for items; rows are grouped by new user, each user's rows in the input's order. Titles are dropped.
struct ExpandConfig {
  int32_t user_factor = 16;
  int32_t item_factor = 32;
  uint64_t seed = 16;
};
Interactions expand_interactions(const Interactions& rows, const ExpandConfig& config);

}  // namespace ncf::data
