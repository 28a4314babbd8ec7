#include "recsys/experiment.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "base/files.h"
#include "base/progress.h"
#include "data/load.h"
#include "recsys/distributed.h"
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
  // A line for log.txt alone.
  void to_file(const std::string& text) {
    if (!file_.is_open()) return;
    file_ << text << "\n";
    file_.flush();
  }
  void bar(int64_t epoch, int64_t done, int64_t total, double seconds) {
    if (quiet_) return;
    std::cerr << "\r" << progress_bar("epoch " + std::to_string(epoch), done, total, seconds, "samples")
              << "   " << std::flush;
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
    // Checks that depend on the data, before anything is written.
    if (d.num_test_users() == 0)
      throw ConfigError(config.data.path + ": the split holds no test user, so there is nothing to evaluate");
    if (config.eval.k > d.eval_negatives_per_user)
      throw ConfigError("eval.k (" + std::to_string(config.eval.k) + ") must be at most the " +
                        std::to_string(d.eval_negatives_per_user) + " evaluation negatives per user of " +
                        config.data.path + ": with fewer candidates every held-out item is in the top k");
    int64_t cold_test_users = 0, untrained_items = 0;
    for (int32_t u = 0; u < d.num_users; ++u) cold_test_users += d.test_item[u] >= 0 && d.user_count(u) == 0;
    for (const int64_t count : d.item_popularity) untrained_items += count == 0;
    out.stats = {{"users", d.num_users},
                 {"items", d.num_items},
                 {"train_pairs", d.num_train()},
                 {"test_users", d.num_test_users()},
                 {"test_users_without_training", cold_test_users},
                 {"items_without_training", untrained_items}};
  }
  return out;
}

std::unique_ptr<Trainer> make_trainer(const ExperimentConfig& config, const ExperimentData& data,
                                      Device device) {
  if (data.ratings) return std::make_unique<ExplicitTrainer>(config, *data.ratings, device);
  switch (config.model.type) {
    case ModelType::ials: return std::make_unique<IalsTrainer>(config, *data.implicit, device);
    case ModelType::ease: return std::make_unique<EaseTrainer>(config, *data.implicit, device);
    default: return std::make_unique<ImplicitTrainer>(config, *data.implicit, device);
  }
}

namespace {
// The keys a --resume may change: how long and where to train, not what is trained.
const char* const kResumableKeys[] = {"train.epochs", "train.device", "train.early_stop_patience",
                                      "eval.every", "eval.full_ranking"};

void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object())
      flatten(value, path, out);
    else
      out[path] = value;
  }
}

// ConfigError naming every key that --resume's overrides would change but may not.
void check_resume_changes(const ExperimentConfig& stored, const ExperimentConfig& resumed,
                          const std::string& dir) {
  std::map<std::string, json> before, after;
  flatten(to_json(stored), "", before);
  flatten(to_json(resumed), "", after);
  std::string changed;
  for (const auto& [key, value] : after) {
    if (before.count(key) && before[key] == value) continue;
    bool allowed = false;
    for (const char* resumable : kResumableKeys) allowed = allowed || key == resumable;
    if (!allowed)
      changed += (changed.empty() ? "" : ", ") + key + " (" +
                 (before.count(key) ? before[key].dump() : "unset") + " -> " + value.dump() + ")";
  }
  if (changed.empty()) return;
  std::string resumable;
  for (const char* key : kResumableKeys) resumable += (resumable.empty() ? "" : ", ") + std::string(key);
  throw ConfigError("--resume " + dir + ": a resumed run must train the same thing; it may change only " +
                    resumable + ", not " + changed + ". Start a new run with --config and --out instead");
}

std::string default_run_dir(const std::string& config_path, const std::string& root) {
  const std::string base = resolve_path("runs/" + config_name(config_path) + "-" + timestamp_now(), root);
  std::string dir = base;
  for (int n = 2; is_directory(dir); ++n) dir = base + "-" + std::to_string(n);  // two runs in one second
  return dir;
}
}  // namespace

