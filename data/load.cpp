// DataConfig <-> JSON, and the read -> transform -> split -> cache pipeline of load.h.
#include "data/load.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>

#include "data/error.h"
#include "data/mapped_file.h"
#include "data/ncf_format.h"
#include "data/transforms.h"

namespace ncf::data {
namespace {

// Column specs may be names or 0-based positions; JSON numbers become digit strings.
std::string column_spec(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return value.get<std::string>();
}

template <class T>
void read_key(const nlohmann::json& object, const char* key, T& out) {
  if (object.contains(key) && !object[key].is_null()) out = object[key].get<T>();
}

std::vector<std::string> source_files(const DataConfig& c) {
  std::vector<std::string> files;
  if (c.format == "ncf") {
    files = {c.path + ".train.rating", c.path + ".test.rating"};
    struct stat info {};
    if (::stat((c.path + ".test.negative").c_str(), &info) == 0) files.push_back(c.path + ".test.negative");
  } else {
    files = {c.path};
  }
  if (!c.test_path.empty()) files.push_back(c.test_path);
  if (!c.titles.empty()) files.push_back(c.titles);
  return files;
}

std::string absolute(const std::string& path) {
  char resolved[4096];
  return ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

void make_dirs(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at == dir.size() || dir[at] == '/') ::mkdir(dir.substr(0, at).c_str(), 0755);
  }
}

// The options that shape an implicit / explicit result (paths and stamps are added by cache_key).
nlohmann::json result_options(const DataConfig& c, const char* kind) {
  nlohmann::json j = to_json(c);
  j.erase("path");
  j.erase("titles");
  j.erase("test_path");
  if (std::string(kind) == "explicit") {  // eval negatives play no part in an explicit split
    j.erase("eval_negatives");
    j.erase("eval_seed");
  }
  return j;
}

template <class T>
T cached(const DataConfig& config, const CacheOptions& cache, const char* kind,
         std::optional<T> (*load)(const std::string&, const std::string&), T (*build)(const DataConfig&)) {
  if (!cache.enabled) return build(config);
  const std::string path = cache_path(config, cache);
  const std::string key = cache_key(config, kind);
  if (std::optional<T> hit = load(path, key)) return std::move(*hit);
  T data = build(config);
  make_dirs(cache.dir);
  try {
    save_cache(path, key, data, cache.fail_after_arrays);
  } catch (const DataError& e) {
    if (cache.fail_after_arrays >= 0) throw;  // the test hook wants to see the failure
    std::fprintf(stderr, "warning: data cache not written: %s\n", e.what());  // the data itself is fine
  }
  return data;
}

ImplicitDataset build_implicit(const DataConfig& c) {
  if (c.format == "ncf") {
    if (c.split != "given" && c.split != "leave_one_out")
      throw DataError(c.path, "format ncf comes split: use split 'given' (not '" + c.split + "')");
    ImplicitDataset data = read_ncf(c.path);
    if (data.eval_negatives.empty()) draw_eval_negatives(data, c.eval_negatives, c.eval_seed);
    if (!c.titles.empty()) data.titles = read_titles(c.titles);
    return data;
  }
  if (c.split != "leave_one_out")
    throw DataError(c.path,
                    "split '" + c.split + "' is not an implicit split: use leave_one_out (or format ncf)");
  ImplicitDataset data = leave_one_out(binarize(load_interactions(c), c.binarize_threshold), c.validation);
  draw_eval_negatives(data, c.eval_negatives, c.eval_seed);
  return data;
}

ExplicitDataset build_explicit(const DataConfig& c) {
  const Interactions x = load_interactions(c);
  if (c.split == "given") {
    if (c.test_path.empty()) throw DataError(c.path, "split 'given' for ratings needs a test_path (e.g. u1.test)");
    return given_split(x, read_ratings(c.format, c.test_path, c.csv));
  }
  if (c.split == "ratio") return ratio_split(x, c.test_fraction, c.seed);
  if (c.split == "temporal_ratio") return temporal_ratio_split(x, c.test_fraction);
  throw DataError(c.path, "split '" + c.split + "' is not an explicit split: use ratio or temporal_ratio");
}

}  // namespace

