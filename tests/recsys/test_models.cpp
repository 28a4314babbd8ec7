// The recsys models: gradcheck of every model's forward with respect to all its parameters (f64),
// NeuMF pre-training, ItemPop, evaluation on hand-made data, and a pinned fixed-seed training run.
#include <cmath>

#include "autograd/gradcheck.h"
#include "data/splits.h"
#include "recsys/evaluator.h"
#include "recsys/models.h"
#include "recsys/recommend.h"
#include "recsys/trainer.h"
#include "tensor/ops/random.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {
recsys::ModelShape tiny_shape(const std::string& type) {
  recsys::ModelShape shape;
  shape.type = type;
  shape.users = 4;
  shape.items = 6;
  shape.factors = 3;
  shape.layers = {6, 4, 3};
  shape.global_mean = 3.5;
  return shape;
}

}  // namespace

TEST_CASE("gradcheck of every model's forward with respect to all of its parameters") {
  const Tensor users = Tensor::from_vector<int32_t>({0, 3, 1, 3, 2}, {5});
  const Tensor items = Tensor::from_vector<int32_t>({5, 0, 2, 2, 4}, {5});
  for (const std::string type : {"gmf", "mlp", "neumf", "dot", "ials", "mf", "mlp_regressor"}) {
    INFO("model " << type);
    nn::ParameterFactory factory{Device::cpu(), DType::f64, 11};
    recsys::ModelShape shape = tiny_shape(type);
    auto model = recsys::make_model(shape, factory);
    // Embeddings drawn with std 0.01 give near-zero products; widen them so every path carries signal,
    // and keep the ReLU inputs away from their kink.
    std::vector<ag::Variable> parameters = model->parameters();
    uint32_t stream = 100;
    for (ag::Variable& p : parameters) ops::uniform_(p.mutable_value(), 0.2, 0.9, 5, stream++);
    const std::vector<double> weights = {0.3, -0.7, 1.1, 0.5, -0.2};
    auto f = [&](const std::vector<ag::Variable>&) {
      return ag::sum(
          ag::mul(model->forward(users, items), ag::Variable(Tensor::from_vector(weights, {5, 1}))));
    };
    const ag::GradcheckResult result = ag::gradcheck(f, parameters);
    INFO(result.first_failure);
    CHECK(result.ok);
  }
}

TEST_CASE("NeuMF pre-training copies GMF and MLP and fuses the output layer with alpha") {
  nn::ParameterFactory factory{Device::cpu(), DType::f32, 3};
  auto gmf = recsys::make_model(tiny_shape("gmf"), factory);
  auto mlp = recsys::make_model(tiny_shape("mlp"), factory);
  auto neumf = recsys::make_model(tiny_shape("neumf"), factory);
  std::map<std::string, Tensor> gmf_tensors, mlp_tensors;
  for (auto& [name, p] : gmf->named_parameters()) gmf_tensors[name] = p.value();
  for (auto& [name, p] : mlp->named_parameters()) mlp_tensors[name] = p.value();
  recsys::load_pretrained_neumf(*neumf, gmf_tensors, mlp_tensors, 0.25);
  std::map<std::string, Tensor> got;
  for (auto& [name, p] : neumf->named_parameters()) got[name] = p.value();
  CHECK(got["gmf.item"].to_vector<float>() == gmf_tensors["gmf.item"].to_vector<float>());
  CHECK(got["mlp.1.weight"].to_vector<float>() == mlp_tensors["mlp.1.weight"].to_vector<float>());
  std::vector<float> want;
  for (float w : gmf_tensors["out.weight"].to_vector<float>()) want.push_back(0.25f * w);
  for (float w : mlp_tensors["out.weight"].to_vector<float>()) want.push_back(0.75f * w);
  NCF_CHECK_CLOSE(got["out.weight"].to_vector<float>(), want, 1e-7, 1e-6);
  const float bias =
      0.25f * gmf_tensors["out.bias"].item<float>() + 0.75f * mlp_tensors["out.bias"].item<float>();
  CHECK(got["out.bias"].item<float>() == doctest::Approx(bias).epsilon(1e-6));
  gmf_tensors.erase("gmf.user");
  CHECK_THROWS_WITH_AS(recsys::load_pretrained_neumf(*neumf, gmf_tensors, mlp_tensors, 0.5),
                       doctest::Contains("gmf.user"), Error);
}

