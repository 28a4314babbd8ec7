// Serving on the GPU against the CPU (TF32 off): block scores on both paths (the bilinear GEMM for
// GMF, the model on every pair for NeuMF), top-K lists with the seen items masked on the device, and
// fold-in, whose negatives are the CPU's bit for bit.
#include "recsys/fold_in.h"
#include "recsys/recommend.h"
#include "recsys/trainer.h"
#include "tensor/ops/matmul.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {
recsys::ExperimentConfig serving_config(recsys::ModelType type) {
  recsys::ExperimentConfig config;
  config.model.type = type;
  config.model.factors = 4;
  config.model.layers = {8, 4};
  config.train.epochs = 2;
  config.train.batch_size = 32;
  config.train.lr = 0.01;
  return config;
}

// A parameter's values on the host, by name.
std::vector<float> parameter_values(const recsys::ScoringModel& model, const std::string& name) {
  for (const auto& [parameter_name, parameter] : model.named_parameters())
    if (parameter_name == name) return parameter.value().to_vector<float>();
  FAIL("no parameter " << name);
  return {};
}
}  // namespace

TEST_CASE("cuda serving: block scores, top-K lists and fold-in match the CPU") {
  ops::set_matmul_tf32(false);
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  std::vector<int32_t> users(d.num_users);
  for (int32_t u = 0; u < d.num_users; ++u) users[u] = u;
  for (const recsys::ModelType type : {recsys::ModelType::gmf, recsys::ModelType::neumf}) {
    INFO("model " << std::string(to_string(type)));
    const recsys::ExperimentConfig config = serving_config(type);
    recsys::ImplicitTrainer trainer(config, d, Device::cpu());  // trained on the CPU, then copied
    trainer.fit();
    const recsys::ModelShape shape = recsys::model_shape(config.model, d.num_users, d.num_items);
    nn::ParameterFactory factory{Device::cuda(), DType::f32, 1};
    const auto gpu_model = recsys::make_model(shape, factory);
    for (auto& [name, parameter] : gpu_model->named_parameters())
      parameter.mutable_value().copy_from(
          Tensor::from_vector(parameter_values(trainer.model(), name), parameter.shape()));

    const recsys::BlockScorer cpu = recsys::block_scorer(trainer.model(), d.num_items, Device::cpu());
    const recsys::BlockScorer gpu = recsys::block_scorer(*gpu_model, d.num_items, Device::cuda());
    CHECK(gpu.path == cpu.path);
    NCF_CHECK_CLOSE(gpu.score(users).to_vector<float>(), cpu.score(users).to_vector<float>(), 1e-5, 1e-5);
    const auto cpu_lists = recsys::recommend_block(cpu, d, users, 10, Device::cpu());
    const auto gpu_lists = recsys::recommend_block(gpu, d, users, 10, Device::cuda());
    REQUIRE(gpu_lists.size() == cpu_lists.size());
    for (size_t j = 0; j < cpu_lists.size(); ++j) {
      REQUIRE(gpu_lists[j].size() == cpu_lists[j].size());
      for (size_t t = 0; t < cpu_lists[j].size(); ++t) {
        CHECK(gpu_lists[j][t].item == cpu_lists[j][t].item);
        CHECK(gpu_lists[j][t].score == doctest::Approx(cpu_lists[j][t].score).epsilon(1e-5));
        CHECK(!d.user_trained_on(users[j], gpu_lists[j][t].item));
      }
    }

    const std::vector<int32_t> items(d.user_items(0), d.user_items(0) + d.user_count(0));
    const recsys::FoldInOptions options;
    const recsys::FoldIn on_cpu = recsys::fold_in(trainer.model(), shape, d, items, options, Device::cpu());
    const recsys::FoldIn on_gpu = recsys::fold_in(*gpu_model, shape, d, items, options, Device::cuda());
    CHECK(on_gpu.last_loss == doctest::Approx(on_cpu.last_loss).epsilon(1e-4));
    for (const std::string& name : on_cpu.model->user_table_names()) {
      INFO("fitted " << name);
      NCF_CHECK_CLOSE(parameter_values(*on_gpu.model, name), parameter_values(*on_cpu.model, name), 1e-4,
                      1e-3);
    }
  }
  ops::set_matmul_tf32(true);
}
