#include "recsys/experiment.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "base/files.h"
#include "data/load.h"
#include "nn/checkpoint.h"
#include "recsys/trainer.h"

namespace ncf::recsys {

namespace {
using nlohmann::json;

std::string metric_key(const char* name, int64_t k) { return std::string(name) + "@" + std::to_string(k); }

json ranking_json(const RankingMetrics& m) {
  return {{metric_key("hr", m.k), m.hr},
          {metric_key("ndcg", m.k), m.ndcg},
          {"mrr", m.mrr},
          {"auc", m.auc},
          {"users", m.users}};
}

RankingMetrics ranking_from_json(const json& j, int64_t k) {
  RankingMetrics m;
  m.k = k;
  m.hr = j.at(metric_key("hr", k)).get<double>();
  m.ndcg = j.at(metric_key("ndcg", k)).get<double>();
  m.mrr = j.value("mrr", 0.0);
  m.auc = j.value("auc", 0.0);
  m.users = j.value("users", int64_t{0});
  return m;
}

json epoch_json(const EpochRecord& r, bool is_explicit) {
  json j = {{"epoch", r.epoch}, {"loss", r.loss}, {"seconds", r.seconds}, {"samples_per_s", r.samples_per_s}};
  if (!r.evaluated) return j;
  j["eval_seconds"] = r.eval_seconds;
  if (is_explicit) {
    j["rmse"] = r.rmse;
    j["mae"] = r.mae;
    return j;
  }
  j.update(ranking_json(r.test));
  if (r.validation) j["validation"] = ranking_json(*r.validation);
  if (r.full) j["full"] = ranking_json(*r.full);
  return j;
}

EpochRecord epoch_from_json(const json& j, int64_t k, bool is_explicit) {
  EpochRecord r;
  r.epoch = j.at("epoch");
  r.loss = j.at("loss");
  r.seconds = j.at("seconds");
  r.samples_per_s = j.at("samples_per_s");
  r.evaluated = j.contains("eval_seconds");
  if (!r.evaluated) return r;
  r.eval_seconds = j.at("eval_seconds");
  if (is_explicit) {
    r.rmse = j.at("rmse");
    r.mae = j.at("mae");
    return r;
  }
  r.test = ranking_from_json(j, k);
  if (j.contains("validation")) r.validation = ranking_from_json(j["validation"], k);
  if (j.contains("full")) r.full = ranking_from_json(j["full"], k);
  return r;
}

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

void make_directories(const std::string& path) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    partial += part + "/";
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      NCF_FAIL("cannot create folder " << partial << ": " << std::strerror(errno));
  }
}

// Paths in the resolved config are made absolute-or-root-relative once, so every later reader agrees.
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

data::DataConfig data_config(const ExperimentConfig& config, const std::string& root) {
  return data::data_config_from_json(to_json(with_resolved_paths(config, root)));
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

json ids_json(const data::ImplicitDataset& d) {
  json titles = json::object();
  for (const auto& [raw, title] : d.titles) titles[std::to_string(raw)] = title;
  return {{"users", d.users.raw_ids()}, {"items", d.items.raw_ids()}, {"titles", titles}};
}

NamedTensors model_tensors(ScoringModel& model) {
  NamedTensors out;
  for (const auto& [name, parameter] : model.named_parameters()) out.emplace_back(name, parameter.value());
  return out;
}
}  // namespace

