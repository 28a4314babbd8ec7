// Losses. Each backward is one fused kernel that reads the upstream gradient on the device.
//   bce_with_logits: mean of max(x,0) - x*y + log(1+exp(-|x|));  d/dx = (sigmoid(x) - y) / n
//   mse:             mean of (p - t)^2;                          d/dp = 2 (p - t) / n
#include "autograd/functions.h"
#include "tensor/ops/loss.h"

namespace ncf::ag {

namespace {
struct BceNode : Node {
  Tensor targets;
  const char* name() const override { return "bce_with_logits"; }
  void backward(const Tensor& g) override {
    accumulate_grad(inputs[0], ops::bce_with_logits_backward(inputs[0].value(), targets, g));
  }
};

struct MseNode : Node {
  Tensor targets;
  const char* name() const override { return "mse"; }
  void backward(const Tensor& g) override {
    accumulate_grad(inputs[0], ops::mse_backward(inputs[0].value(), targets, g));
  }
};

Tensor targets_like(const Tensor& targets, const Tensor& like, const char* op) {
  NCF_CHECK(targets.numel() == like.numel(),
            op << ": targets " << targets.describe() << " do not match predictions " << like.describe());
  return targets.view(like.shape());
}
}  // namespace

Variable bce_with_logits(const Variable& logits, const Tensor& targets) {
  auto node = std::make_shared<BceNode>();
  node->targets = targets_like(targets, logits.value(), "bce_with_logits");
  Tensor loss = ops::bce_with_logits(logits.value(), node->targets);
  return make_result(std::move(loss), std::move(node), {logits});
}

Variable mse(const Variable& predictions, const Tensor& targets) {
  auto node = std::make_shared<MseNode>();
  node->targets = targets_like(targets, predictions.value(), "mse");
  Tensor loss = ops::mse(predictions.value(), node->targets);
  return make_result(std::move(loss), std::move(node), {predictions});
}

}  // namespace ncf::ag
