// The read -> transform -> split -> cache pipeline of load.h.
#include "data/load.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>

#include "base/files.h"
#include "data/error.h"
#include "data/mapped_file.h"
#include "data/ncf_format.h"
#include "data/readers.h"
#include "data/transforms.h"

namespace ncf::data {
namespace {

std::vector<std::string> source_files(const DataConfig& c) {
  std::vector<std::string> files;
  if (c.format == DataFormat::ncf) {
    files = {c.path + ".train.rating", c.path + ".test.rating"};
    if (is_regular_file(c.path + ".test.negative")) files.push_back(c.path + ".test.negative");
  } else {
    files = {c.path};
  }
  if (c.test_path) files.push_back(*c.test_path);
  if (c.titles) files.push_back(*c.titles);
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

// The options that shape the result (paths and stamps are added by cache_key): every data key but
// the paths, and for an implicit data set the evaluation negatives drawn with it.
nlohmann::json result_options(const DataConfig& c, const EvalSampling* eval) {
  nlohmann::json j = to_json(c);
  j.erase("path");
  j.erase("titles");
  j.erase("test_path");
  if (eval) {
    j["eval_negatives"] = eval->negatives;
    j["eval_seed"] = eval->seed;
  }
  return j;
}

template <class T, class Build>
T cached(const DataConfig& config, const EvalSampling* eval, const CacheOptions& cache,
         std::optional<T> (*load)(const std::string&, const std::string&, std::string*), const Build& build) {
  if (!cache.enabled) return build();
  const std::string path = cache_path(config, eval, cache);
  const std::string key = cache_key(config, eval);
  std::string problem;
  if (std::optional<T> hit = load(path, key, &problem)) return std::move(*hit);
  if (!problem.empty())
    std::fprintf(stderr, "warning: data cache %s is damaged (%s); rebuilding it\n", path.c_str(),
                 problem.c_str());
  T data = build();
  try {
    make_directories(cache.dir);
    remove_orphaned_temporaries(cache.dir, [](const std::string& name) {
      return name.size() > 9 && name.compare(name.size() - 9, 9, ".ncfcache") == 0;
    });
    save_cache(path, key, data, cache.fail_after_arrays);
  } catch (const Error& e) {
    if (cache.fail_after_arrays >= 0) throw;  // the test hook wants to see the failure
    std::fprintf(stderr, "warning: data cache not written: %s\n", e.what());  // the data itself is fine
  }
  return data;
}

ImplicitDataset build_implicit(const DataConfig& c, const EvalSampling& eval) {
  if (c.format == DataFormat::ncf) {
    if (c.split != SplitKind::given && c.split != SplitKind::leave_one_out)
      throw DataError(c.path, std::string("format ncf comes split: use split 'given' (not '") +
                                  to_string(c.split) + "')");
    ImplicitDataset data = read_ncf(c.path);
    if (data.eval_negatives.empty()) draw_eval_negatives(data, eval.negatives, eval.seed);
    if (c.drop_cold_test_users) drop_cold_test_users(data);
    if (c.titles) data.titles = read_titles(*c.titles);
    return data;
  }
  if (c.split != SplitKind::leave_one_out)
    throw DataError(c.path, std::string("split '") + to_string(c.split) +
                                "' is not an implicit split: use leave_one_out (or format ncf)");
  ImplicitDataset data = leave_one_out(binarize(load_interactions(c), c.binarize_threshold), c.validation);
  draw_eval_negatives(data, eval.negatives, eval.seed);
  return data;
}

ExplicitDataset build_explicit(const DataConfig& c) {
  const Interactions x = load_interactions(c);
  switch (c.split) {
    case SplitKind::given:
      if (!c.test_path) throw DataError(c.path, "split 'given' for ratings needs a test_path (e.g. u1.test)");
      return given_split(x, read_ratings(c.format, *c.test_path, c.csv));
    case SplitKind::ratio:
      return ratio_split(x, c.test_fraction, c.seed);
    case SplitKind::temporal_ratio:
      return temporal_ratio_split(x, c.test_fraction);
    case SplitKind::leave_one_out:
      break;
  }
  throw DataError(c.path,
                  "split 'leave_one_out' is not an explicit split: use ratio, temporal_ratio or given");
}

}  // namespace

Interactions load_interactions(const DataConfig& c) {
  Interactions x = read_ratings(c.format, c.path, c.csv);
  if (c.titles) x.titles = read_titles(*c.titles);
  if (c.min_user_interactions > 0 || c.min_item_interactions > 0)
    x = filter_min_interactions(x, c.min_user_interactions, c.min_item_interactions);
  if (c.user_fraction < 1.0) x = sample_users(x, c.user_fraction, c.seed);
  return x;
}

ImplicitDataset load_implicit(const DataConfig& config, const EvalSampling& eval, const CacheOptions& cache) {
  return cached<ImplicitDataset>(config, &eval, cache, load_implicit_cache,
                                 [&] { return build_implicit(config, eval); });
}

ExplicitDataset load_explicit(const DataConfig& config, const CacheOptions& cache) {
  return cached<ExplicitDataset>(config, nullptr, cache, load_explicit_cache,
                                 [&] { return build_explicit(config); });
}

// The version of the code that turns files into data sets: bump it whenever a reader, a transform, a
// split or the evaluation-negative draw changes its result, so that old caches are not used.
constexpr int kDataLogicVersion = 2;

std::string cache_key(const DataConfig& config, const EvalSampling* eval) {
  nlohmann::json sources = nlohmann::json::array();
  for (const std::string& file : source_files(config)) {
    const FileStamp stamp = file_stamp(file);  // throws DataError for a missing source
    sources.push_back({{"path", absolute(file)}, {"size", stamp.size}, {"mtime_ns", stamp.mtime_ns}});
  }
  return nlohmann::json{{"kind", eval ? "implicit" : "explicit"},
                        {"logic_version", kDataLogicVersion},
                        {"sources", sources},
                        {"options", result_options(config, eval)}}
      .dump();
}

std::string cache_path(const DataConfig& config, const EvalSampling* eval, const CacheOptions& cache) {
  // Named by source path and options but not by file stamps: a changed source overwrites its old cache.
  std::string name = config.path.substr(config.path.find_last_of('/') + 1);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_') ch = '_';
  const std::string identity =
      absolute(config.path) + "|" + config.titles.value_or("") + "|" + result_options(config, eval).dump();
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(identity)));
  return cache.dir + "/" + name + "-" + hash + ".ncfcache";
}

}  // namespace ncf::data