data::ImplicitDataset load_implicit_data(const ExperimentConfig& config, const std::string& root) {
  return data::load_implicit(data_config(config, root), cache_options(root));
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
  const bool is_explicit = is_explicit_model(to_string(config.model.type));

  // 2. Device, data, model.
  const Device device = parse_device(config.train.device);
  log.line("device: " + device.str() + " (" + device_name(device) + ")" +
           (device.is_cpu() && !cuda_available() ? "; no GPU: " + cuda_unavailable_reason() : ""));
  const auto load_start = clock::now();
  data::ImplicitDataset implicit_data;
  data::ExplicitDataset explicit_data;
  std::unique_ptr<Trainer> trainer;
  const ExperimentConfig resolved = with_resolved_paths(config, options.root);
  json data_stats;
  if (is_explicit) {
    explicit_data = data::load_explicit(data_config(config, options.root), cache_options(options.root));
    trainer = std::make_unique<Trainer>(resolved, explicit_data, device);
    data_stats = {{"users", explicit_data.train.num_users()},
                  {"items", explicit_data.train.num_items()},
                  {"train_ratings", explicit_data.train.size()},
                  {"test_ratings", explicit_data.test.size()}};
  } else {
    implicit_data = load_implicit_data(config, options.root);
    trainer = std::make_unique<Trainer>(resolved, implicit_data, device);
    data_stats = {{"users", implicit_data.num_users},
                  {"items", implicit_data.num_items},
                  {"train_pairs", implicit_data.num_train()},
                  {"test_users", implicit_data.num_test_users()}};
  }
  const double load_seconds = std::chrono::duration<double>(clock::now() - load_start).count();
  {
    std::ostringstream line;
    line << "data: " << data_stats.dump() << " loaded in " << std::fixed << std::setprecision(2)
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
  make_directories(run_dir);
  log.open(run_dir + "/log.txt", resuming);
  log.line("run folder: " + run_dir);
  // On --resume the config is rewritten too: it may carry new overrides (e.g. more epochs).
  write_file_atomically(run_dir + "/config.json", to_json(config).dump(2) + "\n");
  if (!resuming && !is_explicit)
    write_file_atomically(run_dir + "/ids.json", ids_json(implicit_data).dump() + "\n");

  const int64_t k = config.eval.k;
  if (resuming) {
    NCF_CHECK(trainer->has_model(),
              "--resume: model " << to_string(config.model.type) << " has nothing to resume");
    const SafetensorsFile last = load_safetensors(run_dir + "/last.safetensors");
    for (auto& [name, parameter] : trainer->model().named_parameters())
      parameter.mutable_value().copy_from(last.at("model." + name));
    std::map<std::string, Tensor> optimizer_state;
    for (const auto& [name, tensor] : last.tensors)
      if (name.rfind("optimizer.", 0) == 0) optimizer_state[name.substr(10)] = tensor;
    const json meta = json::parse(last.metadata.at("state"));
    trainer->optimizer().load_state(optimizer_state, meta.at("optimizer_steps").get<int64_t>());
    std::vector<EpochRecord> history;
    for (const json& e : meta.at("history")) history.push_back(epoch_from_json(e, k, is_explicit));
    std::map<std::string, Tensor> best;
    const int64_t best_epoch = meta.at("best_epoch");
    if (best_epoch > 0) best = load_safetensors(run_dir + "/model.safetensors").tensors;
    trainer->restore(meta.at("completed_epochs"), std::move(history), best_epoch, std::move(best));
    log.line("resuming after epoch " + std::to_string(trainer->completed_epochs()));
  }

  // 4. Train, checkpointing as we go.
  const std::string device_label = device.str() + " (" + device_name(device) + ")";
  auto metrics_json = [&](const json& best, const json& final) {
    json epochs = json::array();
    for (const EpochRecord& r : trainer->history()) epochs.push_back(epoch_json(r, is_explicit));
    return json{{"device", device_label},
                {"config", config_name(config_path)},
                {"model", to_string(config.model.type)},
                {"data", data_stats},
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
  hooks.epoch_end = [&](const EpochRecord& record, bool improved) {
    NamedTensors last;
    for (auto& [name, tensor] : model_tensors(trainer->model())) last.emplace_back("model." + name, tensor);
    for (auto& [name, tensor] : trainer->optimizer().state()) last.emplace_back("optimizer." + name, tensor);
    json history = json::array();
    for (const EpochRecord& r : trainer->history()) history.push_back(epoch_json(r, is_explicit));
    const json state = {{"completed_epochs", trainer->completed_epochs()},
                        {"optimizer_steps", trainer->optimizer().step_count()},
                        {"best_epoch", trainer->best_epoch()},
                        {"history", history}};
    if (improved) save_safetensors(run_dir + "/model.safetensors", model_tensors(trainer->model()));
    save_safetensors(run_dir + "/last.safetensors", last, {{"state", state.dump()}});
    write_file_atomically(run_dir + "/metrics.json",
                          metrics_json(json::object(), json::object()).dump(2) + "\n");
  };
  trainer->fit(hooks);

  // 5. Final evaluation of the best parameters (the last ones for ItemPop / no evaluation).
  json best = json::object(), final = json::object();
  if (!trainer->history().empty()) final = epoch_json(trainer->history().back(), is_explicit);
  if (trainer->has_model() && !trainer->best_parameters().empty()) {
    for (auto& [name, parameter] : trainer->model().named_parameters())
      parameter.mutable_value().copy_from(trainer->best_parameters().at(name));
  }
  const EpochRecord best_record = trainer->evaluate(!is_explicit && config.eval.full_ranking);
  if (is_explicit) {
    best = {{"epoch", trainer->best_epoch()}, {"rmse", best_record.rmse}, {"mae", best_record.mae}};
  } else {
    best = ranking_json(best_record.test);
    best["epoch"] = trainer->best_epoch();
    if (best_record.validation) best["validation"] = ranking_json(*best_record.validation);
    if (best_record.full) best["full"] = ranking_json(*best_record.full);
    best["selected_by"] =
        std::string(best_record.validation ? "validation " : "test ") + config.train.select_by.str();
    // The paper's habit: the best test value over all evaluated epochs.
    double best_hr = 0, best_ndcg = 0;
    for (const EpochRecord& r : trainer->history())
      if (r.evaluated) best_hr = std::max(best_hr, r.test.hr), best_ndcg = std::max(best_ndcg, r.test.ndcg);
    if (trainer->history().empty()) best_hr = best_record.test.hr, best_ndcg = best_record.test.ndcg;
    best["best_test_" + metric_key("hr", k)] = best_hr;
    best["best_test_" + metric_key("ndcg", k)] = best_ndcg;
  }
  json metrics = metrics_json(best, final);
  metrics["total_seconds"] = std::chrono::duration<double>(clock::now() - start).count();
  metrics["stopped_early"] = trainer->stopped_early();
  write_file_atomically(run_dir + "/metrics.json", metrics.dump(2) + "\n");

  std::ostringstream summary;
  summary << std::fixed << std::setprecision(4);
  if (is_explicit) {
    summary << "best epoch " << trainer->best_epoch() << ": rmse " << best_record.rmse << "  mae "
            << best_record.mae;
  } else {
    summary << "best epoch " << trainer->best_epoch() << ": hr@" << k << " " << best_record.test.hr
            << "  ndcg@" << k << " " << best_record.test.ndcg << "  (sampled, " << config.eval.negatives
            << " negatives)";
    if (best_record.full)
      summary << "\n             full ranking: hr@" << k << " " << best_record.full->hr << "  ndcg@" << k
              << " " << best_record.full->ndcg;
  }
  log.line(summary.str());
  log.line("wrote " + run_dir + "/metrics.json");
  return {run_dir, metrics};
}

}  // namespace ncf::recsys
