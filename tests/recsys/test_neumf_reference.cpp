// End-to-end check of the whole stack (embeddings, tower, concat, loss, backward, optimizers)
// against tests/reference/neumf_tiny_reference.json: a tiny NeuMF computed independently in
// float64 (see tests/reference/README.md). f64 must agree to ~1e-10; f32 to a few 1e-6.
#include "nn/optim.h"
#include "tests/reference/neumf_reference.h"

using namespace ncf;
using test::flatten;
using test::values_of;

TEST_CASE("tiny NeuMF: logits, loss and every gradient match the float64 reference") {
  const nlohmann::json ref = test::load_neumf_reference();
  for (DType dtype : {DType::f64, DType::f32}) {
    const double atol = dtype == DType::f64 ? 1e-12 : 2e-6, rtol = dtype == DType::f64 ? 1e-10 : 1e-5;
    INFO("dtype " << dtype_name(dtype));
    test::TinyNeuMF net(ref, dtype, Device::cpu());
    const nlohmann::json& batch = ref["batches"][0];
    NCF_CHECK_CLOSE(values_of(net.logits(batch).value()), flatten(ref["batch0"]["logits"]), atol, rtol);
    ag::Variable loss = net.loss(batch);
    CHECK(values_of(loss.value())[0] == doctest::Approx(ref["batch0"]["loss"].get<double>()).epsilon(rtol));
    loss.backward();
    for (auto& [name, parameter] : net.model->named_parameters()) {
      INFO("gradient of " << name);
      NCF_CHECK_CLOSE(values_of(parameter.dense_grad()), flatten(ref["batch0"]["grads"][name]), atol, rtol);
    }
  }
}

TEST_CASE("tiny NeuMF: two dense Adam steps and two SGD-momentum steps match the reference") {
  const nlohmann::json ref = test::load_neumf_reference();
  for (DType dtype : {DType::f64, DType::f32}) {
    const double atol = dtype == DType::f64 ? 1e-12 : 2e-6, rtol = dtype == DType::f64 ? 1e-9 : 1e-5;
    for (const std::string which : {"adam", "sgd_momentum"}) {
      INFO(which << " in " << dtype_name(dtype));
      test::TinyNeuMF net(ref, dtype, Device::cpu());
      const nlohmann::json& settings = ref[which]["settings"];
      std::unique_ptr<nn::Optimizer> optimizer;
      if (which == "adam") {
        optimizer = std::make_unique<nn::Adam>(
            net.model->named_parameters(), settings["lr"].get<double>(), false, 0.0,
            settings["beta1"].get<double>(), settings["beta2"].get<double>(), settings["eps"].get<double>());
      } else {
        optimizer = std::make_unique<nn::SGD>(net.model->named_parameters(), settings["lr"].get<double>(),
                                              settings["momentum"].get<double>());
      }
      for (size_t step = 0; step < ref[which]["steps"].size(); ++step) {
        const nlohmann::json& expected = ref[which]["steps"][step];
        optimizer->zero_grad();
        ag::Variable loss = net.loss(ref["batches"][step]);
        CHECK(values_of(loss.value())[0] ==
              doctest::Approx(expected["loss_before_step"].get<double>()).epsilon(rtol));
        loss.backward();
        optimizer->step();
        for (auto& [name, parameter] : net.model->named_parameters()) {
          INFO("step " << step + 1 << ", parameter " << name);
          NCF_CHECK_CLOSE(values_of(parameter.value()), flatten(expected["params"][name]), atol, rtol);
        }
      }
    }
  }
}
