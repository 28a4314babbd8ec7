// The experiment config (the README's config reference) as typed structs, parsed from JSON and validated
// before any work starts: unknown keys (with a "did you mean"), wrong types, out-of-range values, bad enum
// values and missing files all throw ConfigError naming the key and the config file.
//
// Typical use (apps):
//   nlohmann::json j = load_config_json(path);
//   for (auto& s : sets) apply_override(j, s);                   // --set train.epochs=3
//   ExperimentConfig config = parse_config(j, path, sets);
//   check_config_files(config, project_root);
//   ... open resolve_path(config.data.path, project_root) ...
// or in one call: load_experiment_config(path, sets, project_root).
//
// Paths stay in the config as written (relative to the project root, or absolute), so a resolved
// config.json in a run folder still works after the project moves; resolve_path() joins them to a root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"
#include "base/error.h"
#include "data/config.h"

namespace ncf::recsys {

// A config that cannot be used: the message names the key and where it was set (file or --set).
class ConfigError : public Error {
 public:
  using Error::Error;
};

using data::DataConfig;
using data::DataFormat;
using data::SplitKind;

enum class ModelType { gmf, mlp, neumf, dot, ials, ease, mf, mlp_regressor, itempop };
enum class OptimizerKind { adam, lazy_adam, sgd };
enum class TrainLoss { bce, bpr };
// How an epoch's rows are shuffled (data::ShuffleMode): auto is rows for BCE and groups for BPR;
// groups keeps each positive with its K negatives, and the models then compute the user's part once
// per group (ScoringModel::forward_grouped).
enum class ShuffleChoice { automatic, rows, groups };
const EnumNames<ModelType>& enum_names(ModelType);          // "gmf", ..., "itempop"
const EnumNames<OptimizerKind>& enum_names(OptimizerKind);  // "adam", "lazy_adam", "sgd"
const EnumNames<TrainLoss>& enum_names(TrainLoss);          // "bce", "bpr"
const EnumNames<ShuffleChoice>& enum_names(ShuffleChoice);  // "auto", "rows", "groups"

struct PretrainConfig {
  std::string gmf;  // run folder of a trained GMF (empty: none)
  std::string mlp;  // run folder of a trained MLP (empty: none)
  double alpha = 0.5;
};

// iALS's weights (recsys/ials.h): the loss over all pairs and its regularisation; the config's
// `model.ials` and the solver's IalsConfig (which extends it) share this one definition.
struct IalsWeights {
  double unobserved_weight = 0.1;   // alpha0: the weight of every (user, item) pair's zero target
  double regularization = 1e-3;     // lambda
  double frequency_exponent = 0.0;  // nu: lambda (|I_u| + alpha0 |I|)^nu per row (0: plain L2;
                                    // Rendle et al. use 1 on ML-20M)
};

struct ModelConfig {
  ModelType type = ModelType::neumf;  // default: the paper's headline model (uses factors and layers)
  int64_t factors = 8;                // embedding size of gmf, dot, ials, mf and NeuMF's GMF part
  std::vector<int64_t> layers = {64, 32, 16, 8};
  double dropout = 0.0;
  double l2 = 0.0;  // penalty l2 * (sum of squares of the embedding rows a batch looks up) / batch size
  // The standard deviation of the embedding tables' normal initialisation; none: the model's own
  // (0.01 as in the NCF paper; 0.1 for dot and mf, 0.05 for mlp_regressor, 0.1 / sqrt(factors) for ials).
  std::optional<double> init_std;
  IalsWeights ials;
  double ease_lambda = 500.0;              // EASE's L2 weight on the item-item matrix
  std::optional<PretrainConfig> pretrain;  // neumf only
};

// A metric name like "hr@10" or "ndcg@10".
struct MetricSpec {
  std::string kind = "ndcg";  // "hr" or "ndcg"
  int64_t k = 10;
  std::string str() const { return kind + "@" + std::to_string(k); }
};
// Parses "hr@K" / "ndcg@K" (K >= 1); nullopt otherwise.
std::optional<MetricSpec> parse_metric_spec(const std::string& text);

struct TrainConfig {
  int64_t epochs = 20;  // ials: sweeps; ease: 1 (a closed-form solve)
  int64_t batch_size = 256;
  TrainLoss loss = TrainLoss::bce;  // bpr: pairwise, each positive against each of its negatives
  ShuffleChoice shuffle = ShuffleChoice::automatic;
  OptimizerKind optimizer = OptimizerKind::adam;
  double lr = 0.001;
  double momentum = 0.0;
  double weight_decay = 0.0;
  int64_t negatives = 4;
  uint64_t seed = 42;
  std::string device = "auto";      // "auto" | "cpu" | "cuda" (see ncf::parse_device)
  int64_t early_stop_patience = 0;  // 0: never stop early
  MetricSpec select_by;             // ndcg@10
};

struct EvalConfig {
  int64_t k = 10;
  int64_t negatives = 99;
  bool full_ranking = true;
  int64_t every = 1;  // evaluate every N epochs (and always after the last)
  uint64_t seed = 7;
};

struct ExperimentConfig {
  data::DataConfig data;
  ModelConfig model;
  TrainConfig train;
  EvalConfig eval;
  std::string source;  // where it came from, for later error messages ("apps/configs/x.json")
};

// Reads a JSON config (// and /* */ comments allowed); ConfigError naming the file, line and column.
nlohmann::json load_config_json(const std::string& path);

// Applies "a.b.c=value": value parsed as JSON when it parses (3, 0.5, true, null, [1,2], "x"), else taken
// as a string (so --set data.format=csv works unquoted). Missing objects on the way are created.
void apply_override(nlohmann::json& j, const std::string& assignment);

// Types, ranges, enums and unknown keys. Errors name the key and `source_name`; a key set by one of
// `overrides` (the --set strings applied to j) is blamed on that --set instead.
ExperimentConfig parse_config(const nlohmann::json& j, const std::string& source_name,
                              const std::vector<std::string>& overrides = {});

// Every key, defaults included: what a run folder's config.json holds. parse_config(to_json(c)) == c.
nlohmann::json to_json(const ExperimentConfig& config);

// `path` if absolute (or empty), else root + "/" + path.
std::string resolve_path(const std::string& path, const std::string& root);

// Checks that the files the config names exist, resolved against `root`: data.path (for format ncf the
// three files PREFIX.train.rating, PREFIX.test.rating, PREFIX.test.negative), data.titles, and the
// pretrain run folders (each holding model.safetensors). ConfigError naming key and config file.
void check_config_files(const ExperimentConfig& config, const std::string& root);

// load_config_json + apply_override for each + parse_config + check_config_files.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides,
                                        const std::string& root);

// Edit distance with adjacent transpositions counting 1 (used for "did you mean"); exposed for tests.
size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace ncf::recsys
