// The data section of an experiment config as typed values: which file, in which format, which
// transforms and which split (the keys are listed in the README's config reference).
//
// recsys/config.cpp parses it from JSON, with errors that name the key; data/load.h's pipeline reads
// it; to_json writes it back, for a run folder's config.json and for the key of the data cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"

namespace ncf::data {

enum class DataFormat { movielens_udata, movielens_dat, movielens_csv, ncf, csv };
enum class SplitKind { leave_one_out, ratio, temporal_ratio, given };
const EnumNames<DataFormat>& enum_names(DataFormat);  // "movielens-udata", ...
const EnumNames<SplitKind>& enum_names(SplitKind);    // "leave_one_out", ...

// Column map of a delimited file (format csv). A column is named by its header name (needs
// header = true) or by its 0-based position written as digits ("0", "2"). rating and timestamp may
// be empty: absent columns read as rating 1.0 and timestamp 0 (file order then stands in for time).
struct DelimitedFormat {
  std::string separator = ",";
  bool header = true;
  std::string user = "userId";
  std::string item = "movieId";
  std::string rating = "rating";
  std::string timestamp = "timestamp";
};

struct DataConfig {
  DataFormat format = DataFormat::movielens_udata;
  std::string path = "datasets/ml-100k/u.data";  // format ncf: the prefix of PREFIX.train.rating etc.
  std::optional<std::string> titles;             // u.item or movies.csv
  std::optional<std::string> test_path;          // split "given" for explicit ratings (u1.test)
  DelimitedFormat csv;                           // format csv only
  std::optional<double> binarize_threshold;      // none: every rating is a positive
  int64_t min_user_interactions = 0;
  int64_t min_item_interactions = 0;
  double user_fraction = 1.0;                  // (0, 1]
  SplitKind split = SplitKind::leave_one_out;  // format ncf: always "given" (its files are the split)
  double test_fraction = 0.2;                  // (0, 1), ratio splits
  bool validation = false;                     // leave-one-out: hold out a validation item too
  bool drop_cold_test_users = false;           // format ncf: leave test users without training rows out
  uint64_t seed = 42;                          // user sampling and the random ratio split
};

// The evaluation negatives drawn once when an implicit data set is built (the config's "eval"
// section): `negatives` per test user from `seed`. They are part of what the data cache holds.
struct EvalSampling {
  int32_t negatives = 99;
  uint64_t seed = 7;
};

// Every key, defaults included, as config.json holds the "data" section (a column spec in digits
// becomes a number, an absent one null).
nlohmann::json to_json(const DataConfig& config);

}  // namespace ncf::data
