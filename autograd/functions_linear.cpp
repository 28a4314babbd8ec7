// The fully connected layer, the one matrix product of the models.
//   y = x @ W + bias:     dx = g @ W^T,   dW = x^T @ g,   dbias = sum of g over the batch rows
// W is stored (in, out), so the forward product needs no transpose.
//
// grouped_linear: the same layer on x = [u_g ; v_r] for rows r in groups of S that share u_g (a
// training positive and its K negatives share the user). With W = [W_u ; W_v] split by rows:
//   y_r = u_g @ W_u + v_r @ W_v + bias                      (u_g @ W_u once per group)
//   gs_g = sum over the group's rows of g_r                   (ops::sum_groups)
//   du_g = gs_g @ W_u^T,  dv = g @ W_v^T,  dW_u = u^T @ gs,  dW_v = v^T @ g,  dbias = sum of g
// W_u and W_v are row ranges of W, so they are views and dW is written in its two blocks.
#include "autograd/functions.h"
#include "tensor/ops/concat.h"
#include "tensor/ops/groups.h"
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
struct GroupedLinearNode : Node {
  int64_t group = 1;
  const char* name() const override { return "grouped_linear"; }
  void backward(const Tensor& g) override {
    const Tensor& u = inputs[0].value();
    const Tensor& v = inputs[1].value();
    const Tensor& w = inputs[2].value();
    const int64_t a = u.dim(1), b = v.dim(1);
    const Tensor w_u = w.rows(0, a), w_v = w.rows(a, a + b);
    const Tensor group_sums = ops::sum_groups(g, group);
    if (inputs[0].requires_grad()) accumulate_grad(inputs[0], ops::matmul(group_sums, w_u, false, true));
    if (inputs[1].requires_grad()) accumulate_grad(inputs[1], ops::matmul(g, w_v, false, true));
    if (inputs[2].requires_grad()) {
      Tensor dw = Tensor::empty(w.shape(), w.dtype(), w.device());
      Tensor dw_u = dw.rows(0, a), dw_v = dw.rows(a, a + b);
      ops::gemm(u, true, group_sums, false, dw_u, 1.0, 0.0);
      ops::gemm(v, true, g, false, dw_v, 1.0, 0.0);
      accumulate_grad(inputs[2], dw);
    }
    if (inputs[3].requires_grad()) accumulate_grad(inputs[3], ops::sum_axis(g, 0));
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

Variable grouped_linear(const Variable& per_group, const Variable& per_row, const Variable& weight,
                        const Variable& bias, int64_t group) {
  const Tensor& u = per_group.value();
  const Tensor& v = per_row.value();
  const Tensor& w = weight.value();
  NCF_CHECK(group >= 1 && u.ndim() == 2 && v.ndim() == 2 && w.ndim() == 2 && v.dim(0) == u.dim(0) * group &&
                w.dim(0) == u.dim(1) + v.dim(1),
            "grouped_linear: per-group rows " << u.describe() << " and per-row " << v.describe()
                                              << " in groups of " << group << " do not fit weight "
                                              << w.describe() << " (per_group cols + per_row cols, out)");
  NCF_CHECK(bias.value().numel() == w.dim(1),
            "grouped_linear: bias " << bias.value().describe() << " does not fit weight " << w.describe());
  // y = bias, then += v @ W_v (beta = 1), then += each group's u @ W_u.
  Tensor y = ops::repeat_rows(bias.value(), v.dim(0));
  ops::gemm(v, false, w.rows(u.dim(1), w.dim(0)), false, y, 1.0, 1.0);
  ops::add_groups_(y, ops::matmul(u, w.rows(0, u.dim(1)), false, false), group);
  auto node = std::make_shared<GroupedLinearNode>();
  node->group = group;
  return make_result(std::move(y), std::move(node), {per_group, per_row, weight, bias});
}

}  // namespace ncf::ag
