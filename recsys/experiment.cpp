#include "recsys/experiment.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "data/load.h"
#include "recsys/run_folder.h"

namespace ncf::recsys {

namespace {
using nlohmann::json;

std::string timestamp_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
  return buffer;
}

std::string config_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

data::CacheOptions cache_options(const std::string& root) {
  data::CacheOptions cache;
  cache.dir = resolve_path("datasets/.cache", root);
  return cache;
}

// Console and log.txt: each line goes to both (the log once the run folder exists).
class Logger {
 public:
  explicit Logger(bool quiet) : quiet_(quiet) {}
  void open(const std::string& path, bool append) {
    file_.open(path, append ? std::ios::app : std::ios::trunc);
    for (const std::string& line : pending_) file_ << line << "\n";
    pending_.clear();
    file_.flush();
  }
  void line(const std::string& text) {
    if (!quiet_) {
      if (bar_shown_) std::cerr << "\r\033[K";
      bar_shown_ = false;
      std::cout << text << std::endl;
    }
    if (file_.is_open()) {
      file_ << text << "\n";
      file_.flush();
    } else {
      pending_.push_back(text);
    }
  }
  void bar(int64_t epoch, int64_t done, int64_t total, double seconds) {
    if (quiet_) return;
    const double fraction = total ? static_cast<double>(done) / total : 1.0;
    const int width = 30, filled = static_cast<int>(fraction * width);
    const double rate = seconds > 0 ? done / seconds : 0.0, eta = rate > 0 ? (total - done) / rate : 0.0;
    std::cerr << "\repoch " << epoch << " [" << std::string(filled, '#') << std::string(width - filled, '.')
              << "] " << std::fixed << std::setprecision(0) << 100 * fraction << "%  " << rate
              << " samples/s  ETA " << std::setprecision(1) << eta << " s   " << std::flush;
    bar_shown_ = true;
  }

 private:
  bool quiet_;
  bool bar_shown_ = false;
  std::ofstream file_;
  std::vector<std::string> pending_;
};

// The test metrics of the best parameters, as metrics.json's "best" holds them.
json best_json(const Trainer& trainer, const EpochRecord& best_record, bool is_explicit) {
  const ExperimentConfig& config = trainer.config();
  if (is_explicit)
    return {{"epoch", trainer.best_epoch()}, {"rmse", best_record.rmse}, {"mae", best_record.mae}};
  json best = ranking_json(best_record.test);
  best["epoch"] = trainer.best_epoch();
  if (best_record.validation) best["validation"] = ranking_json(*best_record.validation);
  if (best_record.full) best["full"] = ranking_json(*best_record.full);
  best["selected_by"] =
      std::string(best_record.validation ? "validation " : "test ") + config.train.select_by.str();
  // The paper's habit: the best test value over all evaluated epochs.
  double best_hr = 0, best_ndcg = 0;
  for (const EpochRecord& r : trainer.history())
    if (r.evaluated) best_hr = std::max(best_hr, r.test.hr), best_ndcg = std::max(best_ndcg, r.test.ndcg);
  if (trainer.history().empty()) best_hr = best_record.test.hr, best_ndcg = best_record.test.ndcg;
  const int64_t k = config.eval.k;
  best["best_test_hr@" + std::to_string(k)] = best_hr;
  best["best_test_ndcg@" + std::to_string(k)] = best_ndcg;
  return best;
}

std::string summary_line(const Trainer& trainer, const EpochRecord& best, bool is_explicit) {
  const int64_t k = trainer.config().eval.k;
  std::ostringstream summary;
  summary << std::fixed << std::setprecision(4) << "best epoch " << trainer.best_epoch() << ": ";
  if (is_explicit) {
    summary << "rmse " << best.rmse << "  mae " << best.mae;
    return summary.str();
  }
  summary << "hr@" << k << " " << best.test.hr << "  ndcg@" << k << " " << best.test.ndcg << "  (sampled, "
          << trainer.config().eval.negatives << " negatives)";
  if (best.full)
    summary << "\n             full ranking: hr@" << k << " " << best.full->hr << "  ndcg@" << k << " "
            << best.full->ndcg;
  return summary.str();
}
}  // namespace

ExperimentConfig with_resolved_paths(ExperimentConfig config, const std::string& root) {
  config.data.path = resolve_path(config.data.path, root);
  if (config.data.titles) config.data.titles = resolve_path(*config.data.titles, root);
  if (config.data.test_path) config.data.test_path = resolve_path(*config.data.test_path, root);
  if (config.model.pretrain) {
    config.model.pretrain->gmf = resolve_path(config.model.pretrain->gmf, root);
    config.model.pretrain->mlp = resolve_path(config.model.pretrain->mlp, root);
  }
  return config;
}

ExperimentData load_experiment_data(const ExperimentConfig& config, const std::string& root) {
  ExperimentData out;
  if (is_explicit_model(to_string(config.model.type))) {
    const data::ExplicitDataset& d =
        out.ratings.emplace(data::load_explicit(config.data, cache_options(root)));
    out.stats = {{"users", d.train.num_users()},
                 {"items", d.train.num_items()},
                 {"train_ratings", d.train.size()},
                 {"test_ratings", d.test.size()}};
  } else {
    const data::EvalSampling eval{static_cast<int32_t>(config.eval.negatives), config.eval.seed};
    const data::ImplicitDataset& d =
        out.implicit.emplace(data::load_implicit(config.data, eval, cache_options(root)));
    out.stats = {{"users", d.num_users},
                 {"items", d.num_items},
                 {"train_pairs", d.num_train()},
                 {"test_users", d.num_test_users()}};
  }
  return out;
}

