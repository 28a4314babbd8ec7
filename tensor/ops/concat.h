// Column-wise concatenation and its inverse: NeuMF joins the GMF vector and the MLP tower's last
// layer this way, and MLP joins the user and item embeddings. All parts are (rows, width_i).
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ncf::ops {

Tensor concat_cols(const std::vector<Tensor>& parts);                                 // (rows, sum of widths)
std::vector<Tensor> split_cols(const Tensor& x, const std::vector<int64_t>& widths);  // copies
Tensor repeat_rows(const Tensor& row, int64_t rows);  // row (d,) or (1, d) -> (rows, d)

}  // namespace ncf::ops
