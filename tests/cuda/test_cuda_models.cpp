// Models and training on the GPU, against the CPU and the float64 reference: forward, gradients and
// optimizer steps of the tiny NeuMF; XOR learned from the same seed on both devices; no cudaMalloc
// in steady-state training steps; a fixed-seed run whose losses and HR@10 match the CPU's
// (TF32 off, docs/conventions.md: losses within 1e-4 relative, HR@10 within 0.02); same bits twice.
#include "data/epoch_sampler.h"
#include "data/splits.h"
#include "nn/optim.h"
#include "recsys/trainer.h"
#include "tensor/allocator.h"
#include "tensor/ops/matmul.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/reference/neumf_reference.h"

using namespace ncf;
using test::flatten;
using test::values_of;

namespace {

std::vector<double> train_losses(Device device, std::vector<double>* hr) {
  const data::ImplicitDataset d = test::banded_dataset(60, 80, 50);
  recsys::ExperimentConfig config;
  config.model.factors = 8;
  config.model.layers = {16, 8, 4};
  config.train.epochs = 3;
  config.train.batch_size = 64;
  config.train.lr = 0.005;
  recsys::ImplicitTrainer trainer(config, d, device);
  trainer.fit();
  std::vector<double> losses;
  for (const recsys::EpochRecord& r : trainer.history()) {
    losses.push_back(r.loss);
    if (hr) hr->push_back(r.test.hr);
  }
  return losses;
}
}  // namespace

TEST_CASE("cuda tiny NeuMF: logits, gradients and two Adam steps match the float64 reference") {
  ops::set_matmul_tf32(false);
  const nlohmann::json ref = test::load_neumf_reference();
  for (DType dtype : {DType::f64, DType::f32}) {
    const double atol = dtype == DType::f64 ? 1e-12 : 2e-6, rtol = dtype == DType::f64 ? 1e-9 : 1e-5;
    INFO("dtype " << dtype_name(dtype));
    test::TinyNeuMF net(ref, dtype, Device::cuda());
    NCF_CHECK_CLOSE(values_of(net.logits(ref["batches"][0]).value()), flatten(ref["batch0"]["logits"]), atol,
                    rtol);
    ag::Variable loss = net.loss(ref["batches"][0]);
    loss.backward();
    for (auto& [name, parameter] : net.model->named_parameters()) {
      INFO("gradient of " << name);
      NCF_CHECK_CLOSE(values_of(parameter.dense_grad()), flatten(ref["batch0"]["grads"][name]), atol, rtol);
    }
    test::TinyNeuMF fresh(ref, dtype, Device::cuda());
    nn::Adam adam(fresh.model->named_parameters(), ref["adam"]["settings"]["lr"].get<double>());
    for (size_t step = 0; step < 2; ++step) {
      adam.zero_grad();
      fresh.loss(ref["batches"][step]).backward();
      adam.step();
      for (auto& [name, parameter] : fresh.model->named_parameters()) {
        INFO("Adam step " << step + 1 << ", " << name);
        NCF_CHECK_CLOSE(values_of(parameter.value()), flatten(ref["adam"]["steps"][step]["params"][name]),
                        atol, rtol);
      }
    }
  }
  ops::set_matmul_tf32(true);
}

TEST_CASE("cuda XOR: a tiny MLP learns it from the same seed as on the CPU, to the same losses") {
  ops::set_matmul_tf32(false);
  std::vector<float> final_loss;
  for (Device device : {Device::cpu(), Device::cuda()}) {
    nn::ParameterFactory factory{device, DType::f32, 3};
    nn::MLP hidden({2, 16}, factory);
    nn::Linear out(16, 1, factory);
    std::vector<nn::NamedParameter> params = hidden.named_parameters();
    for (auto& named : out.named_parameters()) params.push_back(named);
    nn::Adam adam(params, 0.05);
    const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, device);
    const Tensor y = Tensor::from_vector<float>({0, 1, 1, 0}, {4, 1}, device);
    float loss_value = 0;
    for (int step = 0; step < 300; ++step) {
      adam.zero_grad();
      ag::Variable loss = ag::bce_with_logits(out.forward(hidden.forward(ag::Variable(x))), y);
      loss.backward();
      adam.step();
      loss_value = loss.value().item<float>();
    }
    final_loss.push_back(loss_value);
  }
  CHECK(final_loss[1] < 0.05f);
  CHECK(final_loss[1] == doctest::Approx(final_loss[0]).epsilon(1e-3));
  ops::set_matmul_tf32(true);
}

