// Training loops, one per kind of feedback, sharing the epoch loop, the step, evaluation bookkeeping
// and early stopping (Trainer).
//
// ImplicitTrainer (GMF, MLP, NeuMF; ItemPop, which only evaluates), one epoch:
//   1. sample: every training positive plus K fresh negatives, shuffled, made where the model
//      trains (data/epoch_sampler.h: a CUDA kernel on the GPU, the same rows as the CPU sampler);
//   2. for each batch (a view of rows, no copy): logits = model(users, items);
//      loss = BCE-with-logits(logits, labels); backward; optimizer step;
//   3. every `eval.every` epochs: HR@K / NDCG@K on the sampled protocol (and on validation when the
//      split holds a validation item).
// With train.loss "bpr" (Rendle et al. 2009) the rows of an epoch come in groups (a positive, then
// its K negatives) and the loss is -log sigmoid(score(positive) - score(negative)) for each pair.
// IalsTrainer and EaseTrainer solve their models instead of descending a gradient: an iALS epoch is
// one sweep of exact least-squares solves (recsys/ials.h), EASE's one epoch its closed-form solve
// (recsys/ease.h). They evaluate like the others.
// ExplicitTrainer (biased MF, MLP regressor): the same loop over a fresh permutation of the training
// (user, item, rating) rows with MSE, and RMSE / MAE on the test ratings after each epoch.
//
// Both keep the best epoch's parameters (by `select_by`, on validation when there is one; lowest
// RMSE for ratings) and stop early after `early_stop_patience` evaluations without gain. The loss is
// summed on the device and read once per epoch, so a step never waits for the host.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/epoch_sampler.h"
#include "data/implicit_dataset.h"
#include "data/splits.h"
#include "nn/optim.h"
#include "recsys/config.h"
#include "recsys/evaluator.h"
#include "recsys/models.h"

namespace ncf::recsys {

class Ials;          // recsys/ials.h
class Communicator;  // recsys/distributed.h

struct EpochRecord {
  int64_t epoch = 0;
  double loss = 0.0;
  double seconds = 0.0;        // training time of the epoch, sampling included
  double samples_per_s = 0.0;  // training rows per second, sampling included
  bool evaluated = false;
  RankingMetrics test;                       // implicit: sampled protocol on the test item
  std::optional<RankingMetrics> validation;  // implicit: sampled protocol on the validation item
  std::optional<RankingMetrics> full;        // implicit: full ranking on the test item
  double rmse = 0.0, mae = 0.0;              // explicit
  double eval_seconds = 0.0;
};

// Where a run stands between epochs: what a checkpoint holds besides the tensors.
struct TrainingProgress {
  int64_t completed_epochs = 0;
  int64_t best_epoch = 0;  // 0: no epoch evaluated yet
  std::vector<EpochRecord> history;
};

// Called with a line of text to log, and with progress within an epoch (rows done, rows total).
struct TrainerHooks {
  std::function<void(const std::string&)> log = [](const std::string&) {};
  std::function<void(int64_t epoch, int64_t rows_done, int64_t rows_total, double seconds)> progress;
  // After every epoch; `improved` when it became the best epoch so far.
  std::function<void(const EpochRecord&, bool improved)> epoch_end;
};

// The shape make_model builds for a model config over `users` x `items` (train: the training matrix
// EASE sums over; global_mean: the explicit models' mean rating).
ModelShape model_shape(const ModelConfig& model, int64_t users, int64_t items,
                       const data::ImplicitDataset* train = nullptr, double global_mean = 0.0);

// The optimizer named by the config over the model's parameters (none for the solved models).
std::unique_ptr<nn::Optimizer> make_optimizer(const ModelConfig& model_config, const TrainConfig& train,
                                              ScoringModel& model);

// Reads `select_by` (hr@K / ndcg@K) from metrics evaluated at cut-off `k`.
double selection_value(const MetricSpec& spec, const RankingMetrics& metrics);

class Trainer {
 public:
  virtual ~Trainer() = default;
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains from epoch completed_epochs() + 1 to config.train.epochs (or an early stop).
  void fit(const TrainerHooks& hooks = {});
  // Evaluates the current parameters (full ranking too when asked, for implicit feedback).
  virtual EpochRecord evaluate(bool full_ranking) const = 0;
  // One optimizer step on a batch already on the device: forward, loss (plus the embedding penalty
  // when model.l2 > 0), backward, update. Returns the batch's mean loss as a (1,) device tensor.
  // A dot model under plain SGD (no momentum, no weight decay) with the BCE loss takes the fused
  // step of DotMF::sgd_step instead, the same update without the graph, unless turned off here.
  Tensor train_step(const Tensor& users, const Tensor& items, const Tensor& targets);
  bool uses_fused_step() const { return fused_dot_ != nullptr; }
  void disable_fused_step() { fused_dot_ = nullptr; }  // benchmarks and tests: the autograd path
  // When an epoch's rows come in groups (train.shuffle "groups", or BPR), a step computes each
  // group's user part once (ScoringModel::forward_grouped), unless turned off here (tests compare
  // the two; benchmarks time both).
  bool uses_grouped_step() const { return grouped_step_ && batch_alignment() > 1; }
  void disable_grouped_step() { grouped_step_ = false; }

