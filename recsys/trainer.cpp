#include "recsys/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "autograd/functions.h"
#include "data/batches.h"
#include "recsys/block_scorer.h"
#include "recsys/distributed.h"
#include "recsys/ease.h"
#include "recsys/ials.h"
#include "recsys/run_folder.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/random.h"

namespace ncf::recsys {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

std::unique_ptr<nn::Optimizer> make_optimizer(const ModelConfig& model_config, const TrainConfig& train,
                                              ScoringModel& model) {
  if (model_config.type == ModelType::ials || model_config.type == ModelType::ease) return nullptr;  // solved
  switch (train.optimizer) {
    case OptimizerKind::sgd:
      return std::make_unique<nn::SGD>(model.named_parameters(), train.lr, train.momentum,
                                       train.weight_decay);
    case OptimizerKind::lazy_adam:
      return std::make_unique<nn::Adam>(model.named_parameters(), train.lr, /*lazy=*/true,
                                        train.weight_decay);
    case OptimizerKind::adam:
    default:
      return std::make_unique<nn::Adam>(model.named_parameters(), train.lr, /*lazy=*/false,
                                        train.weight_decay);
  }
}

double selection_value(const MetricSpec& spec, const RankingMetrics& metrics) {
  NCF_CHECK(spec.k == metrics.k, "select_by " << spec.str() << " needs metrics at k = " << spec.k
                                              << ", but evaluation uses k = " << metrics.k);
  return spec.kind == "hr" ? metrics.hr : metrics.ndcg;
}

ModelShape model_shape(const ModelConfig& model, int64_t users, int64_t items, const data::ImplicitDataset* train,
                       double global_mean) {
  ModelShape shape;
  shape.type = to_string(model.type);
  shape.users = users;
  shape.items = items;
  shape.factors = model.factors;
  shape.layers = model.layers;
  shape.dropout = model.dropout;
  shape.l2 = model.l2;
  shape.init_std = model.init_std;
  shape.train = train;
  shape.global_mean = global_mean;
  return shape;
}

Trainer::Trainer(const ExperimentConfig& config, Device device) : config_(config), device_(device) {}

void Trainer::build_model(int64_t users, int64_t items, double global_mean, const data::ImplicitDataset* train) {
  if (config_.model.type == ModelType::itempop) return;  // nothing to train
  factory_ = nn::ParameterFactory{device_, DType::f32, config_.train.seed, 1};
  model_ = make_model(model_shape(config_.model, users, items, train, global_mean), factory_);
  if (config_.model.pretrain) {
    const PretrainConfig& pretrain = *config_.model.pretrain;
    load_pretrained_neumf(*model_, RunFolder(pretrain.gmf).load_model(), RunFolder(pretrain.mlp).load_model(),
                          pretrain.alpha);
  }
  optimizer_ = make_optimizer(config_.model, config_.train, *model_);
  // An experiment, off by default: dense Adam on the CPU deferred (tensor/ops/deferred_adam.h), the
  // same numbers to rounding (not to the bit, and not the GPU's dense update) at the cost of the rows
  // a batch touches. NCF_DEFERRED_ADAM=1 turns it on; its speed-up is not yet shown (README).
  const char* deferred = std::getenv("NCF_DEFERRED_ADAM");
  if (auto* adam = dynamic_cast<nn::Adam*>(optimizer_.get());
      adam && device_.is_cpu() && deferred && std::string(deferred) == "1")
    adam->set_deferred(true);
  const TrainConfig& t = config_.train;
  if (t.optimizer == OptimizerKind::sgd && t.momentum == 0.0 && t.weight_decay == 0.0 && t.loss == TrainLoss::bce)
    fused_dot_ = dynamic_cast<DotMF*>(model_.get());
}

void Trainer::restore(TrainingProgress progress, std::map<std::string, Tensor> best_parameters) {
  progress_ = std::move(progress);
  best_parameters_ = std::move(best_parameters);
  best_value_ = -1e300;
  evaluations_without_gain_ = 0;
  for (const EpochRecord& record : progress_.history) {
    if (!record.evaluated) continue;
    const double value = selection(record);
    if (value > best_value_) {
      best_value_ = value;
      evaluations_without_gain_ = 0;
    } else {
      ++evaluations_without_gain_;
    }
  }
}

void Trainer::set_communicator(Communicator* communicator) {
  communicator_ = communicator;
  if (!is_distributed()) return;
  const std::string ranks = std::to_string(communicator->size()) + " ranks";
  if (config_.model.type == ModelType::ials || config_.model.type == ModelType::ease)
    throw ConfigError("model.type " + std::string(to_string(config_.model.type)) +
                      " is solved, not trained by gradient steps; it cannot be split over " + ranks +
                      " (run it in one process)");
  fused_dot_ = nullptr;
  if (model_) parameters_ = model_->named_parameters();
  // GPU ranks sum on the device when the communicator has NCCL; else through host memory.
  if (device_.is_cuda()) communicator->use_device(device_);
}

bool Trainer::is_distributed() const { return communicator_ != nullptr && communicator_->size() > 1; }

Tensor Trainer::train_step(const Tensor& users, const Tensor& items, const Tensor& targets) {
  return step(users, items, targets, 1.0, 0);
}

Tensor Trainer::step(const Tensor& users, const Tensor& items, const Tensor& targets, double share,
                     int64_t first_row) {
  if (fused_dot_) return fused_dot_->sgd_step(users, items, targets, config_.train.lr);
  optimizer_->zero_grad();
  Tensor loss_value;
  if (users.numel() == 0) {
    model_->skip_forward();  // an empty slice: the dropout streams move on as the other ranks' do
  } else {
    model_->set_first_row(first_row);  // dropout draws the global batch's masks for this slice
    const ag::Variable prediction =
        uses_grouped_step() ? model_->forward_grouped(users, items, batch_alignment()) : model_->forward(users, items);
    const ag::Variable batch_loss = loss(prediction, targets.view({targets.numel(), 1}));
    ag::Variable objective = batch_loss;  // the loss plus, when model.l2 > 0, the embedding penalty
    if (config_.model.l2 > 0.0) objective = ag::add(batch_loss, model_->embedding_penalty(users, items));
    // Both terms are means over this slice's rows: scaled by the slice's share, their sum over the
    // ranks is the mean over the global batch, the penalty counted once.
    if (share != 1.0) objective = ag::scale(objective, share);
    objective.backward();
    loss_value = batch_loss.value();
  }
  if (is_distributed()) sum_gradients(*communicator_, parameters_);
  optimizer_->step();
  return loss_value;
}

double Trainer::run_batches(const Tensor& users, const Tensor& items, const Tensor& targets, int64_t epoch,
                            const TrainerHooks& hooks) {
  model_->train();
  const int64_t rows = users.numel();
  Tensor loss_sum = Tensor::zeros({1}, DType::f32, device_);  // summed on the device, read once
  const auto start = std::chrono::steady_clock::now();
  const data::BatchRanges batches(rows, config_.train.batch_size, batch_alignment());
  const bool distributed = is_distributed();
  int64_t done = 0;
  for (const data::BatchRange range : batches) {
    // Distributed: this rank's contiguous slice of the global batch, its loss weighted by its share.
    const data::BatchRange mine =
        distributed ? local_rows(range, communicator_->rank(), communicator_->size(), batch_alignment())
                    : range;
    const Tensor batch_loss = step(users.rows(mine.begin, mine.end), items.rows(mine.begin, mine.end),
                                   targets.rows(mine.begin, mine.end),
                                   static_cast<double>(mine.size()) / static_cast<double>(range.size()),
                                   mine.begin - range.begin);
    if (mine.size() > 0) ops::axpy_(loss_sum, static_cast<double>(mine.size()), batch_loss);
    done += range.size();
    if (hooks.progress && (done == rows || (done / range.size()) % 64 == 0))
      hooks.progress(epoch, done, rows, seconds_since(start));
  }
  if (optimizer_) optimizer_->sync();  // evaluation and checkpoints read every row
  double total = static_cast<double>(loss_sum.item<float>());
  if (distributed) communicator_->allreduce_sum(&total, 1);  // every rank's rows
  return total / static_cast<double>(rows);
}

void Trainer::fit(const TrainerHooks& hooks) {
  const int64_t epochs = model_ ? config_.train.epochs : 0;
  for (int64_t epoch = progress_.completed_epochs + 1; epoch <= epochs && !stopped_early_; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const double loss = train_epoch(epoch, hooks);
    const double seconds = seconds_since(start);
    // A diverged run stops here: nothing of this epoch is kept or marked best, and the run folder
    // still holds the previous epoch's checkpoint.
    NCF_CHECK(std::isfinite(loss), "training diverged in epoch "
                                       << epoch << ": its mean loss is " << loss
                                       << "; nothing of this epoch was kept (lower train.lr, now "
                                       << config_.train.lr << ")");

    const bool evaluate_now = epoch % config_.eval.every == 0 || epoch == epochs;
    EpochRecord record = evaluate_now ? evaluate(/*full_ranking=*/false) : EpochRecord{};
    record.epoch = epoch;
    record.loss = loss;
    record.seconds = seconds;
    record.samples_per_s = static_cast<double>(rows_per_epoch()) / seconds;

    bool improved = false;
    if (record.evaluated) {
      const double value = selection(record);
      if (std::isfinite(value) && value > best_value_) {
        best_value_ = value;
        progress_.best_epoch = epoch;
        evaluations_without_gain_ = 0;
        improved = true;
        best_parameters_.clear();
        for (const auto& [name, parameter] : model_->named_parameters())
          best_parameters_[name] = parameter.value().to(Device::cpu());
      } else {
        ++evaluations_without_gain_;
      }
    }
    progress_.completed_epochs = epoch;
    progress_.history.push_back(record);

    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(4);
    line << "epoch " << epoch << "/" << epochs << "  loss " << loss << "  " << std::setprecision(1) << seconds
         << " s  " << std::setprecision(0) << record.samples_per_s << " samples/s";
    if (record.evaluated) line << describe_metrics(record);
    if (improved) line << "  *";
    hooks.log(line.str());
    if (hooks.epoch_end) hooks.epoch_end(record, improved);

    if (config_.train.early_stop_patience > 0 &&
        evaluations_without_gain_ >= config_.train.early_stop_patience) {
      stopped_early_ = true;
      hooks.log("early stop: no gain in " + config_.train.select_by.str() + " for " +
                std::to_string(evaluations_without_gain_) + " evaluations");
    }
  }
}

// ---- implicit feedback -------------------------------------------------------------------------

ImplicitTrainer::ImplicitTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data,
                                 Device device)
    : Trainer(config, device), data_(data) {
  NCF_CHECK(!is_explicit_model(to_string(config.model.type)),
            "model " << to_string(config.model.type)
                     << " trains on explicit ratings, not on a leave-one-out split");
  build_model(data.num_users, data.num_items, 0.0, &data);
  test_evaluator_ = std::make_unique<Evaluator>(data, device, config.eval.k);
  if (config.train.loss == TrainLoss::bpr) {
    // (1 + K, K): row 0 all ones, row 1 + j a -1 in column j. A group's scores (1, 1 + K) times it
    // are the K differences score(positive) - score(negative j).
    const int64_t k = config.train.negatives;
    std::vector<float> difference(static_cast<size_t>((1 + k) * k), 0.0f);
    for (int64_t j = 0; j < k; ++j) difference[j] = 1.0f, difference[(1 + j) * k + j] = -1.0f;
    pair_differences_ = Tensor::from_vector(difference, {1 + k, k}, device);
  }
  bool has_validation = false;
  for (int32_t item : data.validation_item) has_validation = has_validation || item >= 0;
  if (has_validation)
    validation_evaluator_ =
        std::make_unique<Evaluator>(data, device, config.eval.k, Evaluator::Heldout::validation);
}

