// Embedding lookup, column concatenation and reshaping.
//   embedding: y[i] = table[idx[i]]. The gradient of the table is the incoming rows summed per
//   looked-up index: a row-sparse matrix (sorted unique indices, one summed row each), computed
//   by a stable sort + segmented sum, so it is the same bits on every run (no float atomics).
//   concat_cols: the gradient is the incoming gradient split back into the parts' widths.
//   reshape: the gradient is the incoming gradient seen in the input's shape.
//   expand_groups: y[r] = x[r / S]; the gradient of x[g] sums the incoming rows of group g.
#include "autograd/functions.h"
#include "tensor/ops/concat.h"
#include "tensor/ops/groups.h"
#include "tensor/ops/index.h"

namespace ncf::ag {

namespace {
struct EmbeddingNode : Node {
  Tensor indices;
  const char* name() const override { return "embedding"; }
  void backward(const Tensor& g) override {
    accumulate_sparse_grad(inputs[0], ops::segment_sum_rows(indices, g, inputs[0].value().dim(0)));
  }
};

struct ReshapeNode : Node {
  const char* name() const override { return "reshape"; }
  void backward(const Tensor& g) override { accumulate_grad(inputs[0], g.view(inputs[0].shape())); }
};

struct ExpandGroupsNode : Node {
  int64_t group = 1;
  const char* name() const override { return "expand_groups"; }
  void backward(const Tensor& g) override { accumulate_grad(inputs[0], ops::sum_groups(g, group)); }
};

struct ConcatNode : Node {
  std::vector<int64_t> widths;
  const char* name() const override { return "concat_cols"; }
  void backward(const Tensor& g) override {
    std::vector<Tensor> parts = ops::split_cols(g, widths);
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].requires_grad()) accumulate_grad(inputs[i], parts[i]);
  }
};
}  // namespace

Variable embedding(const Variable& table, const Tensor& indices) {
  auto node = std::make_shared<EmbeddingNode>();
  node->indices = indices;
  if (table.impl()->before_row_read) table.impl()->before_row_read(indices);
  return make_result(ops::gather_rows(table.value(), indices), std::move(node), {table});
}

Variable reshape(const Variable& x, const Shape& shape) {
  return make_result(x.value().view(shape), std::make_shared<ReshapeNode>(), {x});
}

Variable concat_cols(const std::vector<Variable>& parts) {
  std::vector<Tensor> values;
  auto node = std::make_shared<ConcatNode>();
  for (const Variable& part : parts) {
    values.push_back(part.value());
    node->widths.push_back(part.value().dim(1));
  }
  return make_result(ops::concat_cols(values), std::move(node), parts);
}

Variable expand_groups(const Variable& x, int64_t group) {
  auto node = std::make_shared<ExpandGroupsNode>();
  node->group = group;
  return make_result(ops::expand_groups(x.value(), group), std::move(node), {x});
}

}  // namespace ncf::ag
