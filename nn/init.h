// Weight initialisers. Each draws from the project's Philox stream (seed, stream), so the same seed
// gives the same initial model on the CPU and the GPU; `stream` tells the parameters apart.
//   normal:          N(0, std^2)                         (embeddings: std 0.01, as in the NCF paper)
//   xavier_uniform:  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
//   lecun_uniform:   U(-a, a), a = sqrt(3 / fan_in)                (the NCF paper's Keras code)
#pragma once

#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace ncf::nn {

enum class Init { normal, xavier_uniform, lecun_uniform, zeros };

Init parse_init(const std::string& name);
// For a weight (fan_in, fan_out) stored (in, out). `stddev` is used by Init::normal.
void initialize(Tensor& weight, Init init, uint64_t seed, uint32_t stream, double stddev = 0.01);

}  // namespace ncf::nn
