// nn/: named parameters, initialisers, layers, optimizer steps against hand-computed values, and a
// tiny MLP that must learn XOR.
#include <cmath>

#include "nn/layers.h"
#include "nn/optim.h"
#include "tensor/ops/reduce.h"
#include "tests/test_util.h"

using namespace ncf;
using ag::Variable;

namespace {
class TwoLayer : public nn::Module {
 public:
  explicit TwoLayer(nn::ParameterFactory& factory) {
    user = &register_module("user", std::make_unique<nn::Embedding>(5, 3, factory));
    tower = &register_module("mlp", std::make_unique<nn::MLP>(std::vector<int64_t>{3, 4, 2}, factory));
  }
  nn::Embedding* user;
  nn::MLP* tower;
};
}  // namespace

TEST_CASE("modules name their parameters by dotted path, in registration order") {
  nn::ParameterFactory factory;
  TwoLayer model(factory);
  std::vector<std::string> names;
  for (auto& [name, p] : model.named_parameters()) names.push_back(name);
  CHECK(names ==
        std::vector<std::string>{"user", "mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias"});
  CHECK(model.parameter_count() == 5 * 3 + 3 * 4 + 4 + 4 * 2 + 2);
  model.eval();
  CHECK(!model.tower->is_training());
}

TEST_CASE("initialisers: embeddings N(0, 0.01), Xavier and LeCun bounds, zero biases, seed-determined") {
  nn::ParameterFactory a{Device::cpu(), DType::f32, 7}, b{Device::cpu(), DType::f32, 7};
  const Tensor emb = a.make({1000, 32}, nn::Init::normal);
  CHECK(emb.to_vector<float>() == b.make({1000, 32}, nn::Init::normal).to_vector<float>());
  double sum = 0, sum_sq = 0;
  for (float v : emb.to_vector<float>()) sum += v, sum_sq += double(v) * v;
  const double n = 32000, mean = sum / n, stddev = std::sqrt(sum_sq / n - mean * mean);
  CHECK(std::fabs(mean) < 3 * 0.01 / std::sqrt(n) * 2);
  CHECK(stddev == doctest::Approx(0.01).epsilon(0.03));
  const Tensor xavier = a.make({64, 32}, nn::Init::xavier_uniform);
  const Tensor lecun = a.make({64, 32}, nn::Init::lecun_uniform);
  float xavier_max = 0, lecun_max = 0;
  for (float v : xavier.to_vector<float>()) xavier_max = std::max(xavier_max, std::fabs(v));
  for (float v : lecun.to_vector<float>()) lecun_max = std::max(lecun_max, std::fabs(v));
  CHECK(xavier_max <= std::sqrt(6.0 / 96.0));
  CHECK(xavier_max > 0.9 * std::sqrt(6.0 / 96.0));
  CHECK(lecun_max <= std::sqrt(3.0 / 64.0));
  CHECK(lecun_max > 0.9 * std::sqrt(3.0 / 64.0));
  CHECK(a.make({4}, nn::Init::zeros).to_vector<float>() == std::vector<float>(4, 0.0f));
}

TEST_CASE("SGD with momentum and weight decay: two steps by hand") {
  Variable p(Tensor::from_vector<double>({1.0, -2.0}, {2}), true, "p");
  nn::SGD sgd({{"p", p}}, /*lr=*/0.1, /*momentum=*/0.9, /*weight_decay=*/0.01);
  // Step 1: g = p (from d/dp of 0.5 p^2) + 0.01 p; buf = g; p -= 0.1 buf.
  std::vector<double> want = {1.0, -2.0}, buf(2);
  for (int step = 1; step <= 2; ++step) {
    sgd.zero_grad();
    ag::sum(ag::mul(ag::scale(p, 0.5), p)).backward();
    for (int i = 0; i < 2; ++i) {
      const double g = want[i] + 0.01 * want[i];
      buf[i] = step == 1 ? g : 0.9 * buf[i] + g;
      want[i] -= 0.1 * buf[i];
    }
    sgd.step();
    NCF_CHECK_CLOSE(p.value().to_vector<double>(), want, 1e-14, 1e-12);
  }
}