TEST_CASE("the evaluator ranks the held-out item among its negatives; ItemPop scores by popularity") {
  data::ImplicitDataset d;
  d.num_users = 2;
  d.num_items = 6;
  // user 0 trained on items 0, 1; user 1 on item 0 only. Popularity: item 0 = 2, item 1 = 1.
  data::build_training_csr(d, {0, 0, 1}, {0, 1, 0});
  d.test_item = {2, 1};
  d.validation_item = {-1, -1};
  d.eval_negatives_per_user = 3;
  d.eval_negatives = {3, 4, 2, /*user 1:*/ 0, 5, -1};  // user 0 lists its positive (dropped); -1 is padding
  recsys::Evaluator evaluator(d, Device::cpu(), 1);
  // Scores: item id as score -> user 0: positive 2 vs {3, 4} -> rank 2; user 1: positive 1 vs {0, 5} ->
  // rank 1.
  recsys::Scorer by_id = [](const Tensor&, const Tensor& items) {
    std::vector<float> s;
    for (int32_t i : items.to_vector<int32_t>()) s.push_back(static_cast<float>(i));
    return Tensor::from_vector(s, {items.numel()});
  };
  recsys::RankingMetrics m = evaluator.sampled(by_id);
  CHECK(m.users == 2);
  CHECK(m.hr == 0.0);
  CHECK(m.mrr == doctest::Approx((1.0 / 3 + 1.0 / 2) / 2));
  // Full ranking: user 0's candidates are items 2..5 (not 0, 1); item 2 ranks below 3, 4, 5 -> rank 3.
  // user 1's candidates are items 1..5; item 1 ranks below 2..5 -> rank 4.
  recsys::RankingMetrics full = recsys::Evaluator(d, Device::cpu(), 10).full_ranking(by_id);
  CHECK(full.mrr == doctest::Approx((1.0 / 4 + 1.0 / 5) / 2));
  // ItemPop: user 1's positive (item 1, popularity 1) beats item 5 (0) but ties lose: item 0 has 2.
  recsys::RankingMetrics pop =
      recsys::Evaluator(d, Device::cpu(), 2).sampled(recsys::popularity_scorer(d, Device::cpu()));
  CHECK(pop.hr == doctest::Approx(0.5));  // user 0: item 2 (0) ties 3 and 4 (0) -> rank 2, a miss at k = 2
}

TEST_CASE("full ranking leaves the user's training items out, even when they score highest") {
  // Every user trained on 7 items; a scorer that puts those items first (as a model that memorised
  // them would) and the held-out item right after them: excluded, they cannot push it out of the top 1.
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  const recsys::Scorer trained_first = [&d](const Tensor& users, const Tensor& items) {
    const std::vector<int32_t> u = users.to_vector<int32_t>(), i = items.to_vector<int32_t>();
    std::vector<float> s(u.size());
    for (size_t r = 0; r < u.size(); ++r)
      s[r] = d.user_trained_on(u[r], i[r]) ? 2.0f : (i[r] == d.test_item[u[r]] ? 1.0f : 0.0f);
    return Tensor::from_vector(s, {static_cast<int64_t>(s.size())});
  };
  const recsys::RankingMetrics full = recsys::Evaluator(d, Device::cpu(), 1).full_ranking(trained_first);
  CHECK(full.users == 30);
  CHECK(full.hr == 1.0);
}

TEST_CASE("evaluation does not depend on how rows are chunked and grouped for the transfer to the host") {
  // Scores from a hash of (user, item) with many ties; chunk and transfer sizes that split users
  // across many groups (the two host buffers alternate) must give the same metrics as one group.
  const data::ImplicitDataset d = test::banded_dataset(61, 47, 20);
  const recsys::Scorer hashed = [](const Tensor& users, const Tensor& items) {
    const std::vector<int32_t> u = users.to_vector<int32_t>(), i = items.to_vector<int32_t>();
    std::vector<float> s(u.size());
    for (size_t r = 0; r < u.size(); ++r) s[r] = static_cast<float>((u[r] * 31 + i[r] * 17) % 13);
    return Tensor::from_vector(s, {static_cast<int64_t>(s.size())});
  };
  auto same = [](const recsys::RankingMetrics& a, const recsys::RankingMetrics& b) {
    return a.users == b.users && a.hr == b.hr && a.ndcg == b.ndcg && a.mrr == b.mrr && a.auc == b.auc;
  };
  const recsys::Evaluator whole(d, Device::cpu(), 10, recsys::Evaluator::Heldout::test, 1 << 20, 1 << 24);
  const recsys::RankingMetrics sampled = whole.sampled(hashed), full = whole.full_ranking(hashed);
  CHECK(sampled.users == 61);
  CHECK(sampled.hr > 0.0);
  CHECK(sampled.hr < 1.0);
  for (const auto& [chunk, transfer] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {50, 0}, {50, 200}, {100, 1000}, {1, 1}, {47, 94}}) {
    CAPTURE(chunk);
    CAPTURE(transfer);
    const recsys::Evaluator split(d, Device::cpu(), 10, recsys::Evaluator::Heldout::test, chunk, transfer);
    CHECK(same(split.sampled(hashed), sampled));
    CHECK(same(split.full_ranking(hashed), full));
    CHECK(same(split.sampled(hashed), sampled));  // the kept buffers serve a second call
  }
}

