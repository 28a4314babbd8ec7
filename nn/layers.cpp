#include "nn/layers.h"

#include <string>

namespace ncf::nn {

Tensor ParameterFactory::make(const Shape& shape, Init init, double stddev) {
  // Draw on the CPU in f64, then convert and move: the same values on every device and dtype.
  Tensor host = Tensor::empty(shape, DType::f64, Device::cpu());
  initialize(host, init, seed, next_stream++, stddev);
  std::vector<double> values = host.to_vector<double>();
  if (dtype == DType::f64) return Tensor::from_vector(values, shape, device);
  std::vector<float> narrowed(values.begin(), values.end());
  return Tensor::from_vector(narrowed, shape, device);
}

Embedding::Embedding(int64_t rows, int64_t dim, ParameterFactory& factory, double stddev,
                     bool sparse_gradient) {
  NCF_CHECK(rows > 0 && dim > 0, "Embedding needs rows > 0 and dim > 0, got " << rows << " x " << dim);
  weight_ = register_parameter("", factory.make({rows, dim}, Init::normal, stddev));
  weight_.set_sparse_gradient(sparse_gradient);
}

Variable Embedding::forward(const Tensor& indices) const { return ag::embedding(weight_, indices); }

Linear::Linear(int64_t in, int64_t out, ParameterFactory& factory, Init init) {
  NCF_CHECK(in > 0 && out > 0, "Linear needs in > 0 and out > 0, got " << in << " -> " << out);
  weight_ = register_parameter("weight", factory.make({in, out}, init));
  bias_ = register_parameter("bias", factory.make({out}, Init::zeros));
}

Variable Linear::forward(const Variable& x) const { return ag::linear(x, weight_, bias_); }

MLP::MLP(const std::vector<int64_t>& sizes, ParameterFactory& factory, double dropout, Init init,
         uint64_t dropout_seed)
    : dropout_(dropout), dropout_seed_(dropout_seed) {
  NCF_CHECK(sizes.size() >= 2, "MLP needs at least an input and an output size, got " << sizes.size());
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    layers_.push_back(
        &register_module(std::to_string(i), std::make_unique<Linear>(sizes[i], sizes[i + 1], factory, init)));
  }
}

Variable MLP::forward(const Variable& x) { return forward_from_first(layers_[0]->forward(x)); }

Variable MLP::forward_from_first(const Variable& first_layer_output) {
  Variable h = first_layer_output;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = ag::relu(i == 0 ? h : layers_[i]->forward(h));
    // Element (r, c) draws counter (first_row + r) * cols + c: a slice of a global batch draws
    // what the whole batch would for its rows (nn::Module::set_first_row).
    if (dropout_ > 0.0 && is_training())
      h = ag::dropout(h, dropout_, dropout_seed_, dropout_calls_++,
                      static_cast<uint64_t>(first_row()) * static_cast<uint64_t>(h.value().dim(1)));
  }
  return h;
}

void MLP::skip_forward() {
  if (dropout_ > 0.0 && is_training()) dropout_calls_ += static_cast<uint32_t>(layers_.size());
}

}  // namespace ncf::nn
