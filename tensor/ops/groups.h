// Batches that come in groups: S consecutive rows share something (a training positive and its K
// negatives share a user, S = 1 + K; data::ShuffleMode::groups keeps them together). With G groups,
// B = G * S rows:
//   group_firsts   x (B,) i32             -> (G,)     out[g] = x[g * S]           (the group's user)
//   expand_groups  x (G, d)               -> (B, d)   out[r] = x[r / S]           (row r's group's row)
//   add_groups_    y (B, d) += x (G, d)               y[r] += x[r / S]            (in place)
//   sum_groups     x (B, d)               -> (G, d)   out[g] = sum_j x[g * S + j], j = 0 .. S-1 in order
// sum_groups is expand_groups' (and add_groups_') backward. Every sum is in a fixed order, so both
// devices give the same bits for any thread count. f32 or f64 (group_firsts: i32).
// group_firsts on the CPU also checks that every row of a group holds the group's value (a batch
// that is not grouped is an error naming the row); a GPU cannot look without waiting, and does not.
#pragma once

#include "tensor/tensor.h"

namespace ncf::ops {

Tensor group_firsts(const Tensor& x, int64_t group);
Tensor expand_groups(const Tensor& x, int64_t group);
void add_groups_(Tensor& y, const Tensor& x, int64_t group);
Tensor sum_groups(const Tensor& x, int64_t group);

}  // namespace ncf::ops
