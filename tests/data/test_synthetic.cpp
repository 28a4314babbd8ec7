// The synthetic generator: shape, determinism (by seed, whatever the thread count) and its CSV output.
#include "data/synthetic.h"

#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "data/readers.h"
#include "tests/data/data_test_util.h"

using namespace ncf::data;
using ncf::test::TempDir;

TEST_CASE("synthetic data: exact counts, MovieLens value ranges, distinct items per user") {
  SyntheticConfig config;
  config.users = 500;
  config.items = 800;
  config.ratings = 40000;
  const Interactions x = generate_synthetic(config);
  CHECK(x.size() == 40000);
  CHECK(x.num_users() == 500);
  CHECK(x.num_items() <= 800);
  CHECK(x.num_items() > 700);
  std::vector<int64_t> per_user(500, 0), per_item(x.num_items(), 0);
  std::set<std::pair<int32_t, int32_t>> pairs;
  for (int64_t r = 0; r < x.size(); ++r) {
    ++per_user[x.user[r]];
    ++per_item[x.item[r]];
    pairs.insert({x.user[r], x.item[r]});
    CHECK(x.rating[r] >= 0.5f);
    CHECK(x.rating[r] <= 5.0f);
    CHECK(x.rating[r] * 2 == static_cast<float>(static_cast<int>(x.rating[r] * 2)));
    CHECK(x.timestamp[r] >= config.start_time);
    CHECK(x.timestamp[r] <= config.end_time);
  }
  CHECK(pairs.size() == 40000);
  CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 20);
  // Heavy tails: the busiest user and the most popular item stand far above the average.
  CHECK(*std::max_element(per_user.begin(), per_user.end()) >= 5 * 80);  // the cap: half the catalogue
  CHECK(*std::max_element(per_item.begin(), per_item.end()) > 8 * 50);
}

TEST_CASE("synthetic data: deterministic by seed and thread count; the CSV reads back the same") {
  SyntheticConfig config;
  config.users = 300;
  config.items = 400;
  config.ratings = 20000;
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const Interactions one = generate_synthetic(config);
  omp_set_num_threads(2);
  const Interactions two = generate_synthetic(config);
  omp_set_num_threads(before);
  CHECK(one.user == two.user);
  CHECK(one.item == two.item);
  CHECK(one.rating == two.rating);
  CHECK(one.timestamp == two.timestamp);
  config.seed += 1;
  CHECK(generate_synthetic(config).item != one.item);

  TempDir dir;
  write_ratings_csv(one, dir.path("ratings.csv"));
  const Interactions back = read_movielens_csv(dir.path("ratings.csv"));
  CHECK(back.user == one.user);
  CHECK(back.item == one.item);
  CHECK(back.rating == one.rating);
  CHECK(back.timestamp == one.timestamp);
  CHECK(back.items.raw_ids() == one.items.raw_ids());
}

TEST_CASE("expand_interactions: each user and item split into copies, every history kept") {
  // A hand-made source: users with interleaved rows, one item rated by everybody.
  Interactions x;
  const std::vector<std::tuple<int64_t, int64_t, float, int64_t>> rows = {
      {10, 100, 4.0f, 5}, {20, 100, 3.0f, 7}, {10, 200, 5.0f, 6}, {30, 300, 1.0f, 9},
      {20, 300, 2.5f, 8}, {30, 100, 4.5f, 3}, {10, 300, 2.0f, 4}};
  for (const auto& [u, i, r, t] : rows) {
    x.user.push_back(x.users.insert(u));
    x.item.push_back(x.items.insert(i));
    x.rating.push_back(r);
    x.timestamp.push_back(t);
  }
  ExpandConfig config;
  config.user_factor = 3;
  config.item_factor = 4;
  config.seed = 5;
  const Interactions y = expand_interactions(x, config);
  CHECK(y.size() == x.size() * 3);
  CHECK(y.num_users() == 9);
  CHECK(y.num_items() == 12);
  // Reference: copy a of user u holds exactly u's rows, in file order, each on some copy of its item.
  int64_t row = 0;
  std::map<int32_t, std::set<int32_t>> copies_of_item_per_user;  // (u) -> item copies its users took
  for (int32_t u = 0; u < x.num_users(); ++u)
    for (int32_t a = 0; a < 3; ++a)
      for (int64_t r = 0; r < x.size(); ++r) {
        if (x.user[r] != u) continue;
        REQUIRE(row < y.size());
        CHECK(y.user[row] == u * 3 + a);
        CHECK(y.item[row] / 4 == x.item[r]);
        CHECK(y.rating[row] == x.rating[r]);
        CHECK(y.timestamp[row] == x.timestamp[r]);
        CHECK(y.users.raw(y.user[row]) == y.user[row] + 1);
        // item_factor >= user_factor: the copies of one user never share a copy of an item.
        CHECK(copies_of_item_per_user[u].insert(y.item[row]).second);
        ++row;
      }
  CHECK(row == y.size());
  // Deterministic by seed; another seed moves some ratings to other item copies.
  CHECK(expand_interactions(x, config).item == y.item);
  config.seed = 6;
  CHECK(expand_interactions(x, config).item != y.item);
  config.user_factor = 0;
  CHECK_THROWS_WITH_AS(expand_interactions(x, config), doctest::Contains("factors must be >= 1"), ncf::Error);
}
