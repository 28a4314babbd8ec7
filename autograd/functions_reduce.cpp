// Reductions and their gradients: every element contributed once to the sum, so each receives the
// incoming gradient (divided by n for the mean).
//   sum_cols (rows, cols) -> (rows, 1): d/dx[i, j] = g[i]: ones (rows, cols) times the column g,
//   broadcast along each row. A product g @ ones(1, cols) would give the same numbers on the CPU,
//   but on a GPU cuBLAS may run it in TF32, which rounds g to 10 mantissa bits; the broadcast
//   multiply by 1 is exact on both devices.
#include "autograd/functions.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"

namespace ncf::ag {

namespace {
struct SumNode : Node {
  double factor = 1.0;  // 1 for sum, 1/n for mean
  const char* name() const override { return factor == 1.0 ? "sum" : "mean"; }
  void backward(const Tensor& g) override {
    // g is (1,) on the device: broadcast it as a scalar operand, no host read.
    Tensor ones = Tensor::empty_like(inputs[0].value());
    ops::fill_(ones, factor);
    accumulate_grad(inputs[0], ops::mul(ones, g));
  }
};

struct SumColsNode : Node {
  const char* name() const override { return "sum_cols"; }
  void backward(const Tensor& g) override {
    Tensor ones = Tensor::empty_like(inputs[0].value());
    ops::fill_(ones, 1.0);
    accumulate_grad(inputs[0], ops::mul(ones, g));  // (rows, cols) * (rows, 1), the column broadcast
  }
};
}  // namespace

Variable sum(const Variable& x) { return make_result(ops::sum(x.value()), std::make_shared<SumNode>(), {x}); }

Variable mean(const Variable& x) {
  auto node = std::make_shared<SumNode>();
  node->factor = 1.0 / static_cast<double>(x.value().numel());
  return make_result(ops::mean(x.value()), std::move(node), {x});
}

Variable sum_cols(const Variable& x) {
  NCF_CHECK(x.value().ndim() == 2, "sum_cols expects (rows, cols), got " << x.value().describe());
  Tensor y = ops::sum_axis(x.value(), 1).view({x.value().dim(0), 1});
  return make_result(std::move(y), std::make_shared<SumColsNode>(), {x});
}

}  // namespace ncf::ag
