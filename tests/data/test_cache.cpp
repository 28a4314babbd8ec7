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
  config.format = DataFormat::movielens_csv;
  config.path = dir.file("ratings.csv", ratings_text(30));
  config.titles = dir.file("movies.csv", "movieId,title,genres\n100,\"A, B\",x\n");
  config.validation = true;
  const EvalSampling eval{10, 7};
  CacheOptions cache;
  cache.dir = dir.path("cache");

  const ImplicitDataset fresh = load_implicit(config, eval, CacheOptions{false});
  const ImplicitDataset first = load_implicit(config, eval, cache);  // builds and writes the cache
  REQUIRE(std::filesystem::exists(cache_path(config, &eval, cache)));
  const ImplicitDataset cached = load_implicit(config, eval, cache);  // reads it
  check_same(fresh, first);
  check_same(fresh, cached);
  CHECK(cached.titles.at(100) == "A, B");

  // A different option is a different cache file; a changed source overwrites the stale one.
  const EvalSampling other{5, 7};
  CHECK(cache_path(config, &other, cache) != cache_path(config, &eval, cache));
  CHECK(load_implicit(config, other, cache).eval_negatives_per_user == 5);
  const std::string key_before = cache_key(config, &eval);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  dir.file("ratings.csv", ratings_text(31));
  CHECK(cache_key(config, &eval) != key_before);
  const ImplicitDataset rebuilt = load_implicit(config, eval, cache);
  CHECK(rebuilt.num_users == 31);
  check_same(rebuilt, load_implicit(config, eval, CacheOptions{false}));

  // A damaged cache file is ignored and rewritten.
  dir.file("cache/" + std::filesystem::path(cache_path(config, &eval, cache)).filename().string(),
           "NCFDCACH garbage");
  check_same(rebuilt, load_implicit(config, eval, cache));
}

TEST_CASE("cache: explicit splits round trip too") {
  TempDir dir;
  DataConfig config;
  config.format = DataFormat::movielens_csv;
  config.path = dir.file("ratings.csv", ratings_text(20));
  config.split = SplitKind::ratio;
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
  config.format = DataFormat::movielens_csv;
  CacheOptions cache;
  cache.dir = dir.path("cache");
  SUBCASE("a parse error writes nothing") {
    config.path = dir.file("ratings.csv", "userId,movieId,rating,timestamp\n1,2,x,4\n");
    CHECK_THROWS_AS(load_implicit(config, EvalSampling{}, cache), DataError);
  }
  SUBCASE("a failure while writing removes the temporary file") {
    config.path = dir.file("ratings.csv", ratings_text(5));
    cache.fail_after_arrays = 3;
    CHECK_THROWS_AS(load_implicit(config, EvalSampling{}, cache), DataError);
  }
  for (const std::string& name : dir.listing()) {
    CHECK_MESSAGE(name.find("ncfcache") == std::string::npos, "left behind: " << name);
  }
}

TEST_CASE("the data config as JSON: column positions are numbers, absent columns null") {
  DataConfig c;
  c.format = DataFormat::csv;
  c.csv = DelimitedFormat{";", false, "0", "1", "", "3"};
  c.binarize_threshold = 4.0;
  const nlohmann::json j = to_json(c);
  CHECK(j["format"] == "csv");
  CHECK(j["csv"]["separator"] == ";");
  CHECK(j["csv"]["header"] == false);
  CHECK(j["csv"]["user"] == 0);
  CHECK(j["csv"]["rating"].is_null());
  CHECK(j["csv"]["timestamp"] == 3);
  CHECK(j["binarize_threshold"] == 4.0);
  CHECK(j["titles"].is_null());
  c.csv.user = "userId";
  CHECK(to_json(c)["csv"]["user"] == "userId");
}