  bool has_model() const { return model_ != nullptr; }  // false for ItemPop, which only evaluates
  ScoringModel& model() { return *model_; }
  bool has_optimizer() const { return optimizer_ != nullptr; }  // false for ItemPop, iALS and EASE
  nn::Optimizer& optimizer() { return *optimizer_; }
  const ExperimentConfig& config() const { return config_; }
  Device device() const { return device_; }
  const TrainingProgress& progress() const { return progress_; }
  const std::vector<EpochRecord>& history() const { return progress_.history; }
  int64_t completed_epochs() const { return progress_.completed_epochs; }
  int64_t best_epoch() const { return progress_.best_epoch; }
  const std::map<std::string, Tensor>& best_parameters() const { return best_parameters_; }  // on the CPU
  bool stopped_early() const { return stopped_early_; }

  // Data-parallel training over the communicator's ranks (not owned; null or one rank: this process
  // alone). Each rank trains on its slice of every batch and the gradients are summed over the ranks
  // (recsys/distributed.h); the fused dot-MF step is turned off, since it has no gradient to send.
  // Dropout draws, on each rank, the single process's masks for its rows (nn::Module::set_first_row).
  // ConfigError for what cannot be split: the solved models (iALS, EASE).
  void set_communicator(Communicator* communicator);
  bool is_distributed() const;
  Communicator* communicator() const { return communicator_; }

  // For --resume: the state after progress.completed_epochs epochs, and the best epoch's parameters.
  void restore(TrainingProgress progress, std::map<std::string, Tensor> best_parameters);

 protected:
  Trainer(const ExperimentConfig& config, Device device);
  // Builds the model (unless it is ItemPop) and its optimizer, applying NeuMF pre-training.
  void build_model(int64_t users, int64_t items, double global_mean, const data::ImplicitDataset* train = nullptr);
  // Trains one epoch and returns its mean loss.
  virtual double train_epoch(int64_t epoch, const TrainerHooks& hooks) = 0;
  virtual int64_t rows_per_epoch() const = 0;
  virtual ag::Variable loss(const ag::Variable& prediction, const Tensor& targets) const = 0;
  // The number the best epoch maximises.
  virtual double selection(const EpochRecord& record) const = 0;
  // The metrics of an evaluated epoch, for its log line ("  hr@10 0.6 ...").
  virtual std::string describe_metrics(const EpochRecord& record) const = 0;
  // Batch boundaries fall on multiples of this many rows (a group: a positive and its negatives).
  virtual int64_t batch_alignment() const { return 1; }
  // All batches of one epoch's rows, in order; the mean loss over the rows (over all ranks' rows
  // when distributed).
  double run_batches(const Tensor& users, const Tensor& items, const Tensor& targets, int64_t epoch,
                     const TrainerHooks& hooks);

