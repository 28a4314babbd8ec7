// End-to-end check of the whole stack (embeddings, tower, concat, loss, backward, optimizers)
// against tests/reference/neumf_tiny_reference.json: a tiny NeuMF computed independently in
// float64 (see tests/reference/README.md). f64 must agree to ~1e-10; f32 to a few 1e-6.
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/optim.h"
#include "recsys/models.h"
#include "tests/test_util.h"

using namespace ncf;
using nlohmann::json;

namespace {
json load_reference() {
  std::ifstream in(test::source_dir() + "/tests/reference/neumf_tiny_reference.json");
  REQUIRE(in.good());
  return json::parse(in);
}

std::vector<double> flatten(const json& value) {
  std::vector<double> out;
  if (value.is_array()) {
    for (const json& item : value) {
      std::vector<double> inner = flatten(item);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else {
    out.push_back(value.get<double>());
  }
  return out;
}

struct TinyNeuMF {
  nn::ParameterFactory factory;
  std::unique_ptr<recsys::ScoringModel> model;
  DType dtype;

  TinyNeuMF(const json& ref, DType dtype_) : factory{Device::cpu(), dtype_, 1}, dtype(dtype_) {
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
    if (dtype == DType::f64) return Tensor::from_vector(values, shape);
    return Tensor::from_vector(std::vector<float>(values.begin(), values.end()), shape);
  }
  ag::Variable loss(const json& batch) {
    const Tensor users = Tensor::from_vector(batch["users"].get<std::vector<int32_t>>(), {int64_t(batch["users"].size())});
    const Tensor items = Tensor::from_vector(batch["items"].get<std::vector<int32_t>>(), {int64_t(batch["items"].size())});
    const Tensor labels = tensor(batch["labels"].get<std::vector<double>>(), {int64_t(batch["labels"].size()), 1});
    return ag::bce_with_logits(model->forward(users, items), labels);
  }
  std::vector<double> values(const ag::Variable& v) const { return as_double(v.value()); }
  static std::vector<double> as_double(const Tensor& t) {
    if (t.dtype() == DType::f64) return t.to_vector<double>();
    std::vector<float> f = t.to_vector<float>();
    return {f.begin(), f.end()};
  }
};
}  // namespace

TEST_CASE("tiny NeuMF: logits, loss and every gradient match the float64 reference") {
  const json ref = load_reference();
  for (DType dtype : {DType::f64, DType::f32}) {
    const double atol = dtype == DType::f64 ? 1e-12 : 2e-6, rtol = dtype == DType::f64 ? 1e-10 : 1e-5;
    INFO("dtype " << dtype_name(dtype));
    TinyNeuMF net(ref, dtype);
    const json& batch = ref["batches"][0];
    const Tensor users = Tensor::from_vector(batch["users"].get<std::vector<int32_t>>(), {6});
    const Tensor items = Tensor::from_vector(batch["items"].get<std::vector<int32_t>>(), {6});
    NCF_CHECK_CLOSE(net.values(net.model->forward(users, items)), flatten(ref["batch0"]["logits"]), atol, rtol);
    ag::Variable loss = net.loss(batch);
    CHECK(net.values(loss)[0] == doctest::Approx(ref["batch0"]["loss"].get<double>()).epsilon(rtol));
    loss.backward();
    for (auto& [name, parameter] : net.model->named_parameters()) {
      INFO("gradient of " << name);
      NCF_CHECK_CLOSE(TinyNeuMF::as_double(parameter.dense_grad()), flatten(ref["batch0"]["grads"][name]), atol, rtol);
    }
  }
}

TEST_CASE("tiny NeuMF: two dense Adam steps and two SGD-momentum steps match the reference") {
  const json ref = load_reference();
  for (DType dtype : {DType::f64, DType::f32}) {
    const double atol = dtype == DType::f64 ? 1e-12 : 2e-6, rtol = dtype == DType::f64 ? 1e-9 : 1e-5;
    for (const std::string which : {"adam", "sgd_momentum"}) {
      INFO(which << " in " << dtype_name(dtype));
      TinyNeuMF net(ref, dtype);
      const json& settings = ref[which]["settings"];
      std::unique_ptr<nn::Optimizer> optimizer;
      if (which == "adam") {
        optimizer = std::make_unique<nn::Adam>(net.model->named_parameters(), settings["lr"].get<double>(), false, 0.0,
                                               settings["beta1"].get<double>(), settings["beta2"].get<double>(),
                                               settings["eps"].get<double>());
      } else {
        optimizer = std::make_unique<nn::SGD>(net.model->named_parameters(), settings["lr"].get<double>(),
                                              settings["momentum"].get<double>());
      }
      for (size_t step = 0; step < ref[which]["steps"].size(); ++step) {
        const json& expected = ref[which]["steps"][step];
        optimizer->zero_grad();
        ag::Variable loss = net.loss(ref["batches"][step]);
        CHECK(net.values(loss)[0] == doctest::Approx(expected["loss_before_step"].get<double>()).epsilon(rtol));
        loss.backward();
        optimizer->step();
        for (auto& [name, parameter] : net.model->named_parameters()) {
          INFO("step " << step + 1 << ", parameter " << name);
          NCF_CHECK_CLOSE(net.values(parameter), flatten(expected["params"][name]), atol, rtol);
        }
      }
    }
  }
}
