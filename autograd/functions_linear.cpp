// The fully connected layer, the one matrix product of the models.
//   y = x @ W + bias:     dx = g @ W^T,   dW = x^T @ g,   dbias = sum of g over the batch rows
// W is stored (in, out), so the forward product needs no transpose.
#include "autograd/functions.h"
#include "tensor/ops/concat.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/reduce.h"

namespace ncf::ag {

namespace {
struct LinearNode : Node {
  const char* name() const override { return "linear"; }
  void backward(const Tensor& g) override {
    const Tensor& x = inputs[0].value();
    const Tensor& w = inputs[1].value();
    if (inputs[0].requires_grad()) accumulate_grad(inputs[0], ops::matmul(g, w, false, true));
    if (inputs[1].requires_grad()) accumulate_grad(inputs[1], ops::matmul(x, g, true, false));
    if (inputs[2].requires_grad()) accumulate_grad(inputs[2], ops::sum_axis(g, 0));
  }
};
}  // namespace

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  const Tensor& xv = x.value();
  const Tensor& wv = weight.value();
  NCF_CHECK(xv.ndim() == 2 && wv.ndim() == 2 && xv.dim(1) == wv.dim(0),
            "linear: input " << xv.describe() << " does not fit weight " << wv.describe() << " (in, out)");
  NCF_CHECK(bias.value().numel() == wv.dim(1),
            "linear: bias " << bias.value().describe() << " does not fit weight " << wv.describe());
  // Start from the bias in every row, then add the product in place (beta = 1): one pass less.
  Tensor y = ops::repeat_rows(bias.value(), xv.dim(0));
  ops::gemm(xv, false, wv, false, y, 1.0, 1.0);
  return make_result(std::move(y), std::make_shared<LinearNode>(), {x, weight, bias});
}

}  // namespace ncf::ag