double ImplicitTrainer::train_epoch(int64_t epoch, const TrainerHooks& hooks) {
  // Negatives and the shuffle depend only on (seed, epoch): a resumed run draws the same samples.
  // BPR compares a positive with its own negatives, so the rows stay in groups.
  const data::ShuffleMode shuffle = grouped_rows() ? data::ShuffleMode::groups : data::ShuffleMode::rows;
  if (!sampler_)
    sampler_ = std::make_unique<data::EpochSampler>(data_, static_cast<int>(config_.train.negatives),
                                                    config_.train.seed, device_, shuffle);
  sampler_->sample(static_cast<uint32_t>(epoch), samples_);
  return run_batches(samples_.users, samples_.items, samples_.labels, epoch, hooks);
}

int64_t ImplicitTrainer::rows_per_epoch() const { return data_.num_train() * (1 + config_.train.negatives); }

ag::Variable ImplicitTrainer::loss(const ag::Variable& prediction, const Tensor& targets) const {
  if (config_.train.loss == TrainLoss::bce) return ag::bce_with_logits(prediction, targets);
  // BPR: -log sigmoid(d) = BCE-with-logits(d, 1) for each difference d of a group; the differences
  // are a product with a constant matrix, so autograd spreads the gradient back to every score.
  const int64_t group = pair_differences_.dim(0), groups = prediction.value().numel() / group;
  const ag::Variable scores = ag::reshape(prediction, {groups, group});
  const ag::Variable zero_bias(Tensor::zeros({group - 1}, DType::f32, device_));
  const ag::Variable differences = ag::linear(scores, ag::Variable(pair_differences_), zero_bias);
  Tensor ones = Tensor::empty({groups, group - 1}, DType::f32, device_);
  ops::fill_(ones, 1.0);
  return ag::bce_with_logits(differences, ones);
}

