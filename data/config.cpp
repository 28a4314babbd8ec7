// Names of the data config's enums, and the data section back to JSON.
#include "data/config.h"

#include "base/parse.h"

namespace ncf::data {

const EnumNames<DataFormat>& enum_names(DataFormat) {
  static const EnumNames<DataFormat> names = {{DataFormat::movielens_udata, "movielens-udata"},
                                              {DataFormat::movielens_dat, "movielens-dat"},
                                              {DataFormat::movielens_csv, "movielens-csv"},
                                              {DataFormat::ncf, "ncf"},
                                              {DataFormat::csv, "csv"}};
  return names;
}

const EnumNames<SplitKind>& enum_names(SplitKind) {
  static const EnumNames<SplitKind> names = {{SplitKind::leave_one_out, "leave_one_out"},
                                             {SplitKind::ratio, "ratio"},
                                             {SplitKind::temporal_ratio, "temporal_ratio"},
                                             {SplitKind::given, "given"}};
  return names;
}

namespace {
// A column spec as config.json writes it: a position as a number, a name as a string, absent as null.
nlohmann::json column_json(const std::string& spec) {
  if (spec.empty()) return nullptr;
  const std::optional<int64_t> position =
      spec.find_first_not_of("0123456789") == std::string::npos ? to_int64(spec) : std::nullopt;
  return position ? nlohmann::json(*position) : nlohmann::json(spec);
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json to_json(const DataConfig& c) {
  return {{"format", to_string(c.format)},
          {"path", c.path},
          {"titles", optional_json(c.titles)},
          {"test_path", optional_json(c.test_path)},
          {"csv",
           {{"separator", c.csv.separator},
            {"header", c.csv.header},
            {"user", column_json(c.csv.user)},
            {"item", column_json(c.csv.item)},
            {"rating", column_json(c.csv.rating)},
            {"timestamp", column_json(c.csv.timestamp)}}},
          {"binarize_threshold", optional_json(c.binarize_threshold)},
          {"min_user_interactions", c.min_user_interactions},
          {"min_item_interactions", c.min_item_interactions},
          {"user_fraction", c.user_fraction},
          {"split", to_string(c.split)},
          {"test_fraction", c.test_fraction},
          {"validation", c.validation},
          {"drop_cold_test_users", c.drop_cold_test_users},
          {"seed", c.seed}};
}

}  // namespace ncf::data
