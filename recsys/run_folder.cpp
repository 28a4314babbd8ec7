// The run folder's files (layout in run_folder.h): one writer and one reader for each, and the checks
// that make a damaged or mismatched folder a named error instead of a crash or a wrong answer.
#include "recsys/run_folder.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/files.h"
#include "base/parse.h"
#include "nn/checkpoint.h"
#include "recsys/curves.h"

namespace ncf::recsys {

namespace {
using nlohmann::json;

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kBestPrefix = "best.";
constexpr const char* kStateKey = "state";
constexpr int kStateFormat = 2;  // 2: best parameters inside last.safetensors

// Every file a run writes: what --overwrite removes, and whose temporary copies are orphans.
const char* const kRunFiles[] = {"config.json",       "metrics.json", "log.txt",          "last.safetensors",
                                 "model.safetensors", "ids.json",     "seen.safetensors", "curves.svg"};

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

NamedTensors with_prefix(const std::vector<nn::NamedParameter>& parameters, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, parameter] : parameters) out.emplace_back(prefix + name, parameter.value());
  return out;
}

// `file`'s tensor `name`, which must have `like`'s shape and dtype: the error names both.
const Tensor& matching(const SafetensorsFile& file, const std::string& name, const Tensor& like) {
  const Tensor& t = file.at(name);
  NCF_CHECK(t.shape() == like.shape() && t.dtype() == like.dtype(),
            file.path << ": tensor \"" << name << "\" is " << dtype_name(t.dtype()) << " " << t.shape()
                      << " but the model built from the run's config expects " << dtype_name(like.dtype())
                      << " " << like.shape() << " (was the config changed?)");
  return t;
}

bool all_finite(const Tensor& t) {
  if (t.dtype() != DType::f32) return true;
  for (float v : t.to_vector<float>())
    if (!std::isfinite(v)) return false;
  return true;
}

