// One call from a config's "data" section to a ready data set: read, transform, split, draw the
// evaluation negatives, and cache the result (cache.h) keyed by source files and options.
//
// Order of operations (implicit): read -> binarize (threshold or all) -> min interactions per
// user/item -> sample a fraction of users -> leave_one_out -> draw_eval_negatives. Format "ncf" reads
// the paper's own split (split "given") and its negatives file; the transforms do not apply to it.
// Explicit (ratio / temporal_ratio splits): read -> min interactions -> sample users -> split.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/cache.h"
#include "data/implicit_dataset.h"
#include "data/readers.h"
#include "data/splits.h"

namespace ncf::data {

struct DataConfig {
  std::string format = "movielens-udata";   // movielens-udata | movielens-dat | movielens-csv | ncf | csv
  std::string path;                         // file, or for format ncf the prefix (datasets/ncf-ml-1m/ml-1m)
  std::string titles;                       // optional u.item or movies.csv
  std::string test_path;                    // split "given" for explicit ratings: the test file (u1.test)
  DelimitedFormat csv;                      // format csv only
  std::optional<float> binarize_threshold;  // nullopt: every rating is a positive
  int64_t min_user_interactions = 0;
  int64_t min_item_interactions = 0;
  double user_fraction = 1.0;
  std::string split = "leave_one_out";  // leave_one_out | ratio | temporal_ratio | given
  double test_fraction = 0.2;
  bool validation = false;
  uint64_t seed = 42;           // user sampling and the random ratio split
  int32_t eval_negatives = 99;  // from the config's "eval" section
  uint64_t eval_seed = 7;
};

// Reads config["data"] (and "negatives"/"seed" from config["eval"] when present); missing keys keep
// their defaults. Accepts either the whole config or just its "data" object.
DataConfig data_config_from_json(const nlohmann::json& config);
nlohmann::json to_json(const DataConfig& config);

// The file's rows after the transforms, before any split (no cache).
Interactions load_interactions(const DataConfig& config);
// Implicit data set (split leave_one_out or given). Uses and refreshes the cache when enabled.
ImplicitDataset load_implicit(const DataConfig& config, const CacheOptions& cache = {});
// Explicit ratings (split ratio or temporal_ratio).
ExplicitDataset load_explicit(const DataConfig& config, const CacheOptions& cache = {});

// The cache file a config would use, and the key stored in it (exposed for tests and tools).
std::string cache_path(const DataConfig& config, const CacheOptions& cache);
std::string cache_key(const DataConfig& config, const char* kind);

}  // namespace ncf::data