RunResult run_experiment(const RunOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  // Distributed: every rank trains and evaluates (the same numbers on each); rank 0 alone speaks
  // and writes, so the run folder is the one a single process would write.
  Communicator* const ranks = options.communicator;
  const bool distributed = ranks != nullptr && ranks->size() > 1;
  const bool lead = ranks == nullptr || ranks->rank() == 0;
  Logger log(options.quiet || !lead);
  if (!options.root.empty() && !is_directory(options.root))
    throw ConfigError("--root " + options.root + " is not a folder (relative paths in configs start there)");

  // 1. The config: from the file (+ overrides), or from the run folder being resumed. Nothing is
  //    written until every check of this step and of step 2 has passed.
  const bool resuming = !options.resume_dir.empty();
  std::vector<std::string> overrides = options.overrides;
  if (!options.device.empty()) overrides.push_back("train.device=" + options.device);
  const std::string config_path = resuming ? options.resume_dir + "/config.json" : options.config_path;
  NCF_CHECK(!config_path.empty(), "no config given: use --config FILE (or --resume DIR)");
  if (resuming && !is_directory(options.resume_dir))
    throw ConfigError("--resume " + options.resume_dir + ": no such run folder");
  const ExperimentConfig config = load_experiment_config(config_path, overrides, options.root);
  if (resuming)
    check_resume_changes(load_experiment_config(config_path, {}, options.root), config, options.resume_dir);
  const ExperimentConfig resolved = with_resolved_paths(config, options.root);
  const bool is_explicit = is_explicit_model(to_string(config.model.type));
  const RunFolder folder(resuming                  ? options.resume_dir
                         : options.out_dir.empty() ? default_run_dir(config_path, options.root)
                                                   : options.out_dir);
  if (!resuming && lead) folder.check_new(options.overwrite);

  // 2. Device, data, trainer; on --resume the checkpoint, checked against the config and the data.
  // Several ranks on GPUs: one GPU each (the node-local rank's).
  const Device device = distributed ? rank_device(parse_device(config.train.device), *ranks)
                                    : parse_device(config.train.device);
  const std::string device_label = device.str() + " (" + device_name(device) + ")";
  log.line("device: " + device_label +
           (device.is_cpu() && !cuda_available() ? "; no GPU: " + cuda_unavailable_reason() : ""));
  const auto load_start = clock::now();
  // Rank 0 loads first and fills the data cache; the others then read it rather than all writing it.
  if (distributed && !lead) ranks->barrier();
  const ExperimentData data = load_experiment_data(resolved, options.root);
  if (distributed && lead) ranks->barrier();
  const std::unique_ptr<Trainer> trainer = make_trainer(resolved, data, device);
  trainer->set_communicator(ranks);
  const double load_seconds = std::chrono::duration<double>(clock::now() - load_start).count();
  {
    std::ostringstream line;
    line << "data: " << data.stats.dump() << " loaded in " << std::fixed << std::setprecision(2)
         << load_seconds << " s";
    log.line(line.str());
    if (data.stats.value("test_users_without_training", 0) > 0)
      log.line("note: " + data.stats["test_users_without_training"].dump() +
               " test users have no training row; they are evaluated with untrained embeddings "
               "(data.drop_cold_test_users drops them)");
    if (data.stats.value("items_without_training", 0) > 0)
      log.line("note: " + data.stats["items_without_training"].dump() +
               " items occur in no training row (their embeddings stay as initialised)");
    if (distributed)
      log.line("ranks: " + ranks->describe() + ", each training on its share of every batch of " +
               std::to_string(config.train.batch_size) + " rows");
    if (trainer->has_model())
      log.line("model: " + std::string(to_string(config.model.type)) + ", " +
               std::to_string(trainer->model().parameter_count()) + " parameters");
  }
  if (resuming) {
    NCF_CHECK(trainer->has_model(),
              "--resume: model " << to_string(config.model.type) << " has nothing to resume");
    if (lead) folder.remove_orphans();
    if (data.implicit)
      NCF_CHECK(data::fingerprint(*data.implicit) == folder.data_fingerprint(),
                "--resume " << folder.path() << ": the data set (" << config.data.path
                            << ") is not the one this run was trained on: its rows, order or split differ");
    folder.load_checkpoint(*trainer);
  }

  // 3. The run folder. From here on every error is written to log.txt too.
  if (lead) {
    folder.create(options.overwrite && !resuming);
    log.open(folder.file("log.txt"), resuming);
  }
  try {
    log.line("run folder: " + folder.path());
    if (lead) folder.write_config(config);  // on --resume: with the new epoch count, device, ...
    if (lead && !resuming && data.implicit) folder.write_data(*data.implicit);
    auto metrics_json = [&](const json& best, const json& final) {
      json epochs = json::array();
      for (const EpochRecord& r : trainer->history()) epochs.push_back(epoch_json(r, is_explicit));
      json metrics{{"device", device_label},
                   {"config", config_name(config_path)},
                   {"model", to_string(config.model.type)},
                   {"data", data.stats},
                   {"epochs", epochs},
                   {"best", best},
                   {"final", final},
                   {"load_seconds", load_seconds}};
      if (distributed) metrics["ranks"] = ranks->size();
      return metrics;
    };
    // curves.svg's title: what was trained, on what data file, and where the run lives.
    const std::string curves_title = std::string(to_string(config.model.type)) + " on " +
                                     config.data.path.substr(config.data.path.find_last_of('/') + 1) + ", " +
                                     folder.path();
    if (resuming && lead) {
      // last.safetensors is the commit point: the files written after it may lag one epoch.
      folder.save_best_model(*trainer);
      folder.write_metrics(metrics_json(json::object(), json::object()));
      folder.write_curves(*trainer, curves_title);
      log.line("resuming after epoch " + std::to_string(trainer->completed_epochs()));
    }

    // 4. Train, checkpointing as we go.
    TrainerHooks hooks;
    hooks.log = [&](const std::string& line) { log.line(line); };
    if (options.progress_bar)
      hooks.progress = [&](int64_t epoch, int64_t done, int64_t total, double s) {
        log.bar(epoch, done, total, s);
      };
    hooks.epoch_end = [&](const EpochRecord&, bool improved) {
      if (!lead) return;
      folder.save_checkpoint(*trainer);
      if (improved) folder.save_best_model(*trainer);
      folder.write_metrics(metrics_json(json::object(), json::object()));
      folder.write_curves(*trainer, curves_title);
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
    if (lead) folder.write_metrics(metrics);
    log.line(summary_line(*trainer, best_record, is_explicit));
    if (lead) log.line("wrote " + folder.file("metrics.json"));
    return {folder.path(), metrics};
  } catch (const std::exception& e) {
    log.to_file(std::string("error: ") + e.what());  // the app prints it on the console
    throw;
  }
}

}  // namespace ncf::recsys