bool is_run_file(const std::string& name) {
  for (const char* run_file : kRunFiles)
    if (name == run_file) return true;
  return false;
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

void RunFolder::check_new(bool overwrite) const {
  if (!is_directory(path_)) {
    if (is_regular_file(path_)) throw ConfigError("--out " + path_ + " is a file, not a folder");
    return;
  }
  if (overwrite || list_directory(path_).empty()) return;
  const bool is_run = is_regular_file(file("config.json"));
  throw ConfigError("--out " + path_ + (is_run ? " holds another run" : " is a folder that is not empty") +
                    ": choose another --out, --resume " + path_ + " to continue it" +
                    ", or --overwrite to replace its run files");
}

void RunFolder::create(bool overwrite) const {
  make_directories(path_);
  if (!overwrite) return;
  remove_orphans();
  for (const std::string& name : list_directory(path_))
    if (is_run_file(name) && std::remove(file(name).c_str()) != 0)
      NCF_FAIL("--overwrite: cannot remove " << file(name) << ": " << std::strerror(errno));
}

void RunFolder::remove_orphans() const { remove_orphaned_temporaries(path_, is_run_file); }

void RunFolder::write_config(const ExperimentConfig& config) const {
  write_file_atomically(file("config.json"), to_json(config).dump(2) + "\n");
}

void RunFolder::write_metrics(const json& metrics) const {
  write_file_atomically(file("metrics.json"), metrics.dump(2) + "\n");
}

void RunFolder::write_curves(const Trainer& trainer, const std::string& title) const {
  if (trainer.history().empty()) return;
  const bool is_explicit = is_explicit_model(to_string(trainer.config().model.type));
  write_file_atomically(file("curves.svg"),
                        learning_curves_svg(trainer.history(), trainer.best_epoch(), is_explicit, title));
}

void RunFolder::write_data(const data::ImplicitDataset& data) const {
  json titles = json::object();
  for (const auto& [raw, title] : data.titles) titles[std::to_string(raw)] = title;
  char fingerprint[17];
  std::snprintf(fingerprint, sizeof fingerprint, "%016llx",
                static_cast<unsigned long long>(data::fingerprint(data)));
  const json ids = {{"users", data.users.raw_ids()},
                    {"items", data.items.raw_ids()},
                    {"titles", titles},
                    {"fingerprint", fingerprint}};
  write_file_atomically(file("ids.json"), ids.dump() + "\n");
  // The CSR as i32 tensors (offsets fit: an i32 item index already bounds the pair count).
  NCF_CHECK(data.num_train() < INT32_MAX,
            "run folder: " << data.num_train() << " training pairs do not fit seen.safetensors' i32 offsets");
  const std::vector<int32_t> offsets(data.train_offsets.begin(), data.train_offsets.end());
  save_safetensors(file("seen.safetensors"),
                   {{"offsets", Tensor::from_vector(offsets, {static_cast<int64_t>(offsets.size())})},
                    {"items", Tensor::from_vector(data.train_item, {data.num_train()})}});
}

data::ImplicitDataset RunFolder::read_data() const {
  const std::string ids_path = file("ids.json");
  json ids;
  try {
    ids = json::parse(read_file(ids_path));
  } catch (const json::exception& e) {
    NCF_FAIL(ids_path << " is damaged: " << e.what());
  }
  data::ImplicitDataset d;
  try {
    d.users = data::IdMap::from_raw_ids(ids.at("users").get<std::vector<int64_t>>());
    d.items = data::IdMap::from_raw_ids(ids.at("items").get<std::vector<int64_t>>());
    for (const auto& [raw, title] : ids.at("titles").items()) {
      const std::optional<int64_t> id = to_int64(raw);
      NCF_CHECK(id, ids_path << ": title key \"" << raw << "\" is not an item id");
      d.titles[*id] = title.get<std::string>();
    }
  } catch (const json::exception& e) {
    NCF_FAIL(ids_path << " is damaged: " << e.what());
  }
  d.num_users = d.users.size();
  d.num_items = d.items.size();
  const SafetensorsFile seen = load_safetensors(file("seen.safetensors"));
  const std::vector<int32_t> offsets = seen.at("offsets").to_vector<int32_t>();
  d.train_item = seen.at("items").to_vector<int32_t>();
  // The CSR must describe exactly these users and items: monotone offsets ending at the item count,
  // items in range and sorted within each user.
  NCF_CHECK(static_cast<int64_t>(offsets.size()) == d.num_users + 1 && offsets.front() == 0 &&
                offsets.back() == static_cast<int32_t>(d.train_item.size()),
            seen.path << ": " << offsets.size() << " offsets and " << d.train_item.size()
                      << " items do not fit the " << d.num_users << " users of " << ids_path);
  d.train_offsets.assign(offsets.begin(), offsets.end());
  d.train_user.resize(d.train_item.size());
  for (int32_t u = 0; u < d.num_users; ++u) {
    NCF_CHECK(offsets[u] <= offsets[u + 1], seen.path << ": offsets decrease at user " << u);
    for (int32_t at = offsets[u]; at < offsets[u + 1]; ++at) {
      NCF_CHECK(d.train_item[at] >= 0 && d.train_item[at] < d.num_items &&
                    (at == offsets[u] || d.train_item[at] > d.train_item[at - 1]),
                seen.path << ": user " << u << "'s items are not sorted ids below " << d.num_items);
      d.train_user[at] = u;
    }
  }
  d.item_popularity.assign(d.num_items, 0);
  for (const int32_t i : d.train_item) ++d.item_popularity[i];
  d.test_item.assign(d.num_users, -1);
  d.validation_item.assign(d.num_users, -1);
  d.source = path_;
  return d;
}

uint64_t RunFolder::data_fingerprint() const {
  const std::string ids_path = file("ids.json");
  try {
    const std::string text = json::parse(read_file(ids_path)).at("fingerprint").get<std::string>();
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    NCF_CHECK(text.size() == 16 && ec == std::errc() && end == text.data() + text.size(),
              ids_path << ": \"fingerprint\" is \"" << text << "\", not 16 hexadecimal digits");
    return value;
  } catch (const json::exception& e) {
    NCF_FAIL(ids_path << " has no data fingerprint (" << e.what() << ")");
  }
}

void RunFolder::save_checkpoint(Trainer& trainer) const {
  const std::vector<nn::NamedParameter> parameters = trainer.model().named_parameters();
  NamedTensors tensors = with_prefix(parameters, kModelPrefix);
  if (trainer.has_optimizer())  // iALS and EASE are solved, not descended: no optimizer state
    for (auto& [name, tensor] : trainer.optimizer().state())
      tensors.emplace_back(kOptimizerPrefix + name, tensor);
  for (const auto& [name, tensor] : trainer.best_parameters())
    tensors.emplace_back(kBestPrefix + name, tensor);
  const bool is_explicit = is_explicit_model(to_string(trainer.config().model.type));
  json history = json::array();
  for (const EpochRecord& r : trainer.history()) history.push_back(epoch_json(r, is_explicit));
  const json state = {{"format", kStateFormat},
                      {"completed_epochs", trainer.completed_epochs()},
                      {"optimizer_steps", trainer.has_optimizer() ? trainer.optimizer().step_count() : 0},
                      {"best_epoch", trainer.best_epoch()},
                      {"history", history}};
  save_safetensors(file("last.safetensors"), tensors, {{kStateKey, state.dump()}});
}

void RunFolder::load_checkpoint(Trainer& trainer) const {
  const std::string path = file("last.safetensors");
  NCF_CHECK(is_regular_file(path), path << " does not exist: the run has no finished epoch to resume from");
  const SafetensorsFile last = load_safetensors(path);
  const ExperimentConfig& config = trainer.config();
  const bool is_explicit = is_explicit_model(to_string(config.model.type));

  // 1. The progress, checked for consistency before anything is changed.
  TrainingProgress progress;
  int64_t optimizer_steps = 0;
  try {
    const json state = json::parse(last.meta(kStateKey));
    progress.completed_epochs = state.at("completed_epochs").get<int64_t>();
    progress.best_epoch = state.at("best_epoch").get<int64_t>();
    optimizer_steps = state.at("optimizer_steps").get<int64_t>();
    for (const json& e : state.at("history"))
      progress.history.push_back(epoch_from_json(e, config.eval.k, is_explicit));
  } catch (const json::exception& e) {
    NCF_FAIL(path << ": the training state is damaged or was written with another eval.k: " << e.what());
  }
  const int64_t completed = progress.completed_epochs;
  NCF_CHECK(completed >= 0 && static_cast<int64_t>(progress.history.size()) == completed,
            path << ": completed_epochs " << completed << " does not match its " << progress.history.size()
                 << " history entries");
  for (int64_t e = 0; e < completed; ++e)
    NCF_CHECK(progress.history[e].epoch == e + 1, path << ": history entry " << e << " is epoch "
                                                       << progress.history[e].epoch << ", expected "
                                                       << e + 1);
  NCF_CHECK(progress.best_epoch >= 0 && progress.best_epoch <= completed &&
                (progress.best_epoch == 0 || progress.history[progress.best_epoch - 1].evaluated),
            path << ": best_epoch " << progress.best_epoch << " is not an evaluated epoch of " << completed);
  NCF_CHECK(optimizer_steps >= 0, path << ": optimizer_steps " << optimizer_steps << " is negative");

  // 2. Every tensor present, with the shape the model and optimizer built from the config expect.
  const std::vector<nn::NamedParameter> parameters = trainer.model().named_parameters();
  std::map<std::string, Tensor> optimizer_state, best;
  if (trainer.has_optimizer())
    for (const auto& [name, tensor] : trainer.optimizer().state())
      optimizer_state[name] = matching(last, kOptimizerPrefix + name, tensor);
  for (const auto& [name, parameter] : parameters) {
    matching(last, kModelPrefix + name, parameter.value());
    if (progress.best_epoch > 0) best[name] = matching(last, kBestPrefix + name, parameter.value());
  }

  // 3. Only now the trainer changes.
  for (auto& [name, parameter] : trainer.model().named_parameters())
    parameter.mutable_value().copy_from(last.at(kModelPrefix + name));
  if (trainer.has_optimizer()) trainer.optimizer().load_state(optimizer_state, optimizer_steps);
  trainer.restore(std::move(progress), std::move(best));
}

void RunFolder::save_best_model(const Trainer& trainer) const {
  if (trainer.best_epoch() == 0) return;
  NamedTensors tensors;
  for (const auto& [name, tensor] : trainer.best_parameters()) tensors.emplace_back(name, tensor);
  save_safetensors(file("model.safetensors"), tensors, {{"epoch", std::to_string(trainer.best_epoch())}});
}

std::map<std::string, Tensor> RunFolder::load_model() const {
  return load_safetensors(file("model.safetensors")).tensors;
}

void RunFolder::load_model_into(ScoringModel& model) const {
  const SafetensorsFile checkpoint = load_safetensors(file("model.safetensors"));
  for (auto& [name, parameter] : model.named_parameters()) {
    const Tensor& source = matching(checkpoint, name, parameter.value());
    NCF_CHECK(all_finite(source), checkpoint.path << ": tensor \"" << name
                                                  << "\" holds NaN or infinite values: the run diverged");
    parameter.mutable_value().copy_from(source);
  }
}

}  // namespace ncf::recsys
