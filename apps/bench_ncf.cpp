// bench_ncf: training and evaluation throughput of a named model shape on generated MovieLens-20M-
// shaped data (data/synthetic.h), on the CPU or the GPU.
//
//   step:   samples/s of the training step alone (forward, backward, optimizer) on batches already
//           on the device; median over runs of `--steps` steps after a warm-up.
//   epoch:  samples/s of whole epochs: negative sampling + shuffle + upload + every step.
//   sample: one epoch of negative sampling + shuffle alone (samples/s; the GPU kernel or the CPU sampler).
//   eval:   test users/s of the sampled protocol (1 positive + 99 negatives each).
// Prints a table and writes a JSON array of {"name", "device", "config", "samples_per_s", "median_ms",
// "runs"}; the train_step entry adds "per_step": what one steady-state step asks of the GPU
// (tensor/device_counters.h: host_syncs, kernel_launches, library_calls, memory_ops, raw_allocations;
// all 0 on the CPU). A step with no host sync and no raw allocation can be captured as a CUDA Graph.
//
//   bench_ncf --model paper-f8 --batch 256                 (the paper's NeuMF at its batch size)
//   bench_ncf --model dle-f64 --batch 1048576              (the large-batch configuration)
//   bench_ncf --model paper-f8 --ratings 2000000 --device cpu --epoch-rows 500000   (a CPU-sized run)
//   bench_ncf --model paper-f8 --batch 256 --shuffle groups  (the user-grouped step, batches of 255)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/cli.h"
#include "base/files.h"
#include "data/batches.h"
#include "data/epoch_sampler.h"
#include "data/negative_sampler.h"
#include "data/splits.h"
#include "data/synthetic.h"
#include "recsys/evaluator.h"
#include "recsys/trainer.h"
#include "tensor/allocator.h"
#include "tensor/device_counters.h"

using namespace ncf;
using clock_type = std::chrono::steady_clock;