bool ImplicitTrainer::grouped_rows() const {
  return config_.train.loss == TrainLoss::bpr || config_.train.shuffle == ShuffleChoice::groups;
}

int64_t ImplicitTrainer::batch_alignment() const { return grouped_rows() ? 1 + config_.train.negatives : 1; }

double ImplicitTrainer::selection(const EpochRecord& record) const {
  // The validation item chooses the epoch when there is one; otherwise the test item (the paper's habit).
  return selection_value(config_.train.select_by, record.validation ? *record.validation : record.test);
}

std::string ImplicitTrainer::describe_metrics(const EpochRecord& record) const {
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(4);
  line << "  hr@" << record.test.k << " " << record.test.hr << "  ndcg@" << record.test.k << " "
       << record.test.ndcg;
  if (record.validation)
    line << "  (validation hr " << record.validation->hr << " ndcg " << record.validation->ndcg << ")";
  return line.str();
}

EpochRecord ImplicitTrainer::evaluate(bool full_ranking) const {
  EpochRecord record;
  const auto start = std::chrono::steady_clock::now();
  record.evaluated = true;
  const Scorer scorer = model_ ? model_scorer(*model_) : popularity_scorer(data_, device_);
  // Distributed: each rank ranks its share of the users, the ranks are gathered (the same metrics).
  const auto sampled = [&](const Evaluator& evaluator) {
    return is_distributed() ? sampled_metrics(*communicator(), evaluator, scorer) : evaluator.sampled(scorer);
  };
  record.test = sampled(*test_evaluator_);
  if (validation_evaluator_) record.validation = sampled(*validation_evaluator_);
  // Every item for every user: a block of users at a time, by the model's fastest path (one GEMM for
  // the bilinear models, one sparse product for EASE; recsys/block_scorer.h).
  // Distributed: each rank scores every item for its share of the users.
  if (full_ranking && is_distributed())
    record.full = full_ranking_metrics(*communicator(), *test_evaluator_,
                                       model_ ? block_scorer(*model_, data_.num_items, device_)
                                              : pairwise_block_scorer(scorer, data_.num_items, device_));
  else if (full_ranking)
    record.full = model_ ? test_evaluator_->full_ranking(block_scorer(*model_, data_.num_items, device_))
                         : test_evaluator_->full_ranking(scorer);
  record.eval_seconds = seconds_since(start);
  return record;
}

