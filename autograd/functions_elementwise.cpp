// Element-wise functions and their gradients.
//   add:  d/da = g,       d/db = g (summed over what b was broadcast across: rows, columns, or all)
//   sub:  d/da = g,       d/db = -g
//   mul:  d/da = g * b,   d/db = g * a
//   relu: g * (y > 0);  log_sigmoid: g * sigmoid(-x)
#include "autograd/functions.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"

namespace ncf::ag {

namespace {
// The gradient of a broadcast operand is the incoming gradient summed over what it was broadcast
// across (the broadcast rules are those of ops::binary).
Tensor reduce_to_shape(const Tensor& grad, const Tensor& like) {
  if (grad.shape() == like.shape()) return grad;
  if (like.numel() == 1) return ops::sum(grad).view(like.shape());
  if (like.ndim() == 2 && like.dim(1) == 1 && like.dim(0) == grad.dim(0))
    return ops::sum_axis(grad, 1).view(like.shape());  // a column broadcast over grad's columns
  return ops::sum_axis(grad, 0).view(like.shape());    // a row broadcast over grad's rows
}

struct AddNode : Node {
  double sign_b = 1.0;  // +1 for add, -1 for sub
  const char* name() const override { return sign_b > 0 ? "add" : "sub"; }
  void backward(const Tensor& g) override {
    if (inputs[0].requires_grad()) accumulate_grad(inputs[0], g);
    if (inputs[1].requires_grad()) {
      const Tensor gb = reduce_to_shape(g, inputs[1].value());
      accumulate_grad(inputs[1], sign_b > 0 ? gb : ops::scale(gb, -1.0));
    }
  }
};

struct MulNode : Node {
  const char* name() const override { return "mul"; }
  void backward(const Tensor& g) override {
    const Tensor& a = inputs[0].value();
    const Tensor& b = inputs[1].value();
    if (inputs[0].requires_grad()) accumulate_grad(inputs[0], ops::mul(g, b));
    if (inputs[1].requires_grad()) accumulate_grad(inputs[1], reduce_to_shape(ops::mul(g, a), b));
  }
};

struct ScaleNode : Node {
  double alpha = 1.0;
  const char* name() const override { return "scale"; }
  void backward(const Tensor& g) override { accumulate_grad(inputs[0], ops::scale(g, alpha)); }
};

// Activations whose gradient is written in terms of their output (relu) or their input (log_sigmoid).
struct ActivationNode : Node {
  ops::UnaryOp op;
  Tensor saved;  // the output for relu, the input for log_sigmoid
  const char* name() const override { return op == ops::UnaryOp::relu ? "relu" : "log_sigmoid"; }
  void backward(const Tensor& g) override {
    if (op == ops::UnaryOp::relu)
      accumulate_grad(inputs[0], ops::relu_backward(g, saved));
    else
      accumulate_grad(inputs[0], ops::log_sigmoid_backward(g, saved));
  }
};

struct DropoutNode : Node {
  Tensor mask;
  double p = 0.0;
  const char* name() const override { return "dropout"; }
  void backward(const Tensor& g) override { accumulate_grad(inputs[0], ops::dropout_backward(g, mask, p)); }
};

Variable activation(ops::UnaryOp op, const Variable& x) {
  Tensor y = ops::unary(op, x.value());
  auto node = std::make_shared<ActivationNode>();
  node->op = op;
  node->saved = op == ops::UnaryOp::log_sigmoid ? x.value() : y;
  return make_result(std::move(y), std::move(node), {x});
}
}  // namespace

Variable add(const Variable& a, const Variable& b) {
  return make_result(ops::add(a.value(), b.value()), std::make_shared<AddNode>(), {a, b});
}

Variable sub(const Variable& a, const Variable& b) {
  auto node = std::make_shared<AddNode>();
  node->sign_b = -1.0;
  return make_result(ops::sub(a.value(), b.value()), std::move(node), {a, b});
}

Variable mul(const Variable& a, const Variable& b) {
  return make_result(ops::mul(a.value(), b.value()), std::make_shared<MulNode>(), {a, b});
}

Variable scale(const Variable& x, double alpha) {
  auto node = std::make_shared<ScaleNode>();
  node->alpha = alpha;
  return make_result(ops::scale(x.value(), alpha), std::move(node), {x});
}

Variable relu(const Variable& x) { return activation(ops::UnaryOp::relu, x); }
Variable log_sigmoid(const Variable& x) { return activation(ops::UnaryOp::log_sigmoid, x); }

Variable dropout(const Variable& x, double p, uint64_t seed, uint32_t stream, uint64_t first_index) {
  NCF_CHECK(p >= 0.0 && p < 1.0, "dropout probability must be in [0, 1), got " << p);
  if (p == 0.0) return x;
  auto node = std::make_shared<DropoutNode>();
  node->p = p;
  Tensor y = ops::dropout(x.value(), p, seed, stream, node->mask, first_index);
  return make_result(std::move(y), std::move(node), {x});
}

}  // namespace ncf::ag
