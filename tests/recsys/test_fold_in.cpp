// Fold-in (recsys/fold_in.h): only the new user's rows move, the result is deterministic, and a user
// held out of training, folded in on their training items, ranks their held-out item far better
// than ItemPop does.
#include <cstdlib>

#include "recsys/experiment.h"
#include "recsys/fold_in.h"
#include "recsys/metrics.h"
#include "recsys/recommend.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {
recsys::ExperimentConfig small_config(recsys::ModelType type) {
  recsys::ExperimentConfig config;
  config.model.type = type;
  config.model.factors = 4;
  config.model.layers = {8, 4};
  config.train.epochs = 3;
  config.train.batch_size = 32;
  config.train.lr = 0.01;
  return config;
}

std::map<std::string, std::vector<float>> values_by_name(const recsys::ScoringModel& model) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, parameter] : model.named_parameters())
    out[name] = parameter.value().to_vector<float>();
  return out;
}
}  // namespace

TEST_CASE("fold-in fits only the new user's rows, deterministically, and they score the given items high") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  for (const recsys::ModelType type :
       {recsys::ModelType::gmf, recsys::ModelType::mlp, recsys::ModelType::neumf}) {
    recsys::ExperimentConfig config = small_config(type);
    if (type == recsys::ModelType::mlp) config.train.epochs = 10, config.train.lr = 0.05; // the tower alone learns the bands slower
    INFO("model " << std::string(to_string(type)));
    recsys::ImplicitTrainer trainer(config, d, Device::cpu());
    trainer.fit();
    const recsys::ModelShape shape = recsys::model_shape(config.model, d.num_users, d.num_items);
    // User 0's band: items the trained model has seen liked together by user 0's neighbours.
    const std::vector<int32_t> items(d.user_items(0), d.user_items(0) + d.user_count(0));
    recsys::FoldInOptions options;
    const recsys::FoldIn a = recsys::fold_in(trainer.model(), shape, d, items, options, Device::cpu());
    const recsys::FoldIn b = recsys::fold_in(trainer.model(), shape, d, items, options, Device::cpu());

    const std::vector<std::string> user_tables = a.model->user_table_names();
    CHECK(user_tables ==
          (type == recsys::ModelType::neumf
               ? std::vector<std::string>{"gmf.user", "mlp.user"}
               : std::vector<std::string>{type == recsys::ModelType::gmf ? "gmf.user" : "mlp.user"}));
    const auto trained = values_by_name(trainer.model()), fitted = values_by_name(*a.model);
    for (const auto& [name, values] : fitted) {
      INFO("parameter " << name);
      if (std::find(user_tables.begin(), user_tables.end(), name) != user_tables.end()) {
        CHECK(values.size() == trained.at(name).size() / d.num_users);  // one row
      } else {
        CHECK(values == trained.at(name));  // frozen: the same bits
      }
    }
    CHECK(values_by_name(*b.model) == fitted);  // one seed, the same fit
    CHECK(a.last_loss < a.first_loss);
    CHECK(a.user_data.num_users == 1);
    CHECK(a.user_data.user_count(0) == static_cast<int64_t>(items.size()));

    // The given items are the fitted user's best: their mean rank among all items is in the top third.
    const std::vector<float> scores =
        recsys::block_scorer(*a.model, d.num_items, Device::cpu()).score({0}).to_vector<float>();
    double mean_rank = 0;
    for (const int32_t item : items) {
      int64_t above = 0;
      for (const float s : scores) above += s > scores[item];
      mean_rank += static_cast<double>(above) / static_cast<double>(items.size());
    }
    MESSAGE(std::string(to_string(type)) << " (trained hr@10 " << trainer.history().back().test.hr << "): loss " << a.first_loss << " -> " << a.last_loss
                            << ", the given items' mean rank " << mean_rank << " of " << d.num_items);
    CHECK(mean_rank < d.num_items / 3.0);
    // Another seed draws other rows and negatives.
    options.seed = 43;
    CHECK(values_by_name(*recsys::fold_in(trainer.model(), shape, d, items, options, Device::cpu()).model) !=
          fitted);
  }
}

TEST_CASE("fold-in refuses what it cannot fit") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  const recsys::ExperimentConfig config = small_config(recsys::ModelType::gmf);
  recsys::ImplicitTrainer trainer(config, d, Device::cpu());
  const recsys::ModelShape shape = recsys::model_shape(config.model, d.num_users, d.num_items);
  std::vector<int32_t> every_item(d.num_items);
  for (int32_t i = 0; i < d.num_items; ++i) every_item[i] = i;
  const recsys::FoldInOptions options;
  CHECK_THROWS_WITH_AS(recsys::fold_in(trainer.model(), shape, d, {}, options, Device::cpu()),
                       doctest::Contains("no items given"), Error);
  CHECK_THROWS_WITH_AS(recsys::fold_in(trainer.model(), shape, d, {3, 3}, options, Device::cpu()),
                       doctest::Contains("given twice"), Error);
  CHECK_THROWS_WITH_AS(recsys::fold_in(trainer.model(), shape, d, {d.num_items}, options, Device::cpu()),
                       doctest::Contains("below 40"), Error);
  CHECK_THROWS_WITH_AS(recsys::fold_in(trainer.model(), shape, d, every_item, options, Device::cpu()),
                       doctest::Contains("none is left"), Error);
}

