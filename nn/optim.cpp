#include "nn/optim.h"

#include "tensor/ops/elementwise.h"

namespace ncf::nn {

namespace {
std::vector<Tensor> zeros_like_all(const std::vector<NamedParameter>& parameters) {
  std::vector<Tensor> out;
  for (const auto& [name, parameter] : parameters) out.push_back(Tensor::zeros_like(parameter.value()));
  return out;
}

void load_named(std::vector<Tensor>& targets, const std::vector<NamedParameter>& parameters,
                const std::string& prefix, const std::map<std::string, Tensor>& tensors) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto it = tensors.find(prefix + parameters[i].first);
    NCF_CHECK(it != tensors.end(), "optimizer state has no tensor '" << prefix + parameters[i].first << "'");
    check_same_shape(targets[i], it->second, "optimizer load_state");
    targets[i].copy_from(it->second);
  }
}
}  // namespace

void Optimizer::zero_grad() {
  for (auto& [name, parameter] : parameters_) parameter.zero_grad();
}

SGD::SGD(std::vector<NamedParameter> parameters, double lr, double momentum, double weight_decay)
    : Optimizer(std::move(parameters)), momentum_(momentum), weight_decay_(weight_decay) {
  lr_ = lr;
  if (momentum_ != 0.0) buffers_ = zeros_like_all(parameters_);  // without momentum, no state at all
}

void SGD::step() {
  ++step_count_;
  std::vector<Tensor> params, grads, buffers;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Variable& p = parameters_[i].second;
    if (!p.has_grad()) continue;
    if (momentum_ == 0.0 && weight_decay_ == 0.0 && p.sparse_grad().indices.defined() && !p.grad().defined()) {
      // Plain SGD moves only the rows with a gradient: subtract lr * g from those rows alone, the
      // same numbers as the dense update without densifying a table-sized gradient every step.
      Tensor table = p.value();
      ops::axpy_row_sparse_(table, -lr_, p.sparse_grad());
      continue;
    }
    params.push_back(p.value());
    grads.push_back(p.dense_grad());
    if (!buffers_.empty()) buffers.push_back(buffers_[i]);
  }
  if (!params.empty()) ops::sgd_step(params, grads, buffers, lr_, momentum_, weight_decay_, step_count_ == 1);
}

std::vector<std::pair<std::string, Tensor>> SGD::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < buffers_.size(); ++i) out.emplace_back("momentum." + parameters_[i].first, buffers_[i]);
  return out;
}

void SGD::load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) {
  if (!buffers_.empty()) load_named(buffers_, parameters_, "momentum.", tensors);
  step_count_ = step_count;
}

Adam::Adam(std::vector<NamedParameter> parameters, double lr, bool lazy, double weight_decay, double beta1,
           double beta2, double eps)
    : Optimizer(std::move(parameters)), lazy_(lazy) {
  lr_ = lr;
  settings_.beta1 = beta1;
  settings_.beta2 = beta2;
  settings_.eps = eps;
  settings_.weight_decay = weight_decay;
  exp_avg_ = zeros_like_all(parameters_);
  exp_avg_sq_ = zeros_like_all(parameters_);
}

Adam::~Adam() { set_deferred(false); }

void Adam::set_deferred(bool deferred) {
  sync();
  for (auto& [name, p] : parameters_) p.impl()->before_row_read = nullptr;
  row_steps_.clear();
  deferred_.reset();
  if (!deferred || lazy_ || settings_.weight_decay != 0.0 || settings_.beta1 <= 0.0) return;
  settings_.lr = lr_;
  deferred_ = std::make_unique<ops::DeferredAdam>(
      settings_, parameters_.empty() ? DType::f32 : parameters_[0].second.value().dtype());
  row_steps_.resize(parameters_.size());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Variable& p = parameters_[i].second;
    if (!p.sparse_gradient() || p.value().is_cuda() || p.value().ndim() != 2) continue;
    p.impl()->before_row_read = [this, i](const Tensor& indices) {
      if (row_steps_[i].empty()) return;  // not deferred (yet): every row is current
      deferred_->catch_up_rows(parameters_[i].second.mutable_value(), indices, exp_avg_[i], exp_avg_sq_[i],
                               row_steps_[i], step_count_);
    };
  }
}

