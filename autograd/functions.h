// Differentiable functions: each builds its result with the tensor ops and records a Node whose
// backward() applies the chain rule. Forward and backward of each function sit side by side in
// one of the functions_*.cpp files (by family), so the two can be read and checked together.
//
// Shapes follow the tensor ops: 2-D activations are (batch, features); a bias or a broadcast
// operand is one row (features,); losses return (1,).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"

namespace ncf::ag {

// ---- element-wise (functions_elementwise.cpp)
// b may be the same shape as a, a row broadcast over a's rows, or a scalar (numel 1).
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable scale(const Variable& x, double alpha);
Variable relu(const Variable& x);
Variable log_sigmoid(const Variable& x);
// Inverted dropout with a Philox mask from (seed, stream); identity when p == 0. first_index: the
// mask counter of x's first element (ops::dropout), for a slice of a larger batch.
Variable dropout(const Variable& x, double p, uint64_t seed, uint32_t stream, uint64_t first_index = 0);

// ---- reductions (functions_reduce.cpp)
Variable sum(const Variable& x);       // (1,)
Variable mean(const Variable& x);      // (1,)
Variable sum_cols(const Variable& x);  // (rows, cols) -> (rows, 1): a row-wise dot after mul()

// ---- linear algebra (functions_linear.cpp)
Variable linear(const Variable& x, const Variable& weight,
                const Variable& bias);  // x (b, in) @ W (in, out) + bias (out,)
// The first layer of a tower whose input is [a group's row ; each row's own part], for batches in
// groups of `group` rows (tensor/ops/groups.h): equal to
//   linear(concat_cols({expand_groups(per_group, group), per_row}), weight, bias)
// with per_group (G, a), per_row (G * group, b), weight (a + b, out), but the per-group product
// per_group @ W[0:a] is computed once per group instead of once per row.
Variable grouped_linear(const Variable& per_group, const Variable& per_row, const Variable& weight,
                        const Variable& bias, int64_t group);

// ---- indexing and shape (functions_index.cpp)
// Rows `indices` (i32 (batch,)) of `table` (rows, dim) -> (batch, dim). The table's gradient is
// row-sparse when the table asks for it (Variable::set_sparse_gradient), else dense.
Variable embedding(const Variable& table, const Tensor& indices);
Variable concat_cols(const std::vector<Variable>& parts);
// The same elements seen with another shape of equal numel (a view, no copy); the gradient is
// reshaped back.
Variable reshape(const Variable& x, const Shape& shape);
// x (G, d) -> (G * group, d), row r = x[r / group] (tensor/ops/groups.h); the gradient sums each
// group's rows.
Variable expand_groups(const Variable& x, int64_t group);

// ---- losses (functions_loss.cpp); targets are constants of the logits' shape
Variable bce_with_logits(const Variable& logits, const Tensor& targets);  // mean, (1,)
Variable mse(const Variable& predictions, const Tensor& targets);         // mean, (1,)

}  // namespace ncf::ag
