// The synthetic generator: shape, determinism (by seed, whatever the thread count) and its CSV output.
#include "data/synthetic.h"

#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <set>

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