DataConfig data_config_from_json(const nlohmann::json& config) {
  DataConfig c;
  const nlohmann::json& d = config.contains("data") ? config["data"] : config;
  read_key(d, "format", c.format);
  read_key(d, "path", c.path);
  read_key(d, "titles", c.titles);
  read_key(d, "test_path", c.test_path);
  if (d.contains("csv") && d["csv"].is_object()) {
    const nlohmann::json& csv = d["csv"];
    read_key(csv, "separator", c.csv.separator);
    read_key(csv, "header", c.csv.header);
    if (csv.contains("user")) c.csv.user = column_spec(csv["user"]);
    if (csv.contains("item")) c.csv.item = column_spec(csv["item"]);
    if (csv.contains("rating")) c.csv.rating = column_spec(csv["rating"]);
    if (csv.contains("timestamp")) c.csv.timestamp = column_spec(csv["timestamp"]);
  }
  if (d.contains("binarize_threshold") && !d["binarize_threshold"].is_null())
    c.binarize_threshold = d["binarize_threshold"].get<float>();
  read_key(d, "min_user_interactions", c.min_user_interactions);
  read_key(d, "min_item_interactions", c.min_item_interactions);
  read_key(d, "user_fraction", c.user_fraction);
  read_key(d, "split", c.split);
  read_key(d, "test_fraction", c.test_fraction);
  read_key(d, "validation", c.validation);
  read_key(d, "seed", c.seed);
  read_key(d, "eval_negatives", c.eval_negatives);  // the flat form written by to_json
  read_key(d, "eval_seed", c.eval_seed);
  if (config.contains("eval") && config["eval"].is_object()) {
    read_key(config["eval"], "negatives", c.eval_negatives);
    read_key(config["eval"], "seed", c.eval_seed);
  }
  return c;
}

nlohmann::json to_json(const DataConfig& c) {
  nlohmann::json j = {{"format", c.format},
                      {"path", c.path},
                      {"titles", c.titles},
                      {"test_path", c.test_path},
                      {"csv",
                       {{"separator", c.csv.separator},
                        {"header", c.csv.header},
                        {"user", c.csv.user},
                        {"item", c.csv.item},
                        {"rating", c.csv.rating},
                        {"timestamp", c.csv.timestamp}}},
                      {"binarize_threshold", nullptr},
                      {"min_user_interactions", c.min_user_interactions},
                      {"min_item_interactions", c.min_item_interactions},
                      {"user_fraction", c.user_fraction},
                      {"split", c.split},
                      {"test_fraction", c.test_fraction},
                      {"validation", c.validation},
                      {"seed", c.seed},
                      {"eval_negatives", c.eval_negatives},
                      {"eval_seed", c.eval_seed}};
  if (c.binarize_threshold) j["binarize_threshold"] = *c.binarize_threshold;
  return j;
}

Interactions load_interactions(const DataConfig& c) {
  Interactions x = read_ratings(c.format, c.path, c.csv);
  if (!c.titles.empty()) x.titles = read_titles(c.titles);
  if (c.min_user_interactions > 0 || c.min_item_interactions > 0)
    x = filter_min_interactions(x, c.min_user_interactions, c.min_item_interactions);
  if (c.user_fraction < 1.0) x = sample_users(x, c.user_fraction, c.seed);
  return x;
}

ImplicitDataset load_implicit(const DataConfig& config, const CacheOptions& cache) {
  return cached<ImplicitDataset>(config, cache, "implicit", load_implicit_cache, build_implicit);
}

ExplicitDataset load_explicit(const DataConfig& config, const CacheOptions& cache) {
  return cached<ExplicitDataset>(config, cache, "explicit", load_explicit_cache, build_explicit);
}

std::string cache_key(const DataConfig& config, const char* kind) {
  nlohmann::json sources = nlohmann::json::array();
  for (const std::string& file : source_files(config)) {
    const FileStamp stamp = file_stamp(file);  // throws DataError for a missing source
    sources.push_back({{"path", absolute(file)}, {"size", stamp.size}, {"mtime_ns", stamp.mtime_ns}});
  }
  return nlohmann::json{{"kind", kind}, {"sources", sources}, {"options", result_options(config, kind)}}
      .dump();
}

std::string cache_path(const DataConfig& config, const CacheOptions& cache) {
  // Named by source path and options but not by file stamps: a changed source overwrites its old cache.
  std::string name = config.path.substr(config.path.find_last_of('/') + 1);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_') ch = '_';
  const std::string identity = absolute(config.path) + "|" + config.titles + "|" + to_json(config).dump();
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(identity)));
  return cache.dir + "/" + name + "-" + hash + ".ncfcache";
}

}  // namespace ncf::data