TEST_CASE("a user held out of training, folded in on their training items, beats ItemPop by far") {
  // ml-latest-small (shipped), leave-one-out. Every 5th user with a test item and at least 5
  // training items is held out: their rows leave training (and its evaluation), so GMF never sees
  // them. Each is then folded in on their training items, and their held-out item is ranked among
  // the same 99 sampled negatives ItemPop (the popularity of the same reduced training set) ranks
  // it among.
  const auto dir = test::require_dataset("ml-latest-small", "fold-in of held-out users");
  if (!dir) return;
  const std::string root = test::source_dir();
  const recsys::ExperimentConfig config = recsys::with_resolved_paths(
      recsys::load_experiment_config(
          root + "/apps/configs/ml-latest-small.json",
          {"data.path=" + *dir + "/ratings.csv", "data.titles=" + *dir + "/movies.csv", "model.type=gmf",
           "train.epochs=6", "train.lr=0.005", "train.device=cpu"},
          root),
      root);
  const data::ImplicitDataset full = *recsys::load_experiment_data(config, root).implicit;
  data::ImplicitDataset reduced = full;
  std::vector<int32_t> held_out, pair_user, pair_item;
  for (int32_t u = 0; u < full.num_users; ++u) {
    const bool hold = u % 5 == 0 && full.test_item[u] >= 0 && full.user_count(u) >= 5;
    if (hold) held_out.push_back(u), reduced.test_item[u] = -1, reduced.validation_item[u] = -1;
    for (int64_t t = 0; !hold && t < full.user_count(u); ++t)
      pair_user.push_back(u), pair_item.push_back(full.user_items(u)[t]);
  }
  data::build_training_csr(reduced, pair_user, pair_item);
  REQUIRE(held_out.size() >= 100);

  recsys::ImplicitTrainer trainer(config, reduced, Device::cpu());
  trainer.fit();
  const recsys::ModelShape shape = recsys::model_shape(config.model, reduced.num_users, reduced.num_items);
  recsys::FoldInOptions options;
  options.seed = config.train.seed;
  std::vector<int64_t> fold_ranks, pop_ranks, counts;
  for (const int32_t u : held_out) {
    REQUIRE(reduced.user_count(u) == 0);  // never trained on
    const std::vector<int32_t> items(full.user_items(u), full.user_items(u) + full.user_count(u));
    const recsys::FoldIn fitted =
        recsys::fold_in(trainer.model(), shape, reduced, items, options, Device::cpu());
    const std::vector<float> scores =
        recsys::block_scorer(*fitted.model, full.num_items, Device::cpu()).score({0}).to_vector<float>();
    const int32_t positive = full.test_item[u];
    const int32_t* negatives = full.user_eval_negatives(u);
    const int64_t n = full.eval_negatives_per_user;
    std::vector<float> fold_scores(n), pop_scores(n);
    for (int64_t j = 0; j < n; ++j) {
      fold_scores[j] = negatives[j] >= 0 ? scores[negatives[j]] : 0.0f;
      pop_scores[j] = negatives[j] >= 0 ? static_cast<float>(reduced.item_popularity[negatives[j]]) : 0.0f;
    }
    std::vector<int32_t> candidates(negatives, negatives + n);
    for (int32_t& c : candidates) c = c >= 0 ? c : positive;  // padding is dropped as the positive
    fold_ranks.push_back(
        recsys::rank_of_positive(scores[positive], fold_scores.data(), candidates.data(), positive, n));
    pop_ranks.push_back(recsys::rank_of_positive(static_cast<float>(reduced.item_popularity[positive]),
                                                 pop_scores.data(), candidates.data(), positive, n));
    counts.push_back(recsys::count_candidates(candidates.data(), positive, n));
  }
  const recsys::RankingMetrics folded = recsys::ranking_metrics(fold_ranks, counts, 10);
  const recsys::RankingMetrics pop = recsys::ranking_metrics(pop_ranks, counts, 10);
  const recsys::EpochRecord trained = trainer.evaluate(false);  // the users GMF trained on, for scale
  MESSAGE(
      "ml-latest-small, " << held_out.size() << " users held out of GMF training (6 epochs): fold-in hr@10 "
                          << folded.hr << " ndcg@10 " << folded.ndcg << " mrr " << folded.mrr
                          << "; ItemPop hr@10 " << pop.hr << " ndcg@10 " << pop.ndcg << " mrr " << pop.mrr
                          << "; trained users hr@10 " << trained.test.hr << " ndcg@10 " << trained.test.ndcg);
  CHECK(folded.hr >= pop.hr + 0.1);
  CHECK(folded.ndcg >= pop.ndcg + 0.05);
}