namespace {
const char* kUsage =
    "usage: bench_ncf [--model paper-f8|paper-f64|dle-f64|tutorial|dot-f64|dot-f192] [--batch N]\n"
    "                 [--device auto|cpu|cuda] [--optimizer adam|lazy_adam|sgd] [--shuffle rows|groups]\n"
    "                 [--steps N] [--runs N] [--epoch-rows N] [--users N --items N --ratings N]\n"
    "                 [--json FILE]\n";

struct Options {
  std::string model = "paper-f8", device = "auto", json_path = "bench_ncf.json", optimizer, shuffle = "rows";
  int64_t batch = 256, steps = 200, runs = 5, epoch_rows = 0;
  data::SyntheticConfig data;
};

recsys::ModelShape shape_for(const std::string& name) {
  recsys::ModelShape s;
  s.type = "neumf";
  if (name == "paper-f8")
    s.factors = 8, s.layers = {64, 32, 16, 8};
  else if (name == "paper-f64")
    s.factors = 64, s.layers = {512, 256, 128, 64};
  else if (name == "dle-f64")
    s.factors = 64, s.layers = {256, 256, 128, 64};
  else if (name == "tutorial")
    s.type = "mlp", s.layers = {16, 64, 32};
  else if (name == "dot-f64")
    s.type = "dot", s.factors = 64;
  else if (name == "dot-f192")
    s.type = "dot", s.factors = 192;
  else
    throw cli::ArgumentError("unknown model shape '" + name +
                             "': expected paper-f8, paper-f64, dle-f64, tutorial, dot-f64 or dot-f192");
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double seconds(clock_type::time_point since) {
  return std::chrono::duration<double>(clock_type::now() - since).count();
}
int run_benchmarks(const Options& o, const recsys::ModelShape& shape, recsys::OptimizerKind optimizer_kind,
                   recsys::ShuffleChoice shuffle) {
  const Device device = parse_device(o.device);
  const std::string device_label = device.str() + " (" + device_name(device) + ")";
  std::printf("bench_ncf: %s, batch %lld, on %s\n", o.model.c_str(), static_cast<long long>(o.batch),
              device_label.c_str());

  auto t0 = clock_type::now();
  const data::Interactions ratings = data::generate_synthetic(o.data);
  data::ImplicitDataset dataset = data::leave_one_out(ratings);
  data::draw_eval_negatives(dataset, 99, 7);
  std::printf("data: %d users, %d items, %lld training pairs (generated and split in %.1f s)\n",
              dataset.num_users, dataset.num_items, static_cast<long long>(dataset.num_train()), seconds(t0));

  recsys::ExperimentConfig config;
  config.model.type = *from_string<recsys::ModelType>(shape.type);
  config.model.factors = shape.factors;
  config.model.layers = shape.layers;
  config.train.batch_size = o.batch;
  config.train.optimizer = optimizer_kind;
  config.train.shuffle = shuffle;
  recsys::ImplicitTrainer trainer(config, dataset, device);
  // Rows in groups (a positive and its 4 negatives): the user-grouped step, on batches of whole
  // groups (the batch size rounded down to a multiple of 5, as the trainer rounds it).
  const bool grouped = shuffle == recsys::ShuffleChoice::groups;
  const data::ShuffleMode mode = grouped ? data::ShuffleMode::groups : data::ShuffleMode::rows;
  const int64_t batch = data::BatchRanges(o.batch, o.batch, grouped ? 5 : 1).batch_size();
  std::printf("step: %s%s\n", grouped ? "user-grouped, batches of " : "ungrouped",
              grouped ? (std::to_string(batch) + " rows").c_str() : "");

  // Batches of the first epoch, on the device.
  data::TrainingSampler sampler(dataset, 4, 42, mode);
  data::TrainingEpoch epoch = sampler.sample(1);
  const int64_t rows = epoch.size();
  const Tensor users = Tensor::from_vector(epoch.user, {rows}, device);
  const Tensor items = Tensor::from_vector(epoch.item, {rows}, device);
  const Tensor labels = Tensor::from_vector(epoch.label, {rows}, device);
  const int64_t batches_available = rows / batch;
  NCF_CHECK(batches_available >= 1, "batch " << batch << " is larger than an epoch (" << rows << " rows)");
  // The trainer's own step on rows [begin, end) of device-resident columns.
  auto train_rows = [&](const Tensor& u, const Tensor& i, const Tensor& y, int64_t begin, int64_t end) {
    trainer.train_step(u.rows(begin, end), i.rows(begin, end), y.rows(begin, end));
  };
  int64_t next = 0;
  auto step = [&]() {
    const int64_t b = (next++ % batches_available) * batch;
    train_rows(users, items, labels, b, b + batch);
  };

  nlohmann::json results = nlohmann::json::array();
  auto report = [&](const std::string& name, double per_second, double median_ms,
                    const std::vector<double>& runs_ms, const char* unit,
                    const nlohmann::json& extra = nlohmann::json::object()) {
    std::printf("%-28s %14.0f %-10s median %10.3f ms over %zu runs\n", name.c_str(), per_second, unit,
                median_ms, runs_ms.size());
    results.push_back({{"name", name},
                       {"device", device_label},
                       {"config",
                        {{"model", o.model},
                         {"batch", batch},
                         {"shuffle", o.shuffle},
                         {"users", dataset.num_users},
                         {"items", dataset.num_items},
                         {"train_pairs", dataset.num_train()}}},
                       {"samples_per_s", per_second},
                       {"median_ms", median_ms},
                       {"runs", runs_ms}});
    for (const auto& [key, value] : extra.items()) results.back()[key] = value;
  };

  // 1. The step alone. Warm-up fills the caching allocator and cuBLAS' workspaces.
  const int64_t steps =
      std::max<int64_t>(1, std::min(o.steps, o.model == "dle-f64" ? batches_available * 4 : o.steps));
  for (int i = 0; i < std::min<int64_t>(steps, 20); ++i) step();
  synchronize(device);
  const AllocatorStats before = allocator_for(device).stats();
  // One window of steps with no wait inside it: the counters then say what a steady-state step asks
  // of the GPU (the wait that ends the window is not part of it).
  const DeviceCounters counters_before = device_counters();
  for (int64_t i = 0; i < steps; ++i) step();
  const DeviceCounters window = device_counters() - counters_before;
  synchronize(device);
  auto per_step = [&](uint64_t count) { return static_cast<double>(count) / static_cast<double>(steps); };
  const nlohmann::json step_counts = {{"host_syncs", per_step(window.host_syncs)},
                                      {"kernel_launches", per_step(window.kernel_launches)},
                                      {"library_calls", per_step(window.library_calls)},
                                      {"memory_ops", per_step(window.memory_ops)},
                                      {"raw_allocations", per_step(window.raw_allocations)}};
  std::vector<double> step_ms;
  for (int64_t r = 0; r < o.runs; ++r) {
    const auto start = clock_type::now();
    for (int64_t i = 0; i < steps; ++i) step();
    synchronize(device);
    step_ms.push_back(seconds(start) * 1e3 / static_cast<double>(steps));
  }
  const AllocatorStats after = allocator_for(device).stats();
  const double step_median = median(step_ms);
  report("train_step", batch / (step_median * 1e-3), step_median, step_ms, "samples/s",
         {{"per_step", step_counts}});
  std::printf("  allocator: %llu raw allocations during %lld steps, peak %.1f MiB\n",
              static_cast<unsigned long long>(after.raw_allocations - before.raw_allocations),
              static_cast<long long>(steps * (o.runs + 1)), after.peak_bytes / 1048576.0);
  std::printf(
      "  per step (GPU counters%s): %g host syncs, %g kernel launches, %g cuBLAS/CUB calls, %g memory ops,"
      " %g raw allocations\n",
      device.is_cuda() ? "" : ", all 0 on the CPU", per_step(window.host_syncs),
      per_step(window.kernel_launches), per_step(window.library_calls), per_step(window.memory_ops),
      per_step(window.raw_allocations));

  // 2. Whole epochs (or their first epoch_rows rows), sampling and upload included.
  const int64_t epoch_rows = o.epoch_rows > 0 ? std::min(o.epoch_rows, rows) : rows;
  // The trainer's path: the epoch is sampled where the model trains (a kernel on the GPU).
  data::EpochSampler device_sampler(dataset, 4, 42, device, mode);
  data::EpochTensors device_epoch;
  std::vector<double> epoch_ms;
  for (int64_t r = 0; r < std::min<int64_t>(o.runs, 3); ++r) {
    const auto start = clock_type::now();
    device_sampler.sample(static_cast<uint32_t>(2 + r), device_epoch);
    for (const data::BatchRange range : data::BatchRanges(epoch_rows, batch))
      train_rows(device_epoch.users, device_epoch.items, device_epoch.labels, range.begin, range.end);
    synchronize(device);
    epoch_ms.push_back(seconds(start) * 1e3);
  }
  const double epoch_median = median(epoch_ms);
  report(epoch_rows == rows ? "epoch_with_sampling" : "partial_epoch_with_sampling",
         epoch_rows / (epoch_median * 1e-3), epoch_median, epoch_ms, "samples/s");

  // 3. Negative sampling alone: one epoch of K = 4 negatives per positive, shuffled, on the device.
  std::vector<double> sample_ms;
  for (int64_t r = 0; r < o.runs; ++r) {
    const auto start = clock_type::now();
    device_sampler.sample(static_cast<uint32_t>(10 + r), device_epoch);
    synchronize(device);
    sample_ms.push_back(seconds(start) * 1e3);
  }
  const double sample_median = median(sample_ms);
  report("negative_sampling_epoch", rows / (sample_median * 1e-3), sample_median, sample_ms, "samples/s");

  // 4. Sampled evaluation.
  recsys::Evaluator evaluator(dataset, device, 10);
  std::vector<double> eval_ms;
  for (int64_t r = 0; r < std::min<int64_t>(o.runs, 3); ++r) {
    const auto start = clock_type::now();
    evaluator.sampled(recsys::model_scorer(trainer.model()));
    eval_ms.push_back(seconds(start) * 1e3);
  }
  const double eval_median = median(eval_ms);
  report("eval_sampled_users", evaluator.users() / (eval_median * 1e-3), eval_median, eval_ms, "users/s");

  write_file_atomically(o.json_path, results.dump(2) + "\n");
  std::printf("wrote %s\n", o.json_path.c_str());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  int64_t users = o.data.users, items = o.data.items;
  cli::Parser args("bench_ncf", kUsage);
  args.option("--model", &o.model);
  args.option("--batch", &o.batch, 1, int64_t{1} << 30);
  args.option("--device", &o.device);
  args.option("--steps", &o.steps, 1, int64_t{1} << 30);
  args.option("--runs", &o.runs, 1, 1000);
  args.option("--epoch-rows", &o.epoch_rows, 0, INT64_MAX);
  args.option("--optimizer", &o.optimizer);
  args.option("--shuffle", &o.shuffle);
  args.option("--users", &users, 1, INT32_MAX);
  args.option("--items", &items, 2, INT32_MAX);
  args.option("--ratings", &o.data.ratings, 1, INT64_MAX);
  args.option("--json", &o.json_path);
  return cli::run(args, [&] {
    if (!args.parse(argc, argv)) return 0;
    o.data.users = static_cast<int32_t>(users);
    o.data.items = static_cast<int32_t>(items);
    const recsys::ModelShape shape = shape_for(o.model);  // an unknown name fails before any work
    const std::optional<recsys::OptimizerKind> optimizer =
        o.optimizer.empty()
            ? (o.model == "dle-f64" ? recsys::OptimizerKind::lazy_adam : recsys::OptimizerKind::adam)
            : from_string<recsys::OptimizerKind>(o.optimizer);
    if (!optimizer)
      throw cli::ArgumentError("--optimizer must be adam, lazy_adam or sgd, got '" + o.optimizer + "'");
    const std::optional<recsys::ShuffleChoice> shuffle = from_string<recsys::ShuffleChoice>(o.shuffle);
    if (!shuffle || *shuffle == recsys::ShuffleChoice::automatic)
      throw cli::ArgumentError("--shuffle must be rows or groups, got '" + o.shuffle + "'");
    return run_benchmarks(o, shape, *optimizer, *shuffle);
  });
}
