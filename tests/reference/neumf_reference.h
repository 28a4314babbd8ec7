// The tiny NeuMF of tests/reference/neumf_tiny_reference.json (computed independently in float64),
// built with this project's model on any device and dtype: shared by the CPU and the GPU suites.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recsys/models.h"
#include "tests/test_util.h"

namespace ncf::test {

inline nlohmann::json load_neumf_reference() {
  std::ifstream in(source_dir() + "/tests/reference/neumf_tiny_reference.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// Nested JSON arrays flattened in row-major order.
inline std::vector<double> flatten(const nlohmann::json& value) {
  std::vector<double> out;
  if (!value.is_array()) return {value.get<double>()};
  for (const nlohmann::json& item : value) {
    std::vector<double> inner = flatten(item);
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

struct TinyNeuMF {
  nn::ParameterFactory factory;
  std::unique_ptr<recsys::ScoringModel> model;

  TinyNeuMF(const nlohmann::json& ref, DType dtype, Device device) : factory{device, dtype, 1} {
    recsys::ModelShape shape;
    shape.type = "neumf";
    shape.users = ref["sizes"]["users"];
    shape.items = ref["sizes"]["items"];
    shape.factors = ref["sizes"]["factors"];
    shape.layers = ref["sizes"]["layers"].get<std::vector<int64_t>>();
    model = recsys::make_model(shape, factory);
    for (auto& [name, parameter] : model->named_parameters()) {
      REQUIRE_MESSAGE(ref["params"].contains(name), "reference has no " << name);
      parameter.mutable_value().copy_from(tensor(flatten(ref["params"][name]), parameter.shape()));
    }
  }
  Tensor tensor(const std::vector<double>& values, const Shape& shape) const {
    if (factory.dtype == DType::f64) return Tensor::from_vector(values, shape, factory.device);
    return Tensor::from_vector(std::vector<float>(values.begin(), values.end()), shape, factory.device);
  }
  Tensor ids(const nlohmann::json& values) const {
    const std::vector<int32_t> v = values.get<std::vector<int32_t>>();
    return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, factory.device);
  }
  ag::Variable logits(const nlohmann::json& batch) {
    return model->forward(ids(batch["users"]), ids(batch["items"]));
  }
  ag::Variable loss(const nlohmann::json& batch) {
    const std::vector<double> labels = batch["labels"].get<std::vector<double>>();
    return ag::bce_with_logits(logits(batch), tensor(labels, {static_cast<int64_t>(labels.size()), 1}));
  }
};

}  // namespace ncf::test