TEST_CASE("ItemPop ranks the most popular items first") {
  // Item i is trained on by i + 1 users; each test item is the most popular item a user has not seen,
  // and its negatives are less popular: ItemPop must put it first for everyone (least popular first
  // would put it last).
  data::ImplicitDataset d;
  d.num_users = 6;
  d.num_items = 6;
  std::vector<int32_t> users, items;
  for (int32_t i = 0; i < 5; ++i)
    for (int32_t u = 0; u <= i; ++u) users.push_back(u + 1), items.push_back(i);  // users 1..i+1 trained on i
  data::build_training_csr(d, users, items);
  d.test_item = {4, -1, -1, -1, -1, -1};  // user 0 trained on nothing; item 4 is the most popular
  d.validation_item.assign(6, -1);
  d.eval_negatives_per_user = 3;
  d.eval_negatives = std::vector<int32_t>(18, -1);
  d.eval_negatives[0] = 0, d.eval_negatives[1] = 1, d.eval_negatives[2] = 2;
  const recsys::RankingMetrics pop =
      recsys::Evaluator(d, Device::cpu(), 1).sampled(recsys::popularity_scorer(d, Device::cpu()));
  CHECK(pop.users == 1);
  CHECK(pop.hr == 1.0);
  CHECK(pop.mrr == 1.0);
}

TEST_CASE("recommend returns the best unseen items, never a trained one") {
  data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::Scorer by_id = [](const Tensor&, const Tensor& items) {
    std::vector<float> s;
    for (int32_t i : items.to_vector<int32_t>()) s.push_back(static_cast<float>(i));
    return Tensor::from_vector(s, {items.numel()});
  };
  const std::vector<recsys::Recommendation> top = recsys::recommend(
      recsys::pairwise_block_scorer(by_id, d.num_items, Device::cpu()), d, 0, 5, Device::cpu());
  REQUIRE(top.size() == 5);
  for (size_t j = 0; j < top.size(); ++j) {
    CHECK(!d.user_trained_on(0, top[j].item));
    if (j > 0) CHECK(top[j].score <= top[j - 1].score);
    CHECK(top[j].raw_item == d.items.raw(top[j].item));
  }
}

TEST_CASE("a fixed-seed NeuMF run on the CPU: pinned first losses, same results twice, learns the bands") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  recsys::ExperimentConfig config;
  config.model.type = recsys::ModelType::neumf;
  config.model.factors = 4;
  config.model.layers = {8, 4};
  config.train.epochs = 3;
  config.train.batch_size = 32;
  config.train.lr = 0.01;
  std::vector<double> losses[2], hr[2];
  for (int run = 0; run < 2; ++run) {
    recsys::ImplicitTrainer trainer(config, d, Device::cpu());
    trainer.fit();
    for (const recsys::EpochRecord& r : trainer.history()) {
      losses[run].push_back(r.loss);
      hr[run].push_back(r.test.hr);
    }
  }
  CHECK(losses[0] == losses[1]);  // one device, one seed: the same bits
  CHECK(hr[0] == hr[1]);
  // Pinned from this implementation's own first run (a regression guard, tolerance 1e-4 relative).
  NCF_CHECK_CLOSE(losses[0], (std::vector<double>{0.566886, 0.499656, 0.443098}), 0.0, 1e-4);
  CHECK(hr[0][2] >= 0.6);  // the bands are learnable: 0.8 when pinned, with 20 negatives (chance: 0.48)
}

TEST_CASE("with a validation item the epoch is chosen on validation, and early stopping counts evaluations") {
  data::Interactions x;
  for (int u = 0; u < 30; ++u)
    for (int j = 0; j < 8; ++j) {
      x.user.push_back(x.users.insert(u));
      x.item.push_back(x.items.insert((u + 3 * j) % 40));
      x.rating.push_back(1.0f);
      x.timestamp.push_back(j);
    }
  data::ImplicitDataset d = data::leave_one_out(x, /*validation=*/true);
  data::draw_eval_negatives(d, 20, 7);
  recsys::ExperimentConfig config;
  config.model.factors = 4;
  config.model.layers = {8, 4};
  config.train.epochs = 6;
  config.train.batch_size = 32;
  config.train.lr = 0.01;
  config.train.early_stop_patience = 2;
  recsys::ImplicitTrainer trainer(config, d, Device::cpu());
  trainer.fit();
  double best_validation = -1;
  int64_t chosen = 0;
  for (const recsys::EpochRecord& r : trainer.history()) {
    REQUIRE(r.validation.has_value());
    if (r.validation->ndcg > best_validation) best_validation = r.validation->ndcg, chosen = r.epoch;
  }
  CHECK(trainer.best_epoch() == chosen);
  // Early stopping: training ends 2 evaluations after the best one, or at the last epoch.
  const int64_t ran = static_cast<int64_t>(trainer.history().size());
  CHECK(ran == std::min<int64_t>(6, chosen + 2));
  CHECK(trainer.stopped_early() == (ran < 6));
}
