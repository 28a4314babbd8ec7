// The binary cache: round trip equals a fresh parse, stale caches rebuild, no partial file survives.
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "data/load.h"
#include "tests/data/data_test_util.h"

using namespace ncf::data;
using ncf::test::TempDir;

namespace {

void check_same(const ImplicitDataset& a, const ImplicitDataset& b) {
  CHECK(a.num_users == b.num_users);
  CHECK(a.num_items == b.num_items);
  CHECK(a.train_user == b.train_user);
  CHECK(a.train_item == b.train_item);
  CHECK(a.train_offsets == b.train_offsets);
  CHECK(a.test_item == b.test_item);
  CHECK(a.validation_item == b.validation_item);
  CHECK(a.eval_negatives_per_user == b.eval_negatives_per_user);
  CHECK(a.eval_negatives == b.eval_negatives);
  CHECK(a.item_popularity == b.item_popularity);
  CHECK(a.users == b.users);
  CHECK(a.items == b.items);
  CHECK(a.titles == b.titles);
}

std::string ratings_text(int users) {
  std::string text = "userId,movieId,rating,timestamp\n";
  for (int u = 1; u <= users; ++u)
    for (int i = 0; i < 8; ++i)
      text += std::to_string(u * 7) + "," + std::to_string(100 + (u * 3 + i * 5) % 40) + ",4.5," +
              std::to_string(i) + "\n";
  return text;
}

}  // namespace

TEST_CASE("cache: a cached load equals a fresh parse, and option or source changes rebuild") {
  TempDir dir;
  DataConfig config;
  config.format = "movielens-csv";
  config.path = dir.file("ratings.csv", ratings_text(30));
  config.titles = dir.file("movies.csv", "movieId,title,genres\n100,\"A, B\",x\n");
  config.validation = true;
  config.eval_negatives = 10;
  CacheOptions cache;
  cache.dir = dir.path("cache");

  const ImplicitDataset fresh = load_implicit(config, CacheOptions{false});
  const ImplicitDataset first = load_implicit(config, cache);  // builds and writes the cache
  REQUIRE(std::filesystem::exists(cache_path(config, cache)));
  const ImplicitDataset cached = load_implicit(config, cache);  // reads it
  check_same(fresh, first);
  check_same(fresh, cached);
  CHECK(cached.titles.at(100) == "A, B");

  // A different option is a different cache file; a changed source overwrites the stale one.
  DataConfig other = config;
  other.eval_negatives = 5;
  CHECK(cache_path(other, cache) != cache_path(config, cache));
  CHECK(load_implicit(other, cache).eval_negatives_per_user == 5);
  const std::string key_before = cache_key(config, "implicit");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  dir.file("ratings.csv", ratings_text(31));
  CHECK(cache_key(config, "implicit") != key_before);
  const ImplicitDataset rebuilt = load_implicit(config, cache);
  CHECK(rebuilt.num_users == 31);
  check_same(rebuilt, load_implicit(config, CacheOptions{false}));

  // A damaged cache file is ignored and rewritten.
  dir.file("cache/" + std::filesystem::path(cache_path(config, cache)).filename().string(),
           "NCFDCACH garbage");
  check_same(rebuilt, load_implicit(config, cache));
}

TEST_CASE("cache: explicit splits round trip too") {
  TempDir dir;
  DataConfig config;
  config.format = "movielens-csv";
  config.path = dir.file("ratings.csv", ratings_text(20));
  config.split = "ratio";
  CacheOptions cache;
  cache.dir = dir.path("cache");
  const ExplicitDataset a = load_explicit(config, cache), b = load_explicit(config, cache);
  CHECK(a.train.user == b.train.user);
  CHECK(a.test.item == b.test.item);
  CHECK(a.test.rating == b.test.rating);
  CHECK(a.test.items == b.test.items);
  CHECK(a.train.size() + a.test.size() == 160);
}

TEST_CASE("cache: no partial cache is left after a failure") {
  TempDir dir;
  DataConfig config;
  config.format = "movielens-csv";
  CacheOptions cache;
  cache.dir = dir.path("cache");
  SUBCASE("a parse error writes nothing") {
    config.path = dir.file("ratings.csv", "userId,movieId,rating,timestamp\n1,2,x,4\n");
    CHECK_THROWS_AS(load_implicit(config, cache), DataError);
  }
  SUBCASE("a failure while writing removes the temporary file") {
    config.path = dir.file("ratings.csv", ratings_text(5));
    cache.fail_after_arrays = 3;
    CHECK_THROWS_AS(load_implicit(config, cache), DataError);
  }
  for (const std::string& name : dir.listing()) {
    CHECK_MESSAGE(name.find("ncfcache") == std::string::npos, "left behind: " << name);
  }
}

TEST_CASE("data config from JSON") {
  const auto json = nlohmann::json::parse(R"({
    "data": {"format": "csv", "path": "p", "csv": {"separator": ";", "header": false, "user": 0, "item": 1,
             "rating": null, "timestamp": 3}, "binarize_threshold": 4, "split": "leave_one_out", "validation": true},
    "eval": {"negatives": 50, "seed": 3}})");
  const DataConfig c = data_config_from_json(json);
  CHECK(c.format == "csv");
  CHECK(c.csv.separator == ";");
  CHECK_FALSE(c.csv.header);
  CHECK(c.csv.user == "0");
  CHECK(c.csv.rating == "");
  CHECK(c.csv.timestamp == "3");
  CHECK(*c.binarize_threshold == 4.0f);
  CHECK(c.validation);
  CHECK(c.eval_negatives == 50);
  CHECK(c.eval_seed == 3);
  CHECK(data_config_from_json(to_json(c)).csv.timestamp == "3");
}
