// Optimizers over a module's named parameters. One step() = one fused update launch per kind of
// update (see tensor/ops/optimizer.h for the formulas).
//   SGD  (momentum, weight decay); without either, row-sparse gradients update only their rows
//   Adam (dense: every parameter's moments move every step, rows untouched by the batch too, as
//         in the NCF paper's Keras code), or lazy Adam: embedding tables with row-sparse
//         gradients update only the rows the batch touched (much faster on large tables).
//         set_deferred(true) keeps dense Adam's numbers (to rounding) at lazy Adam's cost on the
//         CPU: untouched rows are caught up when next touched or at sync() (ops::DeferredAdam).
// state() / load_state() expose the moments and the step count for resumable checkpoints.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "tensor/ops/deferred_adam.h"
#include "tensor/ops/optimizer.h"

namespace ncf::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<NamedParameter> parameters) : parameters_(std::move(parameters)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  // Brings every parameter and moment up to date; call before reading them (a deferred optimizer
  // leaves untouched rows behind between steps).
  virtual void sync() {}
  void zero_grad();
  int64_t step_count() const { return step_count_; }

  // Named state tensors ("exp_avg.mlp.0.weight", ...) plus the step count, for checkpoints.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) = 0;

 protected:
  std::vector<NamedParameter> parameters_;
  int64_t step_count_ = 0;
  double lr_ = 1e-3;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<NamedParameter> parameters, double lr, double momentum = 0.0, double weight_decay = 0.0);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) override;

 private:
  double momentum_, weight_decay_;
  std::vector<Tensor> buffers_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<NamedParameter> parameters, double lr, bool lazy = false, double weight_decay = 0.0,
       double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
  ~Adam() override;
  void step() override;
  void sync() override;
  // Dense Adam on row-sparse CPU tables, deferred (weight decay 0 only; ignored otherwise). The
  // tables' rows are caught up when ag::embedding reads them (VariableImpl::before_row_read), so
  // every forward pass sees what dense Adam would have left there.
  void set_deferred(bool deferred);
  std::vector<std::pair<std::string, Tensor>> state() const override;  // syncs first
  void load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) override;

 private:
  bool lazy_;
  ops::AdamSettings settings_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  std::unique_ptr<ops::DeferredAdam> deferred_;
  std::vector<std::vector<int64_t>> row_steps_;  // per deferred table: the step each row is current at
};

}  // namespace ncf::nn
