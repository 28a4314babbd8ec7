// Serving a trained model: block scores (the bilinear GEMM path against the model's own forward),
// top-K lists for blocks of users against a brute-force sort, items alike by cosine, and each model's
// item vectors.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "recsys/block_scorer.h"
#include "recsys/recommend.h"
#include "recsys/trainer.h"
#include "tensor/ops/random.h"
#include "tests/recsys/banded_dataset.h"
#include "tests/test_util.h"

using namespace ncf;

namespace {
std::unique_ptr<recsys::ScoringModel> model_with_spread_weights(const std::string& type, int64_t users,
                                                                int64_t items) {
  recsys::ModelShape shape;
  shape.type = type;
  shape.users = users;
  shape.items = items;
  shape.factors = 5;
  shape.layers = {8, 4};
  shape.global_mean = 3.5;
  nn::ParameterFactory factory{Device::cpu(), DType::f32, 11};
  auto model = recsys::make_model(shape, factory);
  // Every parameter, biases included, away from its initial zeros and tiny values, so that each term of
  // the score carries weight.
  uint32_t stream = 200;
  for (ag::Variable& p : model->parameters()) ops::uniform_(p.mutable_value(), -1.0, 1.0, 9, stream++);
  return model;
}

std::vector<int32_t> first_users(int32_t n) {
  std::vector<int32_t> users(n);
  std::iota(users.begin(), users.end(), 0);
  return users;
}
}  // namespace

TEST_CASE(
    "bilinear block scores equal the model's forward for GMF and biased MF; MLP and NeuMF go pairwise") {
  const int64_t users = 7, items = 23;
  for (const std::string type : {"gmf", "mf", "mlp", "neumf"}) {
    INFO("model " << type);
    auto model = model_with_spread_weights(type, users, items);
    const recsys::BlockScorer fast = recsys::block_scorer(*model, items, Device::cpu());
    const bool bilinear = type == "gmf" || type == "mf";
    CHECK(model->bilinear_factors().has_value() == bilinear);
    CHECK(fast.path.rfind(bilinear ? "bilinear" : "pairwise", 0) == 0);
    // A chunk of 10 pairs: every block spans several scorer calls, the last one partial.
    const recsys::BlockScorer pairwise =
        recsys::pairwise_block_scorer(recsys::model_scorer(*model), items, Device::cpu(), 10);
    const std::vector<int32_t> block = {6, 0, 3, 3, 5};
    const Tensor got = fast.score(block), want = pairwise.score(block);
    CHECK(got.shape() == Shape{5, items});
    CHECK(want.shape() == Shape{5, items});
    NCF_CHECK_CLOSE(got.to_vector<float>(), want.to_vector<float>(), 1e-5, 1e-5);
    // Row j is users[j]'s: the repeated user gets the same row twice.
    const std::vector<float> g = got.to_vector<float>();
    CHECK(std::equal(g.begin() + 2 * items, g.begin() + 3 * items, g.begin() + 3 * items));
  }
}

TEST_CASE("full ranking through bilinear blocks gives the pairwise metrics") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  auto model = model_with_spread_weights("gmf", d.num_users, d.num_items);
  const recsys::Evaluator evaluator(d, Device::cpu(), 10);
  const recsys::RankingMetrics pairwise = evaluator.full_ranking(recsys::model_scorer(*model));
  const recsys::RankingMetrics blocks =
      evaluator.full_ranking(recsys::block_scorer(*model, d.num_items, Device::cpu()));
  CHECK(blocks.users == pairwise.users);
  CHECK(blocks.hr == doctest::Approx(pairwise.hr));
  CHECK(blocks.ndcg == doctest::Approx(pairwise.ndcg));
  CHECK(blocks.mrr == doctest::Approx(pairwise.mrr));
}

