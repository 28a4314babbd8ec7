// The run folder's files (layout in run_folder.h): one writer and one reader for each.
#include "recsys/run_folder.h"

#include "base/files.h"
#include "nn/checkpoint.h"

namespace ncf::recsys {

namespace {
using nlohmann::json;

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kStateKey = "state";

std::string metric_key(const char* name, int64_t k) { return std::string(name) + "@" + std::to_string(k); }

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

NamedTensors parameters_of(ScoringModel& model, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, parameter] : model.named_parameters())
    out.emplace_back(prefix + name, parameter.value());
  return out;
}
}  // namespace

json ranking_json(const RankingMetrics& m) {
  return {{metric_key("hr", m.k), m.hr},
          {metric_key("ndcg", m.k), m.ndcg},
          {"mrr", m.mrr},
          {"auc", m.auc},
          {"users", m.users}};
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

void RunFolder::create() const { make_directories(path_); }

void RunFolder::write_config(const ExperimentConfig& config) const {
  write_file_atomically(file("config.json"), to_json(config).dump(2) + "\n");
}

void RunFolder::write_ids(const data::ImplicitDataset& data) const {
  json titles = json::object();
  for (const auto& [raw, title] : data.titles) titles[std::to_string(raw)] = title;
  const json ids = {{"users", data.users.raw_ids()}, {"items", data.items.raw_ids()}, {"titles", titles}};
  write_file_atomically(file("ids.json"), ids.dump() + "\n");
}

void RunFolder::write_metrics(const json& metrics) const {
  write_file_atomically(file("metrics.json"), metrics.dump(2) + "\n");
}

void RunFolder::save_model(ScoringModel& model) const {
  save_safetensors(file("model.safetensors"), parameters_of(model, ""));
}

std::map<std::string, Tensor> RunFolder::load_model() const {
  return load_safetensors(file("model.safetensors")).tensors;
}

void RunFolder::load_model_into(ScoringModel& model) const {
  const SafetensorsFile checkpoint = load_safetensors(file("model.safetensors"));
  for (auto& [name, parameter] : model.named_parameters())
    parameter.mutable_value().copy_from(checkpoint.at(name));
}

void RunFolder::save_checkpoint(Trainer& trainer) const {
  NamedTensors tensors = parameters_of(trainer.model(), kModelPrefix);
  for (auto& [name, tensor] : trainer.optimizer().state())
    tensors.emplace_back(kOptimizerPrefix + name, tensor);
  const bool is_explicit = is_explicit_model(to_string(trainer.config().model.type));
  json history = json::array();
  for (const EpochRecord& r : trainer.history()) history.push_back(epoch_json(r, is_explicit));
  const json state = {{"completed_epochs", trainer.completed_epochs()},
                      {"optimizer_steps", trainer.optimizer().step_count()},
                      {"best_epoch", trainer.best_epoch()},
                      {"history", history}};
  save_safetensors(file("last.safetensors"), tensors, {{kStateKey, state.dump()}});
}

void RunFolder::load_checkpoint(Trainer& trainer) const {
  const SafetensorsFile last = load_safetensors(file("last.safetensors"));
  for (auto& [name, parameter] : trainer.model().named_parameters())
    parameter.mutable_value().copy_from(last.at(kModelPrefix + name));
  std::map<std::string, Tensor> optimizer_state;
  const std::string prefix = kOptimizerPrefix;
  for (const auto& [name, tensor] : last.tensors)
    if (name.rfind(prefix, 0) == 0) optimizer_state[name.substr(prefix.size())] = tensor;
  const json state = json::parse(last.metadata.at(kStateKey));
  trainer.optimizer().load_state(optimizer_state, state.at("optimizer_steps").get<int64_t>());

  const ExperimentConfig& config = trainer.config();
  const bool is_explicit = is_explicit_model(to_string(config.model.type));
  TrainingProgress progress;
  progress.completed_epochs = state.at("completed_epochs");
  progress.best_epoch = state.at("best_epoch");
  for (const json& e : state.at("history"))
    progress.history.push_back(epoch_from_json(e, config.eval.k, is_explicit));
  std::map<std::string, Tensor> best =
      progress.best_epoch > 0 ? load_model() : std::map<std::string, Tensor>{};
  trainer.restore(std::move(progress), std::move(best));
}

}  // namespace ncf::recsys
