// The baselines beside NCF, as the trainer runs them: dot MF's fused SGD step against the autograd
// graph it replaces, the BPR loss against its formula, iALS epochs (the loss never increases; a
// resumed run continues bit for bit) and EASE (zero diagonal, scores summed over the user's items).
#include <algorithm>
#include <cmath>
#include <vector>

#include "recsys/ease.h"
#include "recsys/models.h"
#include "recsys/run_folder.h"
#include "recsys/trainer.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/recsys/grouped_batches.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {

recsys::ExperimentConfig dot_config() {
  recsys::ExperimentConfig config;
  config.model.type = recsys::ModelType::dot;
  config.model.factors = 6;
  config.model.l2 = 0.01;
  config.train.optimizer = recsys::OptimizerKind::sgd;
  config.train.lr = 0.5;
  config.train.negatives = 2;
  config.eval.negatives = 20;
  return config;
}

}  // namespace

TEST_CASE("dot MF: the fused SGD step updates every parameter as the autograd graph does") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  const recsys::ExperimentConfig config = dot_config();
  recsys::ImplicitTrainer fused(config, d, Device::cpu()), graph(config, d, Device::cpu());
  CHECK(fused.uses_fused_step());
  graph.disable_fused_step();
  const std::vector<double> start = test::parameter_values(graph.model());
  REQUIRE(test::parameter_values(fused.model()) == start);  // one seed, one initialisation
  for (int step = 0; step < 5; ++step) {
    // Repeated users and items within a batch, so rows collect several occurrences.
    const test::Batch b = test::grouped_batch(d, 3 * step, 16, 2, 16);
    const double fused_loss = test::values_of(fused.train_step(b.users, b.items, b.labels))[0];
    const double graph_loss = test::values_of(graph.train_step(b.users, b.items, b.labels))[0];
    CHECK(fused_loss == doctest::Approx(graph_loss).epsilon(1e-6));
  }
  // f32, parameters below 1, a few occurrences per row and step: 1e-6 is tens of ulps, while the
  // five steps moved some parameter by far more.
  const std::vector<double> got = test::parameter_values(fused.model()),
                            want = test::parameter_values(graph.model());
  NCF_CHECK_CLOSE(got, want, 1e-6, 0.0);
  double moved = 0.0;
  for (size_t e = 0; e < start.size(); ++e) moved = std::max(moved, std::fabs(want[e] - start[e]));
  CHECK(moved > 1e-3);
}

TEST_CASE("dot MF: only plain SGD with the BCE loss takes the fused step") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config = dot_config();
  config.train.momentum = 0.9;
  CHECK(!recsys::ImplicitTrainer(config, d, Device::cpu()).uses_fused_step());
  config = dot_config();
  config.train.optimizer = recsys::OptimizerKind::adam;
  CHECK(!recsys::ImplicitTrainer(config, d, Device::cpu()).uses_fused_step());
  config = dot_config();
  config.train.loss = recsys::TrainLoss::bpr;
  CHECK(!recsys::ImplicitTrainer(config, d, Device::cpu()).uses_fused_step());
  config = dot_config();
  config.model.type = recsys::ModelType::gmf;
  CHECK(!recsys::ImplicitTrainer(config, d, Device::cpu()).uses_fused_step());
}

TEST_CASE("BPR: the loss is the mean of -log sigmoid(positive - negative) over each group's pairs") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  for (recsys::ModelType type : {recsys::ModelType::dot, recsys::ModelType::gmf}) {
    CAPTURE(to_string(type));
    recsys::ExperimentConfig config = dot_config();
    config.model.type = type;
    config.model.l2 = 0.0;
    config.train.loss = recsys::TrainLoss::bpr;
    config.train.lr = 0.05;
    recsys::ImplicitTrainer trainer(config, d, Device::cpu());
    const test::Batch b = test::grouped_batch(d, 0, 8, 2, 8);
    auto expected_loss = [&] {
      const std::vector<double> s = test::values_of(trainer.model().forward(b.users, b.items).value());
      double sum = 0.0;
      for (size_t g = 0; g < 8; ++g)
        for (size_t j = 1; j <= 2; ++j) sum += std::log1p(std::exp(-(s[3 * g] - s[3 * g + j])));
      return sum / 16.0;
    };
    const double before = expected_loss();
    CHECK(test::values_of(trainer.train_step(b.users, b.items, b.labels))[0] ==
          doctest::Approx(before).epsilon(1e-6));
    // A small gradient step lowers the loss on the same batch: the gradient points the right way.
    CHECK(expected_loss() < before);
  }
}

TEST_CASE("iALS epochs: the loss never increases, and a resumed run continues bit for bit") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config;
  config.model.type = recsys::ModelType::ials;
  config.model.factors = 8;
  config.model.ials.unobserved_weight = 0.05;
  config.model.ials.regularization = 0.05;
  config.eval.negatives = 20;
  config.train.epochs = 4;
  recsys::IalsTrainer straight(config, d, Device::cpu());
  CHECK(!straight.has_optimizer());
  straight.fit();
  const std::vector<recsys::EpochRecord>& history = straight.history();
  REQUIRE(history.size() == 4);
  for (size_t e = 1; e < history.size(); ++e) CHECK(history[e].loss <= history[e - 1].loss * (1 + 1e-6));
  CHECK(history.back().loss < history.front().loss);
  CHECK(history.back().test.hr >= 0.6);  // the bands are learnable (chance with 20 negatives: 0.48)

  test::TempDir dir;
  const recsys::RunFolder folder(dir.dir());
  config.train.epochs = 2;
  recsys::IalsTrainer first(config, d, Device::cpu());
  first.fit();
  folder.save_checkpoint(first);
  config.train.epochs = 4;
  recsys::IalsTrainer resumed(config, d, Device::cpu());
  folder.load_checkpoint(resumed);
  CHECK(resumed.completed_epochs() == 2);
  resumed.fit();
  CHECK(test::parameter_values(resumed.model()) == test::parameter_values(straight.model()));
  CHECK(resumed.history().back().loss == history.back().loss);
}

TEST_CASE("EASE: one solve gives a zero diagonal, and a score sums B over the user's training items") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config;
  config.model.type = recsys::ModelType::ease;
  config.model.ease_lambda = 10.0;
  config.train.epochs = 1;
  config.eval.negatives = 20;
  recsys::EaseTrainer trainer(config, d, Device::cpu());
  trainer.fit();
  auto& model = static_cast<recsys::EaseModel&>(trainer.model());
  const int64_t n = d.num_items;
  const std::vector<double> b = test::values_of(model.weights());
  const std::vector<double> direct = test::values_of(recsys::ease_weights(model.training(), 10.0));
  CHECK(b == direct);
  for (int64_t i = 0; i < n; ++i) CHECK(b[i * n + i] == 0.0);
  std::vector<int32_t> users, items;
  for (int32_t u = 0; u < d.num_users; u += 7)
    for (int32_t i = 0; i < n; i += 3) users.push_back(u), items.push_back(i);
  const int64_t m = static_cast<int64_t>(users.size());
  const std::vector<double> scores = test::values_of(
      model.forward(Tensor::from_vector(users, {m}), Tensor::from_vector(items, {m})).value());
  for (int64_t k = 0; k < m; ++k) {
    double want = 0.0;
    for (int64_t e = d.train_offsets[users[k]]; e < d.train_offsets[users[k] + 1]; ++e)
      want += b[static_cast<int64_t>(d.train_item[e]) * n + items[k]];
    CHECK(scores[k] == doctest::Approx(want).epsilon(1e-5));
  }
  CHECK(trainer.history().back().test.hr >= 0.6);
}
