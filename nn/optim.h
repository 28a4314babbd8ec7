// Optimizers over a module's named parameters. One step() = one fused update launch per kind of
// update (see tensor/ops/optimizer.h for the formulas).
//   SGD  (momentum, weight decay); without either, row-sparse gradients update only their rows
//   Adam (dense: every parameter's moments move every step, rows untouched by the batch too, as
//         in the NCF paper's Keras code), or lazy Adam: embedding tables with row-sparse
//         gradients update only the rows the batch touched (much faster on large tables).
// state() / load_state() expose the moments and the step count for resumable checkpoints.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "tensor/ops/optimizer.h"

namespace ncf::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<NamedParameter> parameters) : parameters_(std::move(parameters)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
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
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) override;

 private:
  bool lazy_;
  ops::AdamSettings settings_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace ncf::nn