TEST_CASE("recommend_block: each user's best unseen items, as a brute-force sort orders them") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  auto model = model_with_spread_weights("neumf", d.num_users, d.num_items);
  const recsys::BlockScorer scorer = recsys::block_scorer(*model, d.num_items, Device::cpu());
  const std::vector<int32_t> users = first_users(12);
  for (const int64_t k : {int64_t{1}, int64_t{10}, int64_t{40}}) {
    INFO("k " << k);
    const auto lists = recsys::recommend_block(scorer, d, users, k, Device::cpu());
    REQUIRE(lists.size() == users.size());
    const std::vector<float> all = scorer.score(users).to_vector<float>();
    for (size_t j = 0; j < users.size(); ++j) {
      const int32_t u = users[j];
      // The reference: every unseen item, larger score first, equal scores by ascending id.
      std::vector<int32_t> unseen;
      for (int32_t i = 0; i < d.num_items; ++i)
        if (!d.user_trained_on(u, i)) unseen.push_back(i);
      const float* s = all.data() + j * d.num_items;
      std::stable_sort(unseen.begin(), unseen.end(), [s](int32_t a, int32_t b) { return s[a] > s[b]; });
      unseen.resize(std::min<size_t>(unseen.size(), k));  // k = 40: all 33 unseen items, no seen one
      REQUIRE(lists[j].size() == unseen.size());
      for (size_t t = 0; t < unseen.size(); ++t) {
        CHECK(lists[j][t].item == unseen[t]);
        CHECK(lists[j][t].score == s[unseen[t]]);
        CHECK(lists[j][t].raw_item == d.items.raw(unseen[t]));
      }
      // One user alone gets the same list.
      const auto alone = recsys::recommend(scorer, d, u, k, Device::cpu());
      REQUIRE(alone.size() == lists[j].size());
      for (size_t t = 0; t < alone.size(); ++t) CHECK(alone[t].item == lists[j][t].item);
    }
  }
}

TEST_CASE("recommend_block: equal scores go to the smaller item id; bad users and k are named") {
  const data::ImplicitDataset d = test::banded_dataset(30, 40, 20);
  const recsys::Scorer constant = [](const Tensor&, const Tensor& items) {
    return Tensor::from_vector(std::vector<float>(items.numel(), 1.0f), {items.numel()});
  };
  const recsys::BlockScorer scorer = recsys::pairwise_block_scorer(constant, d.num_items, Device::cpu());
  const auto top = recsys::recommend(scorer, d, 4, 5, Device::cpu());
  std::vector<int32_t> expected;
  for (int32_t i = 0; i < d.num_items && expected.size() < 5; ++i)
    if (!d.user_trained_on(4, i)) expected.push_back(i);
  REQUIRE(top.size() == 5);
  for (size_t t = 0; t < 5; ++t) CHECK(top[t].item == expected[t]);
  CHECK_THROWS_WITH_AS(recsys::recommend(scorer, d, 30, 5, Device::cpu()),
                       doctest::Contains("user 30 out of range"), Error);
  CHECK_THROWS_WITH_AS(recsys::recommend(scorer, d, 0, 0, Device::cpu()), doctest::Contains("k must be >= 1"),
                       Error);
}

TEST_CASE("similar_items ranks by cosine, leaves the item out and gives zero vectors cosine 0") {
  data::ImplicitDataset d;  // only the catalogue matters here
  d.num_items = 6;
  d.items = data::IdMap::identity(6);
  // Item 0 = (1, 0); the others at known angles, one of them twice as long (length must not matter),
  // one zero.
  const std::vector<float> vectors = {1, 0, 2, 2, 0, 1, -1, 0, 0, 0, 3, 0.3f};
  const Tensor table = Tensor::from_vector(vectors, {6, 2});
  const auto top = recsys::similar_items(table, d, 0, 10);  // k beyond the 5 others: all of them
  REQUIRE(top.size() == 5);
  const std::vector<int32_t> order = {5, 1, 2, 4, 3};  // cos 0.995, 0.707, 0, 0 (zero vector), -1
  const std::vector<float> cosines = {3 / std::sqrt(9.09f), std::sqrt(0.5f), 0, 0, -1};
  for (size_t t = 0; t < 5; ++t) {
    CHECK(top[t].item == order[t]);
    CHECK(top[t].score == doctest::Approx(cosines[t]).epsilon(1e-5));
  }
  CHECK_THROWS_WITH_AS(recsys::similar_items(table, d, 6, 3), doctest::Contains("item 6 out of range"),
                       Error);
}

TEST_CASE(
    "item vectors: GMF and NeuMF weigh the GMF item table by the output layer; MLP's come with a caveat") {
  for (const std::string type : {"gmf", "neumf", "mlp"}) {
    INFO("model " << type);
    auto model = model_with_spread_weights(type, 4, 9);
    std::map<std::string, std::vector<float>> p;
    for (const auto& [name, parameter] : model->named_parameters())
      p[name] = parameter.value().to_vector<float>();
    const std::optional<recsys::ItemVectors> vectors = model->item_vectors();
    REQUIRE(vectors.has_value());
    const std::vector<float> got = vectors->vectors.to_vector<float>();
    if (type == "mlp") {
      CHECK(got == p["mlp.item"]);
      CHECK(vectors->caveat.find("rough guide") != std::string::npos);
      continue;
    }
    CHECK(vectors->caveat.empty());
    REQUIRE(got.size() == 9 * 5);
    for (int i = 0; i < 9; ++i)
      for (int f = 0; f < 5; ++f) CHECK(got[i * 5 + f] == p["gmf.item"][i * 5 + f] * p["out.weight"][f]);
  }
}
