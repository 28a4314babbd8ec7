// The user-grouped step (ScoringModel::forward_grouped): with an epoch's rows in groups of a positive
// and its K negatives (train.shuffle "groups"), GMF, MLP and NeuMF look up each group's user once and
// compute the user half of the first tower layer once. It must train as the ungrouped step does on
// the same rows: the same losses and parameters to rounding, step by step and epoch by epoch.
#include <algorithm>
#include <cmath>
#include <vector>

#include "recsys/trainer.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/recsys/grouped_batches.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {

recsys::ExperimentConfig grouped_config(recsys::ModelType type) {
  recsys::ExperimentConfig config;
  config.model.type = type;
  config.model.factors = 6;
  config.model.layers = {12, 8, 4};
  config.train.shuffle = recsys::ShuffleChoice::groups;
  config.train.negatives = 3;
  config.train.batch_size = 64;  // rounded to whole groups of 4
  config.eval.negatives = 20;
  return config;
}

}  // namespace

TEST_CASE("grouped step: GMF, MLP and NeuMF take the ungrouped step's SGD steps, to rounding") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  for (const recsys::ModelType type :
       {recsys::ModelType::gmf, recsys::ModelType::mlp, recsys::ModelType::neumf}) {
    for (const double dropout : {0.0, 0.25}) {
      if (type == recsys::ModelType::gmf && dropout > 0) continue;  // GMF has no tower
      CAPTURE(to_string(type));
      CAPTURE(dropout);
      recsys::ExperimentConfig config = grouped_config(type);
      config.train.optimizer = recsys::OptimizerKind::sgd;
      config.train.lr = 0.5;
      config.model.dropout = dropout;
      config.model.l2 = 1e-3;
      recsys::ImplicitTrainer grouped(config, d, Device::cpu()), plain(config, d, Device::cpu());
      plain.disable_grouped_step();
      REQUIRE(grouped.uses_grouped_step());
      REQUIRE(!plain.uses_grouped_step());
      const std::vector<double> start = test::parameter_values(plain.model());
      REQUIRE(test::parameter_values(grouped.model()) == start);
      for (int step = 0; step < 6; ++step) {
        // 12 groups of 5 users: each user in two or three groups of the batch.
        const test::Batch b = test::grouped_batch(d, 2 * step, 12, 3, 5);
        const double got = test::values_of(grouped.train_step(b.users, b.items, b.labels))[0];
        const double want = test::values_of(plain.train_step(b.users, b.items, b.labels))[0];
        CHECK(got == doctest::Approx(want).epsilon(1e-6));
      }
      // f32 with parameters below 1: 1e-6 is some tens of ulps, while six steps at lr 0.5 moved the
      // parameters by far more (checked), so a wrong gradient anywhere would show.
      const std::vector<double> got = test::parameter_values(grouped.model()),
                                want = test::parameter_values(plain.model());
      NCF_CHECK_CLOSE(got, want, 1e-6, 0.0);
      double moved = 0.0;
      for (size_t e = 0; e < start.size(); ++e) moved = std::max(moved, std::fabs(want[e] - start[e]));
      CHECK(moved > 1e-2);
    }
  }
}

TEST_CASE("grouped step: two epochs of NeuMF with Adam, grouped and not, on the same grouped rows") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config = grouped_config(recsys::ModelType::neumf);
  config.train.epochs = 2;
  config.train.lr = 0.01;
  recsys::ImplicitTrainer grouped(config, d, Device::cpu()), plain(config, d, Device::cpu());
  plain.disable_grouped_step();
  grouped.fit();
  plain.fit();
  REQUIRE(grouped.history().size() == 2);
  for (size_t e = 0; e < 2; ++e) {
    CAPTURE(e);
    CHECK(grouped.history()[e].loss == doctest::Approx(plain.history()[e].loss).epsilon(1e-5));
    CHECK(std::fabs(grouped.history()[e].test.hr - plain.history()[e].test.hr) <= 1.0 / 30 + 1e-12);
  }
  CHECK(grouped.history()[1].loss < grouped.history()[0].loss);
}

TEST_CASE("grouped step: only when the rows come in groups") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config = grouped_config(recsys::ModelType::neumf);
  config.train.shuffle = recsys::ShuffleChoice::automatic;  // rows, for the BCE loss
  CHECK(!recsys::ImplicitTrainer(config, d, Device::cpu()).uses_grouped_step());
  config.train.loss = recsys::TrainLoss::bpr;  // BPR keeps its groups
  CHECK(recsys::ImplicitTrainer(config, d, Device::cpu()).uses_grouped_step());
}
