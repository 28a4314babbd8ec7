// Reverse-mode automatic differentiation.
//
// A Variable is a tensor that remembers how it was made: its `grad_fn` is the Node of the function
// that produced it, and that Node holds the function's inputs. Calling backward() on a scalar walks
// this graph once in reverse topological order, and every Node turns the gradient of its output
// into gradients of its inputs (the chain rule), which are summed into each input's `grad`.
//
// Leaves (parameters) keep their gradient between backward() calls until zero_grad(); an embedding
// table may keep a row-sparse gradient instead (only the rows the batch looked up), because a
// dense gradient of a 138,493 x 64 table for a batch of 256 users would be almost all zeros.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/ops/index.h"
#include "tensor/tensor.h"

namespace ncf::ag {

struct Node;

struct VariableImpl {
  Tensor value;
  Tensor grad;                 // dense gradient, same shape as value (undefined: none yet)
  ops::RowSparse sparse_grad;  // row-sparse gradient (indices undefined: none yet)
  bool requires_grad = false;
  bool sparse_gradient = false;   // accumulate gradients row-sparse (embedding tables)
  std::shared_ptr<Node> grad_fn;  // null for leaves
  std::string name;
  // Called by ag::embedding before it reads rows `indices` of this table: a deferred optimizer
  // (nn::Adam::set_deferred) brings those rows up to date there.
  std::function<void(const Tensor& indices)> before_row_read;
};

class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false, std::string name = "");

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const { return impl_->value; }
  Tensor& mutable_value() { return impl_->value; }
  const Shape& shape() const { return impl_->value.shape(); }
  Device device() const { return impl_->value.device(); }
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  const std::string& name() const { return impl_->name; }

  // Gradients collected by backward(); grad() is undefined when nothing reached this variable.
  const Tensor& grad() const { return impl_->grad; }
  const ops::RowSparse& sparse_grad() const { return impl_->sparse_grad; }
  bool has_grad() const { return impl_->grad.defined() || impl_->sparse_grad.indices.defined(); }
  // The gradient as a dense tensor (zeros when none), whatever form it was accumulated in.
  // It may share memory with grad(): read it, do not modify it.
  Tensor dense_grad() const;
  void set_sparse_gradient(bool sparse) { impl_->sparse_gradient = sparse; }
  bool sparse_gradient() const { return impl_->sparse_gradient; }
  void zero_grad();

  // Back-propagates from this scalar (numel 1): d(this)/d(leaf) lands in each leaf's grad.
  void backward() const;

  VariableImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<VariableImpl>& shared_impl() const { return impl_; }

 private:
  std::shared_ptr<VariableImpl> impl_;
};

// A differentiable function application: holds its inputs and what backward needs.
struct Node {
  virtual ~Node() = default;
  virtual const char* name() const = 0;
  // Receives d(loss)/d(output) and accumulates d(loss)/d(input) into each input that requires it.
  virtual void backward(const Tensor& grad_output) = 0;

  std::vector<Variable> inputs;
  std::weak_ptr<VariableImpl> output;  // weak: the output owns this node, not the other way round
};

// Sums a gradient into a variable (dense, or row-sparse for sparse_gradient tables).
void accumulate_grad(const Variable& variable, const Tensor& grad);
void accumulate_sparse_grad(const Variable& variable, const ops::RowSparse& grad);

// Makes `output` a non-leaf result of `node` when any input requires a gradient and grad mode is
// on; otherwise returns a plain constant variable and the node is dropped.
Variable make_result(Tensor output, std::shared_ptr<Node> node, std::vector<Variable> inputs);

// Gradient recording is on by default; NoGradGuard turns it off in a scope (evaluation).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ncf::ag