TEST_CASE("Adam, dense and lazy, against the formula by hand") {
  for (bool lazy : {false, true}) {
    Variable table(Tensor::from_vector<double>({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2}), true, "table");
    table.set_sparse_gradient(true);
    nn::Adam adam({{"table", table}}, /*lr=*/0.1, lazy);
    std::vector<double> p = {1, 2, 3, 4, 5, 6}, m(6, 0.0), v(6, 0.0);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int step = 1; step <= 3; ++step) {
      adam.zero_grad();
      // One row is looked up per step, another each time (1, then 0, then 1): its gradient is 3 in each
      // column. Dense Adam then moves a row that was touched before but not now (its first moment is
      // not zero), which lazy Adam leaves alone.
      const int32_t row = step == 2 ? 0 : 1;
      ag::sum(ag::scale(ag::embedding(table, Tensor::from_vector<int32_t>({row}, {1})), 3.0)).backward();
      for (int i = 0; i < 6; ++i) {
        const bool touched = i / 2 == row;
        if (lazy && !touched) continue;  // lazy Adam leaves untouched rows and their moments alone
        const double g = touched ? 3.0 : 0.0;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const double m_hat = m[i] / (1 - std::pow(b1, step)), v_hat = v[i] / (1 - std::pow(b2, step));
        p[i] -= 0.1 * m_hat / (std::sqrt(v_hat) + eps);
      }
      adam.step();
      INFO("lazy = " << lazy << ", step " << step);
      NCF_CHECK_CLOSE(table.value().to_vector<double>(), p, 1e-12, 1e-10);
    }
  }
}

TEST_CASE("a tiny MLP learns XOR on the CPU") {
  nn::ParameterFactory factory{Device::cpu(), DType::f32, 3};
  nn::MLP hidden({2, 16}, factory);
  nn::Linear out(16, 1, factory);
  std::vector<nn::NamedParameter> params = hidden.named_parameters();
  for (auto& named : out.named_parameters()) params.push_back(named);
  nn::Adam adam(params, 0.05);
  const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = Tensor::from_vector<float>({0, 1, 1, 0}, {4, 1});
  float first_loss = 0, last_loss = 0;
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    Variable loss = ag::bce_with_logits(out.forward(hidden.forward(Variable(x))), y);
    loss.backward();
    adam.step();
    (step == 0 ? first_loss : last_loss) = loss.value().item<float>();
  }
  CHECK(last_loss < 0.05f);
  CHECK(last_loss < first_loss);
  ag::NoGradGuard no_grad;
  const std::vector<float> logits = out.forward(hidden.forward(Variable(x))).value().to_vector<float>();
  CHECK(logits[0] < 0);
  CHECK(logits[1] > 0);
  CHECK(logits[2] > 0);
  CHECK(logits[3] < 0);
}

TEST_CASE("MLP dropout on slices of a batch: set_first_row and skip_forward draw one process's masks") {
  // Two "ranks" train on slices of each global batch. Each one's tower, told where its rows start,
  // must drop exactly the elements the whole batch's forward drops there; and a forward a rank skips
  // (its slice is empty) must leave its next forward's masks where they would be.
  const std::vector<int64_t> sizes = {6, 12, 10};
  auto tower = [&] {
    nn::ParameterFactory factory{Device::cpu(), DType::f32, 5};
    return std::make_unique<nn::MLP>(sizes, factory, 0.4, nn::Init::xavier_uniform, 9);
  };
  const auto whole = tower(), first = tower(), second = tower();
  const auto values = [](int64_t rows, int salt) {
    std::vector<float> v(static_cast<size_t>(rows * 6));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * static_cast<float>(i) + salt);
    return Tensor::from_vector(v, {rows, 6});
  };
  // Batch 1 is split at its end: the second rank's slice is empty.
  const std::vector<int64_t> cut = {4, 9, 3, 5};
  for (int batch = 0; batch < 4; ++batch) {
    INFO("batch " << batch << ", cut at row " << cut[batch]);
    const Tensor x = values(9, batch);
    const std::vector<float> want = whole->forward(Variable(x)).value().to_vector<float>();
    first->set_first_row(0);
    std::vector<float> got = first->forward(Variable(x.rows(0, cut[batch]))).value().to_vector<float>();
    if (cut[batch] == 9) {
      second->skip_forward();
    } else {
      second->set_first_row(cut[batch]);
      const std::vector<float> rest =
          second->forward(Variable(x.rows(cut[batch], 9))).value().to_vector<float>();
      got.insert(got.end(), rest.begin(), rest.end());
    }
    CHECK(got == want);
    int64_t zeros = 0;
    for (float value : want) zeros += value == 0.0f;
    CHECK(zeros > 0);  // something was dropped: the comparison is not vacuous
  }
  // Without the row offset the second slice would draw the batch's first rows' masks: it differs.
  const Tensor x = values(9, 7);
  const std::vector<float> want = whole->forward(Variable(x)).value().to_vector<float>();
  second->set_first_row(0);
  const std::vector<float> unshifted = second->forward(Variable(x.rows(4, 9))).value().to_vector<float>();
  CHECK(unshifted != std::vector<float>(want.begin() + 4 * 10, want.end()));
}