void Adam::sync() {
  if (!deferred_ || step_count_ < 1) return;
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (!row_steps_[i].empty())
      deferred_->flush(parameters_[i].second.mutable_value(), exp_avg_[i], exp_avg_sq_[i], row_steps_[i],
                       step_count_);
}

void Adam::step() {
  ++step_count_;
  settings_.lr = lr_;
  settings_.step = step_count_;
  if (deferred_) {
    // Row-sparse CPU tables go deferred. A table updated otherwise this step (no gradient, or a
    // dense one) is first brought up to the previous step, then counts as current after this one.
    for (size_t i = 0; i < parameters_.size(); ++i) {
      Variable& p = parameters_[i].second;
      const bool deferrable = !p.value().is_cuda() && p.value().ndim() == 2 && p.has_grad() &&
                              p.sparse_grad().indices.defined() && !p.grad().defined();
      std::vector<int64_t>& rows = row_steps_[i];
      if (deferrable && rows.empty()) rows.assign(static_cast<size_t>(p.value().dim(0)), step_count_ - 1);
      if (!deferrable && !rows.empty()) {
        if (step_count_ > 1)
          deferred_->flush(p.mutable_value(), exp_avg_[i], exp_avg_sq_[i], rows, step_count_ - 1);
        rows.clear();
      }
    }
  }
  // Three kinds of update, each one fused call over its parameters: dense gradients; row-sparse
  // gradients updated densely (every row moves, untouched ones with g = 0); row-sparse, lazily.
  std::vector<Tensor> params, grads, m, v, sparse_params, sparse_m, sparse_v;
  std::vector<ops::RowSparse> sparse_grads;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Variable& p = parameters_[i].second;
    if (!p.has_grad()) continue;
    const bool sparse = p.sparse_grad().indices.defined() && !p.grad().defined();
    if (deferred_ && !row_steps_[i].empty()) {
      deferred_->step(p.mutable_value(), p.sparse_grad(), exp_avg_[i], exp_avg_sq_[i], row_steps_[i],
                      step_count_);
    } else if (sparse && lazy_) {
      ops::sparse_adam_step(p.mutable_value(), p.sparse_grad(), exp_avg_[i], exp_avg_sq_[i], settings_);
    } else if (sparse) {
      sparse_params.push_back(p.value());
      sparse_grads.push_back(p.sparse_grad());
      sparse_m.push_back(exp_avg_[i]);
      sparse_v.push_back(exp_avg_sq_[i]);
    } else {
      params.push_back(p.value());
      grads.push_back(p.dense_grad());
      m.push_back(exp_avg_[i]);
      v.push_back(exp_avg_sq_[i]);
    }
  }
  if (!params.empty()) ops::adam_step(params, grads, m, v, settings_);
  if (!sparse_params.empty())
    ops::dense_adam_step_rowsparse(sparse_params, sparse_grads, sparse_m, sparse_v, settings_);
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  const_cast<Adam*>(this)->sync();  // the moments of rows left behind are part of the state
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    out.emplace_back("exp_avg." + parameters_[i].first, exp_avg_[i]);
    out.emplace_back("exp_avg_sq." + parameters_[i].first, exp_avg_sq_[i]);
  }
  return out;
}

void Adam::load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count) {
  load_named(exp_avg_, parameters_, "exp_avg.", tensors);
  load_named(exp_avg_sq_, parameters_, "exp_avg_sq.", tensors);
  step_count_ = step_count;
  for (auto& rows : row_steps_) rows.clear();  // every row is current now
}

}  // namespace ncf::nn
