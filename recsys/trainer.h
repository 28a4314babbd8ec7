// Training loops.
//
// Implicit feedback (GMF, MLP, NeuMF), one epoch:
//   1. sample: every training positive plus K fresh negatives, shuffled, made where the model
//      trains (data/device_sampler.h: a CUDA kernel on the GPU, the same rows as the CPU sampler);
//   2. for each batch (a view of rows, no copy): logits = model(users, items);
//      loss = BCE-with-logits(logits, labels); backward; optimizer step;
//   3. every `eval.every` epochs: HR@K / NDCG@K on the sampled protocol (and on validation when the
//      split holds a validation item); the best epoch's parameters are kept; early stopping after
//      `early_stop_patience` evaluations without gain in `select_by`.
// The loss is summed on the device and read once per epoch, so a step never waits for the host.
//
// Explicit ratings (biased MF, MLP regressor): the same loop over (user, item, rating) with MSE, and
// RMSE / MAE on the test ratings after each epoch.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "data/device_sampler.h"
#include "data/implicit_dataset.h"
#include "data/splits.h"
#include "nn/optim.h"
#include "recsys/config.h"
#include "recsys/evaluator.h"
#include "recsys/models.h"

namespace ncf::recsys {

struct EpochRecord {
  int64_t epoch = 0;
  double loss = 0.0;
  double seconds = 0.0;        // training time of the epoch, sampling included
  double samples_per_s = 0.0;  // training rows per second, sampling included
  bool evaluated = false;
  RankingMetrics test;                       // sampled protocol on the test item
  std::optional<RankingMetrics> validation;  // sampled protocol on the validation item
  std::optional<RankingMetrics> full;        // full ranking on the test item
  double rmse = 0.0, mae = 0.0;              // explicit models
  double eval_seconds = 0.0;
};

// Called with a line of text to log, and with progress within an epoch (rows done, rows total).
struct TrainerHooks {
  std::function<void(const std::string&)> log = [](const std::string&) {};
  std::function<void(int64_t epoch, int64_t rows_done, int64_t rows_total, double seconds)> progress;
  // After every epoch; `improved` when it became the best epoch so far.
  std::function<void(const EpochRecord&, bool improved)> epoch_end;
};

// The optimizer named by the config over the model's parameters.
std::unique_ptr<nn::Optimizer> make_optimizer(const TrainConfig& train, ScoringModel& model);

// Reads `select_by` (hr@K / ndcg@K) from metrics evaluated at cut-off `k`.
double selection_value(const MetricSpec& spec, const RankingMetrics& metrics);

class Trainer {
 public:
  // Implicit feedback.
  Trainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device);
  // Explicit ratings.
  Trainer(const ExperimentConfig& config, const data::ExplicitDataset& data, Device device);

  // Trains from epoch completed_epochs() + 1 to config.train.epochs (or an early stop).
  void fit(const TrainerHooks& hooks = {});
  // Evaluates the current parameters (sampled, validation, and full ranking when asked).
  EpochRecord evaluate(bool full_ranking) const;

  bool has_model() const { return model_ != nullptr; }  // false for ItemPop, which only evaluates
  ScoringModel& model() { return *model_; }
  nn::Optimizer& optimizer() { return *optimizer_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  int64_t completed_epochs() const { return completed_epochs_; }
  int64_t best_epoch() const { return best_epoch_; }
  const std::map<std::string, Tensor>& best_parameters() const { return best_parameters_; }  // on the CPU
  bool stopped_early() const { return stopped_early_; }
  bool is_explicit() const { return explicit_ != nullptr; }
  Device device() const { return device_; }

  // For --resume: the state after `completed_epochs` epochs (history, best so far).
  void restore(int64_t completed_epochs, std::vector<EpochRecord> history, int64_t best_epoch,
               std::map<std::string, Tensor> best_parameters);

 private:
  void build_model(int64_t users, int64_t items, double global_mean);
  double train_epoch(int64_t epoch, const TrainerHooks& hooks);
  double run_batches(const Tensor& users, const Tensor& items, const Tensor& targets, int64_t epoch,
                     const TrainerHooks& hooks);
  double current_selection(const EpochRecord& record) const;

  ExperimentConfig config_;
  Device device_;
  const data::ImplicitDataset* implicit_ = nullptr;
  const data::ExplicitDataset* explicit_ = nullptr;
  nn::ParameterFactory factory_;
  std::unique_ptr<ScoringModel> model_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::unique_ptr<Evaluator> test_evaluator_, validation_evaluator_;
  std::unique_ptr<data::DeviceSampler> sampler_;  // implicit: each epoch's rows, made on the device
  data::DeviceEpoch samples_;                     // its output, reused epoch after epoch
  Tensor explicit_test_users_, explicit_test_items_;

  int64_t completed_epochs_ = 0;
  std::vector<EpochRecord> history_;
  int64_t best_epoch_ = 0;
  double best_value_ = -1e300;
  int64_t evaluations_without_gain_ = 0;
  bool stopped_early_ = false;
  std::map<std::string, Tensor> best_parameters_;
};

}  // namespace ncf::recsys