// ---- solved models -----------------------------------------------------------------------------

IalsTrainer::IalsTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device)
    : ImplicitTrainer(config, data, device) {}

IalsTrainer::~IalsTrainer() = default;

double IalsTrainer::train_epoch(int64_t, const TrainerHooks&) {
  // The solver is made at the first epoch (after a resume has loaded the factors) and solves into
  // the model's own tables (it holds the same tensors), so the evaluator, the checkpoints and
  // recommend see each sweep's factors with no copy.
  if (!solver_) {
    auto& model = static_cast<IalsModel&>(*model_);
    IalsConfig ials;
    ials.dim = config_.model.factors;
    static_cast<IalsWeights&>(ials) = config_.model.ials;
    ials.dtype = model.user_factors().dtype();
    solver_ = std::make_unique<Ials>(ials, make_implicit_csr(data_, device_));
    solver_->user_factors() = model.user_factors();
    solver_->item_factors() = model.item_factors();
  }
  solver_->sweep();
  return solver_->loss() / static_cast<double>(std::max<int64_t>(1, data_.num_train()));
}

EaseTrainer::EaseTrainer(const ExperimentConfig& config, const data::ImplicitDataset& data, Device device)
    : ImplicitTrainer(config, data, device) {}

double EaseTrainer::train_epoch(int64_t, const TrainerHooks&) {
  auto& model = static_cast<EaseModel&>(*model_);
  model.weights().copy_from(ease_weights(model.training(), config_.model.ease_lambda, model.weights().dtype()));
  return 0.0;
}