std::unique_ptr<Trainer> make_trainer(const ExperimentConfig& config, const ExperimentData& data,
                                      Device device) {
  if (data.ratings) return std::make_unique<ExplicitTrainer>(config, *data.ratings, device);
  return std::make_unique<ImplicitTrainer>(config, *data.implicit, device);
}

RunResult run_experiment(const RunOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  Logger log(options.quiet);

  // 1. The config: from the file (+ overrides), or from the run folder being resumed.
  const bool resuming = !options.resume_dir.empty();
  std::vector<std::string> overrides = options.overrides;
  if (!options.device.empty()) overrides.push_back("train.device=" + options.device);
  const std::string config_path = resuming ? options.resume_dir + "/config.json" : options.config_path;
  NCF_CHECK(!config_path.empty(), "no config given: use --config FILE (or --resume DIR)");
  const ExperimentConfig config = load_experiment_config(config_path, overrides, options.root);
  const ExperimentConfig resolved = with_resolved_paths(config, options.root);
  const bool is_explicit = is_explicit_model(to_string(config.model.type));

  // 2. Device, data, trainer.
  const Device device = parse_device(config.train.device);
  const std::string device_label = device.str() + " (" + device_name(device) + ")";
  log.line("device: " + device_label +
           (device.is_cpu() && !cuda_available() ? "; no GPU: " + cuda_unavailable_reason() : ""));
  const auto load_start = clock::now();
  const ExperimentData data = load_experiment_data(resolved, options.root);
  const std::unique_ptr<Trainer> trainer = make_trainer(resolved, data, device);
  const double load_seconds = std::chrono::duration<double>(clock::now() - load_start).count();
  {
    std::ostringstream line;
    line << "data: " << data.stats.dump() << " loaded in " << std::fixed << std::setprecision(2)
         << load_seconds << " s";
    log.line(line.str());
    if (trainer->has_model())
      log.line("model: " + std::string(to_string(config.model.type)) + ", " +
               std::to_string(trainer->model().parameter_count()) + " parameters");
  }

  // 3. The run folder.
  std::string run_dir = resuming ? options.resume_dir : options.out_dir;
  if (run_dir.empty())
    run_dir = resolve_path("runs/" + config_name(config_path) + "-" + timestamp_now(), options.root);
  const RunFolder folder(run_dir);
  folder.create();
  log.open(folder.file("log.txt"), resuming);
  log.line("run folder: " + run_dir);
  // On --resume the config is rewritten too: it may carry new overrides (e.g. more epochs).
  folder.write_config(config);
  if (!resuming && data.implicit) folder.write_ids(*data.implicit);
  if (resuming) {
    NCF_CHECK(trainer->has_model(),
              "--resume: model " << to_string(config.model.type) << " has nothing to resume");
    folder.load_checkpoint(*trainer);
    log.line("resuming after epoch " + std::to_string(trainer->completed_epochs()));
  }

  // 4. Train, checkpointing as we go.
  auto metrics_json = [&](const json& best, const json& final) {
    json epochs = json::array();
    for (const EpochRecord& r : trainer->history()) epochs.push_back(epoch_json(r, is_explicit));
    return json{{"device", device_label},
                {"config", config_name(config_path)},
                {"model", to_string(config.model.type)},
                {"data", data.stats},
                {"epochs", epochs},
                {"best", best},
                {"final", final},
                {"load_seconds", load_seconds}};
  };
  TrainerHooks hooks;
  hooks.log = [&](const std::string& line) { log.line(line); };
  if (options.progress_bar)
    hooks.progress = [&](int64_t epoch, int64_t done, int64_t total, double s) {
      log.bar(epoch, done, total, s);
    };
  hooks.epoch_end = [&](const EpochRecord&, bool improved) {
    if (improved) folder.save_model(trainer->model());
    folder.save_checkpoint(*trainer);
    folder.write_metrics(metrics_json(json::object(), json::object()));
  };
  trainer->fit(hooks);

  // 5. Final evaluation of the best parameters (the last ones for ItemPop / no evaluation).
  const json final =
      trainer->history().empty() ? json::object() : epoch_json(trainer->history().back(), is_explicit);
  if (trainer->has_model() && !trainer->best_parameters().empty()) {
    for (auto& [name, parameter] : trainer->model().named_parameters())
      parameter.mutable_value().copy_from(trainer->best_parameters().at(name));
  }
  const EpochRecord best_record = trainer->evaluate(!is_explicit && config.eval.full_ranking);
  json metrics = metrics_json(best_json(*trainer, best_record, is_explicit), final);
  metrics["total_seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  metrics["stopped_early"] = trainer->stopped_early();
  folder.write_metrics(metrics);
  log.line(summary_line(*trainer, best_record, is_explicit));
  log.line("wrote " + folder.file("metrics.json"));
  return {run_dir, metrics};
}

}  // namespace ncf::recsys
