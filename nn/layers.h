// Layers: Embedding, Linear, and MLP (a tower of Linear + ReLU [+ Dropout]).
//   Embedding(rows, dim):      indices (batch,) i32 -> (batch, dim)
//   Linear(in, out):           x (batch, in) -> x @ W + b, W (in, out), b (out,)
//   MLP({s0, s1, ..., sL}):    (batch, s0) -> (batch, sL), ReLU after every layer
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/functions.h"
#include "nn/init.h"
#include "nn/module.h"

namespace ncf::nn {

// Where and how new parameters are made: device, dtype, and the Philox seed; every parameter
// takes the next stream number, so each is an independent draw that both devices reproduce.
struct ParameterFactory {
  Device device = Device::cpu();
  DType dtype = DType::f32;
  uint64_t seed = 42;
  uint32_t next_stream = 1;

  Tensor make(const Shape& shape, Init init, double stddev = 0.01);
};

// The table is the module's only parameter and carries the module's name ("gmf.user"), not "...weight".
class Embedding : public Module {
 public:
  // sparse_gradient: keep the table's gradient row-sparse (only the looked-up rows).
  Embedding(int64_t rows, int64_t dim, ParameterFactory& factory, double stddev = 0.01,
            bool sparse_gradient = true);
  Variable forward(const Tensor& indices) const;  // (batch,) i32 -> (batch, dim)
  Variable& weight() { return weight_; }
  int64_t rows() const { return weight_.value().dim(0); }
  int64_t dim() const { return weight_.value().dim(1); }

 private:
  Variable weight_;
};

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, ParameterFactory& factory, Init init = Init::xavier_uniform);
  Variable forward(const Variable& x) const;  // (batch, in) -> (batch, out)
  Variable& weight() { return weight_; }
  Variable& bias() { return bias_; }

 private:
  Variable weight_;
  Variable bias_;
};

class MLP : public Module {
 public:
  // sizes = {input, hidden1, ..., last}; ReLU after each Linear; dropout (train mode only) after each ReLU.
  MLP(const std::vector<int64_t>& sizes, ParameterFactory& factory, double dropout = 0.0,
      Init init = Init::xavier_uniform, uint64_t dropout_seed = 1);
  Variable forward(const Variable& x);
  // The tower from its first layer's output (before its ReLU) on: for a caller that computes the
  // first layer itself (ag::grouped_linear). forward(x) is this of layer(0).forward(x).
  Variable forward_from_first(const Variable& first_layer_output);
  void skip_forward() override;  // the dropout streams a training forward would have used
  size_t depth() const { return layers_.size(); }
  Linear& layer(size_t i) { return *layers_[i]; }

 private:
  std::vector<Linear*> layers_;
  double dropout_;
  uint64_t dropout_seed_;
  uint32_t dropout_calls_ = 0;  // a fresh Philox stream for each forward in training mode
};

}  // namespace ncf::nn