TEST_CASE("cuda steady-state NeuMF training steps make no cudaMalloc") {
  nn::ParameterFactory factory{Device::cuda(), DType::f32, 5};
  recsys::ModelShape shape;
  shape.users = 1000;
  shape.items = 2000;
  auto model = recsys::make_model(shape, factory);
  for (const bool lazy : {false, true}) {
    nn::Adam adam(model->named_parameters(), 1e-3, lazy);
    std::vector<int32_t> users(256), items(256);
    std::vector<float> labels(256);
    for (int i = 0; i < 256; ++i)
      users[i] = (i * 37) % 1000, items[i] = (i * 91) % 2000, labels[i] = i % 5 == 0;
    const Tensor u = Tensor::from_vector(users, {256}, Device::cuda());
    const Tensor it = Tensor::from_vector(items, {256}, Device::cuda());
    const Tensor y = Tensor::from_vector(labels, {256, 1}, Device::cuda());
    auto step = [&] {
      adam.zero_grad();
      ag::Variable loss = ag::bce_with_logits(model->forward(u, it), y);
      loss.backward();
      adam.step();
    };
    for (int i = 0; i < 20; ++i) step();
    synchronize(Device::cuda());
    const AllocatorStats before = allocator_for(Device::cuda()).stats();
    for (int i = 0; i < 100; ++i) step();
    synchronize(Device::cuda());
    const AllocatorStats after = allocator_for(Device::cuda()).stats();
    INFO((lazy ? "lazy Adam" : "dense Adam") << ": peak " << after.peak_bytes << " bytes");
    CHECK(after.raw_allocations == before.raw_allocations);
    CHECK(after.requests > before.requests);  // the steps did allocate, from the cache
  }
}

TEST_CASE("cuda training from a fixed seed matches the CPU run and repeats bit for bit") {
  ops::set_matmul_tf32(false);
  std::vector<double> cpu_hr, gpu_hr;
  const std::vector<double> cpu = train_losses(Device::cpu(), &cpu_hr);
  const std::vector<double> gpu = train_losses(Device::cuda(), &gpu_hr);
  NCF_CHECK_CLOSE(gpu, cpu, 0.0, 1e-4);
  for (size_t e = 0; e < cpu_hr.size(); ++e) CHECK(std::fabs(gpu_hr[e] - cpu_hr[e]) <= 0.02);
  CHECK(train_losses(Device::cuda(), nullptr) == gpu);
  ops::set_matmul_tf32(true);
}

TEST_CASE("cuda epoch sampler: the same rows as the CPU sampler, for every shuffle mode") {
  const data::ImplicitDataset d = test::banded_dataset(60, 80, 50);
  for (data::ShuffleMode mode :
       {data::ShuffleMode::rows, data::ShuffleMode::groups, data::ShuffleMode::none}) {
    data::EpochSampler gpu(d, 4, 42, Device::cuda(), mode);
    data::EpochSampler cpu(d, 4, 42, Device::cpu(), mode);
    for (uint32_t epoch : {1u, 7u}) {
      data::EpochTensors a, b;
      gpu.sample(epoch, a);
      cpu.sample(epoch, b);
      INFO("shuffle mode " << static_cast<int>(mode) << ", epoch " << epoch);
      CHECK(a.users.to_vector<int32_t>() == b.users.to_vector<int32_t>());
      CHECK(a.items.to_vector<int32_t>() == b.items.to_vector<int32_t>());
      CHECK(a.labels.to_vector<float>() == b.labels.to_vector<float>());
    }
  }
}