// ---- explicit ratings --------------------------------------------------------------------------

ExplicitTrainer::ExplicitTrainer(const ExperimentConfig& config, const data::ExplicitDataset& data,
                                 Device device)
    : Trainer(config, device), data_(data) {
  NCF_CHECK(is_explicit_model(to_string(config.model.type)),
            "model " << to_string(config.model.type)
                     << " ranks implicit feedback; explicit ratings need mf or mlp_regressor");
  NCF_CHECK(data.train.size() > 0 && data.test.size() > 0, "explicit split has an empty train ("
                                                               << data.train.size() << " ratings) or test ("
                                                               << data.test.size() << " ratings) set");
  double sum = 0.0;
  for (float r : data.train.rating) sum += r;
  build_model(data.train.num_users(), data.train.num_items(), sum / static_cast<double>(data.train.size()));
  test_users_ = Tensor::from_vector(data.test.user, {data.test.size()}, device);
  test_items_ = Tensor::from_vector(data.test.item, {data.test.size()}, device);
}

double ExplicitTrainer::train_epoch(int64_t epoch, const TrainerHooks& hooks) {
  // A fresh permutation of the training ratings each epoch.
  const data::Interactions& train = data_.train;
  const int64_t n = train.size();
  const std::vector<int32_t> order =
      ops::randperm(n, config_.train.seed, static_cast<uint32_t>(epoch), Device::cpu()).to_vector<int32_t>();
  std::vector<int32_t> users(n), items(n);
  std::vector<float> ratings(n);
  for (int64_t i = 0; i < n; ++i) {
    users[i] = train.user[order[i]];
    items[i] = train.item[order[i]];
    ratings[i] = train.rating[order[i]];
  }
  return run_batches(Tensor::from_vector(users, {n}, device_), Tensor::from_vector(items, {n}, device_),
                     Tensor::from_vector(ratings, {n}, device_), epoch, hooks);
}

int64_t ExplicitTrainer::rows_per_epoch() const { return data_.train.size(); }

ag::Variable ExplicitTrainer::loss(const ag::Variable& prediction, const Tensor& targets) const {
  return ag::mse(prediction, targets);
}

double ExplicitTrainer::selection(const EpochRecord& record) const {
  return -record.rmse;
}  // lower is better

std::string ExplicitTrainer::describe_metrics(const EpochRecord& record) const {
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(4);
  line << "  rmse " << record.rmse << "  mae " << record.mae;
  return line.str();
}

EpochRecord ExplicitTrainer::evaluate(bool) const {
  EpochRecord record;
  const auto start = std::chrono::steady_clock::now();
  record.evaluated = true;
  const std::vector<float> predictions = model_scorer(*model_)(test_users_, test_items_).to_vector<float>();
  record.rmse = rmse(predictions, data_.test.rating);
  record.mae = mae(predictions, data_.test.rating);
  record.eval_seconds = seconds_since(start);
  return record;
}

}  // namespace ncf::recsys
