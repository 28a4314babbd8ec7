// bench_data: timings of the data layer at MovieLens-20M scale on the CPU.
//
// Generates a 20M-row ML-20M-shaped ratings.csv (138,493 users x 26,744 items) when the file is absent,
// then measures, each as the median of --runs runs with a warm page cache:
//   parse                 read_movielens_csv (mmap + parallel from_chars + id densification)
//   leave_one_out         leave_one_out split of the parsed rows (CSR built)
//   parse+split           the two together, without the binary cache (its first build)
//   eval_negatives        99 evaluation negatives per test user
//   cached_load           load_implicit from the binary cache (parse, split and negatives skipped)
//   negative_epoch        one epoch of 4 negatives per training positive, row-shuffled (TrainingSampler)
//   negative_epoch_groups the same with whole groups shuffled
// Prints a table and writes a JSON array of {"name","device","config","samples_per_s","median_ms","runs"}.
//
// Usage: bench_data [--path FILE] [--runs N] [--json FILE] [--cache-dir DIR] [--ratings N]
#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/cli.h"
#include "base/files.h"
#include "data/load.h"
#include "data/negative_sampler.h"
#include "data/readers.h"
#include "data/splits.h"
#include "data/synthetic.h"
#include "data/transforms.h"

using namespace ncf::data;

namespace {

const char* kUsage =
    "usage: bench_data [--path FILE] [--runs N] [--json FILE] [--cache-dir DIR] [--ratings N]\n"
    "Times parsing, splitting, the cached load and negative sampling of an ML-20M-shaped ratings.csv\n"
    "(generated at --path when absent).\n";
const EvalSampling kEval{99, 7};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// Process CPU time (all threads): on a shared machine it shows the work done when wall time is inflated
// by other processes competing for the cores.
double cpu_ms() { return 1e3 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Measurement {
  std::string name;
  double items_per_run;  // samples (rows) handled by one run
  std::vector<double> ms, cpu;
  double median() const {
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
};

// Times `body` `runs` times; `body` returns the number of samples it handled.
Measurement measure(const std::string& name, int runs, const std::function<double()>& body) {
  Measurement m{name, 0, {}, {}};
  for (int r = 0; r < runs; ++r) {
    const double start = now_ms(), cpu_start = cpu_ms();
    m.items_per_run = body();
    m.ms.push_back(now_ms() - start);
    m.cpu.push_back(cpu_ms() - cpu_start);
  }
  std::vector<double> cpu = m.cpu;
  std::sort(cpu.begin(), cpu.end());
  std::printf("  %-22s %10.1f ms (median of %d, cpu %8.1f ms)  %8.2f M samples/s\n", name.c_str(), m.median(),
              runs, cpu[cpu.size() / 2], m.items_per_run / m.median() / 1e3);
  std::fflush(stdout);
  return m;
}

int run_benchmarks(const std::string& path, const std::string& json_path, std::string cache_dir, int runs,
                   const SyntheticConfig& synthetic) {
  const std::string folder = path.substr(0, path.find_last_of('/'));
  if (cache_dir.empty()) cache_dir = folder + "/.cache";
  const int threads = omp_get_max_threads();
  const std::string device = "cpu (" + std::to_string(threads) + " threads)";

  if (!exists(path)) {
    std::printf("generating %lld ratings (%d users x %d items) into %s\n",
                static_cast<long long>(synthetic.ratings), synthetic.users, synthetic.items, path.c_str());
    ncf::make_directories(folder);
    const double start = now_ms();
    write_synthetic_csv(synthetic, path);
    std::printf("  generated in %.1f s\n", (now_ms() - start) / 1e3);
  }

  // Warm the page cache (and learn the shape) with one untimed parse.
  const Interactions warm = read_movielens_csv(path);
  const int64_t rows = warm.size();
  char config[256];
  std::snprintf(config, sizeof config, "%s: %lld rows, %d users x %d items", path.c_str(),
                static_cast<long long>(rows), warm.num_users(), warm.num_items());
  std::printf("bench_data on %s\n  %s\n", device.c_str(), config);

  std::vector<Measurement> results;
  results.push_back(
      measure("parse", runs, [&] { return static_cast<double>(read_movielens_csv(path).size()); }));
  results.push_back(measure("leave_one_out", runs, [&] {
    const ImplicitDataset d = leave_one_out(warm);  // binarize(std::move(x)) without a threshold is free
    return static_cast<double>(rows);
  }));
  results.push_back(measure("parse+split", runs, [&] {
    const ImplicitDataset d = leave_one_out(binarize(read_movielens_csv(path)));
    return static_cast<double>(rows);
  }));
  ImplicitDataset data = leave_one_out(warm);
  results.push_back(measure("eval_negatives", runs, [&] {
    draw_eval_negatives(data, 99, 7);
    return static_cast<double>(data.num_test_users()) * 99;
  }));

  DataConfig load_config;
  load_config.format = DataFormat::movielens_csv;
  load_config.path = path;
  CacheOptions cache;
  cache.dir = cache_dir;
  {
    const double start = now_ms();
    load_implicit(load_config, kEval, cache);  // first build (or an earlier run's cache)
    std::printf("  cache at %s (first load %.1f ms)\n", cache_path(load_config, &kEval, cache).c_str(),
                now_ms() - start);
  }
  results.push_back(measure("cached_load", runs, [&] {
    return static_cast<double>(load_implicit(load_config, kEval, cache).num_train());
  }));

  for (const ShuffleMode mode : {ShuffleMode::rows, ShuffleMode::groups}) {
    TrainingSampler sampler(data, 4, 42, mode);
    TrainingEpoch epoch;
    sampler.sample(0, epoch);  // allocates the buffers once, as training does
    uint32_t e = 1;
    results.push_back(
        measure(mode == ShuffleMode::rows ? "negative_epoch" : "negative_epoch_groups", runs, [&] {
          sampler.sample(e++, epoch);
          return static_cast<double>(epoch.size());
        }));
  }

  nlohmann::json out = nlohmann::json::array();
  for (const Measurement& m : results) {
    out.push_back({{"name", m.name},
                   {"device", device},
                   {"config", std::string(config) + ", train positives " + std::to_string(data.num_train()) +
                                  ", 4 negatives"},
                   {"samples_per_s", m.items_per_run / (m.median() / 1e3)},
                   {"median_ms", m.median()},
                   {"runs", m.ms.size()},
                   {"all_ms", m.ms},
                   {"cpu_ms", m.cpu}});
  }
  ncf::write_file_atomically(json_path, out.dump(2) + "\n");
  std::printf("wrote %s\n", json_path.c_str());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/ncf-bench/synthetic-ml-20m/ratings.csv";
  std::string json_path = "bench_data.json";
  std::string cache_dir;
  int64_t runs = 3;
  SyntheticConfig synthetic;  // ML-20M's shape by default
  ncf::cli::Parser args("bench_data", kUsage);
  args.option("--path", &path);
  args.option("--runs", &runs, 1, 1000);
  args.option("--json", &json_path);
  args.option("--cache-dir", &cache_dir);
  args.option("--ratings", &synthetic.ratings, 1, INT64_MAX);
  return ncf::cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    return run_benchmarks(path, json_path, cache_dir, static_cast<int>(runs), synthetic);
  });
}
