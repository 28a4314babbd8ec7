// bench_ials: timings of the closed-form baselines' numerical core.
//
//   ials_sweep    one iALS sweep (all users, then all items) at --dim on the ML-20M-shaped synthetic
//                 ratings (read_movielens_csv + binarize + leave_one_out, as the other benchmarks),
//                 median of --runs sweeps after one untimed warm-up sweep; samples = training positives
//   ials_users    the users' half of those sweeps
//   ials_items    the items' half
//   ease_weights  EASE's B for an ML-1M-shaped synthetic set (6,040 users x 3,706 items, 1,000,209
//                 ratings; generated in memory): co-occurrence Gram, + lambda I, SPD inverse in place,
//                 column scaling; samples = items (rows of B)
//   spd_inverse   the inverse alone on that Gram, f32 and f64
// Prints a table and writes a JSON array of {"name","device","config","samples_per_s","median_ms","runs"}
// (plus all_ms and cpu_ms: process CPU time, which shows the work done when other processes share
// the cores and inflate the wall time).
//
// --dump-csr DIR writes the iALS training matrix as DIR/indptr.i64 and DIR/indices.i32 (raw little-
// endian arrays) and DIR/shape.txt ("users items"), so that another library can be timed on the very
// same matrix (scripts/bench_implicit.py).
//
// Usage: bench_ials [--path FILE] [--dim D] [--runs N] [--json FILE] [--device cpu|cuda|auto]
//                   [--alpha0 A] [--lambda L] [--nu NU] [--dump-csr DIR] [--skip-ials] [--skip-ease]
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
#include "data/readers.h"
#include "data/splits.h"
#include "data/synthetic.h"
#include "data/transforms.h"
#include "recsys/ease.h"
#include "recsys/ials.h"

