// The backward engine: topological order by depth-first search, then one reverse sweep.
#include "autograd/variable.h"

#include <unordered_set>

#include "tensor/ops/elementwise.h"
#include "tensor/ops/index.h"

namespace ncf::ag {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Variable::Variable(Tensor value, bool requires_grad, std::string name)
    : impl_(std::make_shared<VariableImpl>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->name = std::move(name);
}

Tensor Variable::dense_grad() const {
  if (!impl_->sparse_grad.indices.defined())
    return impl_->grad.defined() ? impl_->grad : Tensor::zeros_like(impl_->value);
  // to_dense, not a scatter into a copy: on a GPU the row-sparse gradient holds padding entries,
  // which to_dense knows to skip.
  const Tensor sparse = ops::to_dense(impl_->sparse_grad);
  return impl_->grad.defined() ? ops::add(impl_->grad, sparse) : sparse;
}

void Variable::zero_grad() {
  impl_->grad = Tensor();
  impl_->sparse_grad = ops::RowSparse();
}

void accumulate_grad(const Variable& variable, const Tensor& grad) {
  VariableImpl& v = *variable.impl();
  check_same_shape(v.value, grad, "accumulate_grad");
  // Out of place: `grad` may be shared with another input (e.g. both sides of an add).
  v.grad = v.grad.defined() ? ops::add(v.grad, grad) : grad;
}

void accumulate_sparse_grad(const Variable& variable, const ops::RowSparse& grad) {
  VariableImpl& v = *variable.impl();
  if (!v.sparse_gradient) {  // the table wants a dense gradient: spread the rows out
    accumulate_grad(variable, ops::to_dense(grad));
    return;
  }
  if (!v.sparse_grad.indices.defined()) {
    v.sparse_grad = grad;
    return;
  }
  // A second lookup of the same table in one graph (e.g. the embedding penalty): sum the two.
  v.sparse_grad = ops::add_row_sparse(v.sparse_grad, grad);
}

Variable make_result(Tensor output, std::shared_ptr<Node> node, std::vector<Variable> inputs) {
  bool needs_grad = false;
  if (g_grad_enabled)
    for (const Variable& input : inputs) needs_grad = needs_grad || input.requires_grad();
  Variable result(std::move(output), needs_grad);
  if (needs_grad) {
    node->inputs = std::move(inputs);
    node->output = result.shared_impl();
    result.impl()->grad_fn = std::move(node);
  }
  return result;
}

void Variable::backward() const {
  NCF_CHECK(
      impl_ && impl_->value.numel() == 1,
      "backward() starts from a scalar, got " << (impl_ ? impl_->value.describe() : "an undefined variable"));
  NCF_CHECK(impl_->requires_grad,
            "backward(): this value does not depend on anything that requires a gradient");

  // Post-order DFS: a node comes after every node that consumes its output.
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack;
  if (impl_->grad_fn) stack.emplace_back(impl_->grad_fn.get(), 0);
  if (impl_->grad_fn) visited.insert(impl_->grad_fn.get());
  while (!stack.empty()) {
    auto& [node, next_input] = stack.back();
    if (next_input < node->inputs.size()) {
      Node* child = node->inputs[next_input++].impl()->grad_fn.get();
      if (child && visited.insert(child).second) stack.emplace_back(child, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  // Seed d(this)/d(this) = 1, then sweep from the output towards the leaves.
  Tensor seed = Tensor::empty(impl_->value.shape(), impl_->value.dtype(), impl_->value.device());
  ops::fill_(seed, 1.0);
  impl_->grad = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    std::shared_ptr<VariableImpl> out = node->output.lock();
    if (!out || !out->grad.defined()) continue;  // nothing flowed into this branch
    node->backward(out->grad);
    out->grad = Tensor();  // intermediate gradients are not kept: their memory goes back to the cache
  }
}

}  // namespace ncf::ag