  ExperimentConfig config_;
  Device device_;
  nn::ParameterFactory factory_;
  std::unique_ptr<ScoringModel> model_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  DotMF* fused_dot_ = nullptr;  // the model, when its steps take the fused path
  bool grouped_step_ = true;

 private:
  // train_step with the objective scaled by `share` (this rank's fraction of the global batch) and
  // the gradients summed over the ranks before the update; first_row: where the slice starts in the
  // global batch. An empty slice still takes part in the sum (with no gradient) and in the update, so
  // every rank takes the same step.
  Tensor step(const Tensor& users, const Tensor& items, const Tensor& targets, double share,
              int64_t first_row);

  Communicator* communicator_ = nullptr;
  std::vector<nn::NamedParameter> parameters_;  // the model's, in the order every rank sends them
  TrainingProgress progress_;
  double best_value_ = -1e300;
  int64_t evaluations_without_gain_ = 0;
  bool stopped_early_ = false;
  std::map<std::string, Tensor> best_parameters_;
};

class ImplicitTrainer : public Trainer {
 public:
  // `data` must outlive the trainer.
  ImplicitTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device);
  EpochRecord evaluate(bool full_ranking) const override;

 protected:
  double train_epoch(int64_t epoch, const TrainerHooks& hooks) override;
  int64_t rows_per_epoch() const override;
  ag::Variable loss(const ag::Variable& prediction, const Tensor& targets) const override;
  double selection(const EpochRecord& record) const override;
  std::string describe_metrics(const EpochRecord& record) const override;
  int64_t batch_alignment() const override;

  const data::ImplicitDataset& data_;

 private:
  std::unique_ptr<Evaluator> test_evaluator_, validation_evaluator_;
  std::unique_ptr<data::EpochSampler> sampler_;  // each epoch's rows, made on the device
  data::EpochTensors samples_;                   // its output, reused epoch after epoch
  Tensor pair_differences_;  // BPR: (1 + K, K), column j = score(positive) - score(negative j)
  bool grouped_rows() const;  // an epoch's rows in groups of 1 + K (train.shuffle "groups", or BPR)
};

// iALS: an epoch is one sweep (all users' factors solved, then all items'); its loss is the iALS
// objective divided by the number of training positives.
class IalsTrainer : public ImplicitTrainer {
 public:
  IalsTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device);
  ~IalsTrainer() override;

 private:
  double train_epoch(int64_t epoch, const TrainerHooks& hooks) override;
  int64_t rows_per_epoch() const override { return data_.num_train(); }

  std::unique_ptr<Ials> solver_;  // shares the model's factor tensors
};

// EASE: its one epoch is the closed-form solve of the item-item weights (the loss is reported as 0:
// nothing descends).
class EaseTrainer : public ImplicitTrainer {
 public:
  EaseTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device);

 private:
  double train_epoch(int64_t epoch, const TrainerHooks& hooks) override;
  int64_t rows_per_epoch() const override { return data_.num_train(); }
};

class ExplicitTrainer : public Trainer {
 public:
  // `data` must outlive the trainer.
  ExplicitTrainer(const ExperimentConfig& config, const data::ExplicitDataset& data, Device device);
  EpochRecord evaluate(bool full_ranking) const override;

 private:
  double train_epoch(int64_t epoch, const TrainerHooks& hooks) override;
  int64_t rows_per_epoch() const override;
  ag::Variable loss(const ag::Variable& prediction, const Tensor& targets) const override;
  double selection(const EpochRecord& record) const override;
  std::string describe_metrics(const EpochRecord& record) const override;

  const data::ExplicitDataset& data_;
  Tensor test_users_, test_items_;
};

}  // namespace ncf::recsys