using namespace ncf;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
double cpu_ms() { return 1e3 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Measurement {
  std::string name, config;
  double samples = 0;  // handled by one run
  std::vector<double> ms, cpu;
};

void report(const Measurement& m) {
  std::printf("  %-14s %10.1f ms (median of %zu, cpu %9.1f ms)  %10.3f M samples/s\n", m.name.c_str(),
              median(m.ms), m.ms.size(), median(m.cpu), m.samples / median(m.ms) / 1e3);
  std::fflush(stdout);
}

// Times body() `runs` times; body returns the samples it handled. Device work is synchronised.
Measurement measure(const std::string& name, const std::string& config, int runs, Device device,
                    const std::function<double()>& body) {
  Measurement m{name, config, 0, {}, {}};
  for (int r = 0; r < runs; ++r) {
    synchronize(device);
    const double start = now_ms(), cpu_start = cpu_ms();
    m.samples = body();
    synchronize(device);
    m.ms.push_back(now_ms() - start);
    m.cpu.push_back(cpu_ms() - cpu_start);
  }
  report(m);
  return m;
}

void dump_csr(const data::ImplicitDataset& d, const std::string& dir) {
  make_directories(dir);
  std::ofstream(dir + "/indptr.i64", std::ios::binary)
      .write(reinterpret_cast<const char*>(d.train_offsets.data()),
             static_cast<std::streamsize>(d.train_offsets.size() * sizeof(int64_t)));
  std::ofstream(dir + "/indices.i32", std::ios::binary)
      .write(reinterpret_cast<const char*>(d.train_item.data()),
             static_cast<std::streamsize>(d.train_item.size() * sizeof(int32_t)));
  std::ofstream(dir + "/shape.txt") << d.num_users << " " << d.num_items << "\n";
  std::printf("  wrote the training CSR (%d x %d, %lld positives) to %s\n", d.num_users, d.num_items,
              static_cast<long long>(d.num_train()), dir.c_str());
}

const char* kUsage =
    "usage: bench_ials [--path FILE] [--dim D] [--runs N] [--json FILE] [--device cpu|cuda|auto]\n"
    "                  [--alpha0 A] [--lambda L] [--nu NU] [--dump-csr DIR] [--skip-ials] [--skip-ease]\n";

int run(const std::string& path, const std::string& json_path, const std::string& dump_dir,
        const std::string& device_name_arg, int runs, bool skip_ials, bool skip_ease, recsys::IalsConfig config) {
  const Device device = parse_device(device_name_arg);
  const std::string device_label =
      device.is_cpu() ? "cpu (" + std::to_string(omp_get_max_threads()) + " threads)" : device_name(device);
  std::printf("bench_ials on %s\n", device_label.c_str());
  std::vector<Measurement> results;

  if (!skip_ials) {
    if (!is_regular_file(path)) {
      std::fprintf(stderr, "%s not found: build and run generate_ratings --out %s first\n", path.c_str(),
                   path.c_str());
      return 1;
    }
    const double load_start = now_ms();
    const data::ImplicitDataset d = data::leave_one_out(data::binarize(data::read_movielens_csv(path)));
    std::printf("  loaded %s in %.1f s: %d users x %d items, %lld training positives\n", path.c_str(),
                (now_ms() - load_start) / 1e3, d.num_users, d.num_items,
                static_cast<long long>(d.num_train()));
    if (!dump_dir.empty()) dump_csr(d, dump_dir);
    char text[512];
    std::snprintf(
        text, sizeof text,
        "%s: %d users x %d items, %lld training positives; dim %lld, %s, alpha0 %g, lambda %g, nu %g; "
        "samples = training positives",
        path.c_str(), d.num_users, d.num_items, static_cast<long long>(d.num_train()),
        static_cast<long long>(config.dim), dtype_name(config.dtype), config.unobserved_weight,
        config.regularization, config.frequency_exponent);
    const double setup_start = now_ms();
    recsys::Ials model(config, d, device);
    std::printf("  CSR both ways and initial factors in %.1f s; initial loss %.6g\n",
                (now_ms() - setup_start) / 1e3, model.loss());
    model.sweep();  // warm-up: buffers, caches, pages
    std::printf("  loss after the warm-up sweep %.6g\n", model.loss());
    Measurement users{"ials_users", text, static_cast<double>(d.num_train()), {}, {}};
    Measurement items{"ials_items", text, static_cast<double>(d.num_train()), {}, {}};
    Measurement sweep = measure("ials_sweep", text, runs, device, [&] {
      double start = now_ms(), cpu_start = cpu_ms();
      model.solve_users();
      synchronize(device);
      users.ms.push_back(now_ms() - start);
      users.cpu.push_back(cpu_ms() - cpu_start);
      start = now_ms();
      cpu_start = cpu_ms();
      model.solve_items();
      synchronize(device);
      items.ms.push_back(now_ms() - start);
      items.cpu.push_back(cpu_ms() - cpu_start);
      return static_cast<double>(d.num_train());
    });
    report(users);
    report(items);
    std::printf("  loss after %d more sweeps %.6g\n", runs, model.loss());
    results.push_back(sweep);
    results.push_back(users);
    results.push_back(items);
  }

  if (!skip_ease) {
    data::SyntheticConfig ml1m;
    ml1m.users = 6040;
    ml1m.items = 3706;
    ml1m.ratings = 1000209;
    const data::ImplicitDataset d = data::leave_one_out(data::binarize(data::generate_synthetic(ml1m)));
    const ops::BinaryCsr by_user = ops::make_binary_csr(d.train_offsets, d.train_item, d.num_items, device);
    char text[256];
    std::snprintf(
        text, sizeof text,
        "synthetic ML-1M shape: %d users x %d items, %lld training positives, lambda 500; samples = items",
        d.num_users, d.num_items, static_cast<long long>(d.num_train()));
    results.push_back(measure("ease_weights", text, runs, device, [&] {
      const Tensor b = recsys::ease_weights(by_user, 500.0, DType::f32);
      return static_cast<double>(b.dim(0));
    }));
    for (DType dtype : {DType::f32, DType::f64}) {
      Tensor gram = ops::csr_gram(by_user, dtype);
      ops::add_diagonal_(gram, 500.0);
      results.push_back(measure(std::string("spd_inverse_") + dtype_name(dtype),
                                std::string(text) + ", the inverse alone", runs, device, [&] {
                                  Tensor p = gram.clone();
                                  ops::spd_inverse_(p);
                                  return static_cast<double>(p.dim(0));
                                }));
    }
  }

  nlohmann::json out = nlohmann::json::array();
  for (const Measurement& m : results)
    out.push_back({{"name", m.name},
                   {"device", device_label},
                   {"config", m.config},
                   {"samples_per_s", m.samples / (median(m.ms) / 1e3)},
                   {"median_ms", median(m.ms)},
                   {"runs", m.ms.size()},
                   {"all_ms", m.ms},
                   {"cpu_ms", m.cpu}});
  write_file_atomically(json_path, out.dump(2) + "\n");
  std::printf("wrote %s\n", json_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/ncf-bench/synthetic-ml-20m/ratings.csv", json_path = "bench_ials.json", dump_dir;
  std::string device = "cpu";
  int64_t runs = 3;
  bool skip_ials = false, skip_ease = false;
  recsys::IalsConfig config;
  config.dim = 64;
  config.sweeps = 1;
  cli::Parser args("bench_ials", kUsage);
  args.option("--path", &path);
  args.option("--dim", &config.dim, 1, 4096);
  args.option("--runs", &runs, 1, 1000);
  args.option("--json", &json_path);
  args.option("--device", &device);
  args.option("--alpha0", &config.unobserved_weight, 0.0, 1e9);
  args.option("--lambda", &config.regularization, 0.0, 1e9);
  args.option("--nu", &config.frequency_exponent, -10.0, 10.0);
  args.option("--dump-csr", &dump_dir);
  args.flag("--skip-ials", &skip_ials);
  args.flag("--skip-ease", &skip_ease);
  return cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    return run(path, json_path, dump_dir, device, static_cast<int>(runs), skip_ials, skip_ease, config);
  });
}
