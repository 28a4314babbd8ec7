#include "recsys/models.h"

#include <cmath>
#include <map>

#include "tensor/ops/concat.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/factorization.h"
#include "tensor/ops/groups.h"

namespace ncf::recsys {

namespace {
void check_pair(const Tensor& users, const Tensor& items) {
  check_dtype(users, DType::i32, "model forward", "users");
  check_dtype(items, DType::i32, "model forward", "items");
  NCF_CHECK(users.ndim() == 1 && users.shape() == items.shape(),
            "model forward: users " << users.describe() << " and items " << items.describe()
                                    << " must be (batch,)");
}

// The one value of a (1,) tensor of any float dtype, on the host.
double scalar_value(const Tensor& t) { return ops::cast(t, DType::f64).item<double>(); }

// A (1,) constant in the factory's dtype and device (the global mean rating).
Variable scalar_constant(double value, const nn::ParameterFactory& factory) {
  const Tensor t = Tensor::from_vector<double>({value}, {1}, factory.device);
  return Variable(factory.dtype == DType::f64 ? t : ops::cast(t, factory.dtype));
}

// A grouped batch's users, one per group of `group` rows.
Tensor group_users(const Tensor& users, const Tensor& items, int64_t group) {
  check_pair(users, items);
  return ops::group_firsts(users, group);
}

// The tower's output for a grouped batch, the user half of its first layer once per group.
Variable grouped_tower(nn::MLP& tower, const nn::Embedding& user, const nn::Embedding& item,
                       const Tensor& per_group_users, const Tensor& items, int64_t group) {
  nn::Linear& first = tower.layer(0);
  return tower.forward_from_first(ag::grouped_linear(user.forward(per_group_users), item.forward(items),
                                                     first.weight(), first.bias(), group));
}

std::vector<int64_t> checked_tower(const ModelShape& shape) {
  NCF_CHECK(!shape.layers.empty() && shape.layers[0] % 2 == 0,
            "model.layers must start with an even size (user and item embeddings get half each), got "
                << (shape.layers.empty() ? 0 : shape.layers[0]));
  return shape.layers;
}
}  // namespace

Variable ScoringModel::embedding_penalty(const Tensor& users, const Tensor& items) const {
  if (l2_ == 0.0) return Variable();
  Variable total;
  for (const auto& [table, by_user] : tables_) {
    Variable rows = table->forward(by_user ? users : items);
    Variable squares = ag::sum(ag::mul(rows, rows));
    total = total.defined() ? ag::add(total, squares) : squares;
  }
  return ag::scale(total, l2_ / static_cast<double>(users.numel()));
}

std::optional<ItemVectors> ScoringModel::item_vectors() const {
  std::optional<BilinearFactors> factors = bilinear_factors();
  if (!factors) return std::nullopt;
  return ItemVectors{factors->item_factors, factors->item_formula + ", the item side of the score", ""};
}

std::vector<std::string> ScoringModel::user_table_names() const {
  std::vector<std::string> names;
  for (const auto& [name, parameter] : named_parameters())
    for (const auto& [table, by_user] : tables_)
      if (by_user && table->weight().impl() == parameter.impl()) names.push_back(name);
  return names;
}

GMF::GMF(const ModelShape& s, nn::ParameterFactory& factory) {
  const double stddev = s.init_std.value_or(0.01);
  user_ = &register_module("gmf.user", std::make_unique<nn::Embedding>(s.users, s.factors, factory, stddev));
  item_ = &register_module("gmf.item", std::make_unique<nn::Embedding>(s.items, s.factors, factory, stddev));
  out_ =
      &register_module("out", std::make_unique<nn::Linear>(s.factors, 1, factory, nn::Init::lecun_uniform));
  l2_ = s.l2;
  add_penalized_table(user_, true);
  add_penalized_table(item_, false);
}

Variable GMF::features(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  return ag::mul(user_->forward(users), item_->forward(items));
}

Variable GMF::forward(const Tensor& users, const Tensor& items) {
  return out_->forward(features(users, items));
}

Variable GMF::forward_grouped(const Tensor& users, const Tensor& items, int64_t group) {
  const Tensor per_group = group_users(users, items, group);
  return out_->forward(ag::mul(ag::expand_groups(user_->forward(per_group), group), item_->forward(items)));
}

std::optional<BilinearFactors> GMF::bilinear_factors() const {
  // The output layer's weight (f, 1) moves to the item side: p_u . (q_i (.) w), one row product each.
  const Tensor& w = out_->weight().value();
  BilinearFactors factors;
  factors.user_factors = user_->weight().value();
  factors.item_factors = ops::mul(item_->weight().value(), w.view({w.numel()}));
  factors.bias = scalar_value(out_->bias().value());
  factors.formula = "gmf.user . (gmf.item (.) out.weight) + out.bias";
  factors.item_formula = "gmf.item (.) out.weight";
  return factors;
}

MLP::MLP(const ModelShape& s, nn::ParameterFactory& factory, double default_stddev) {
  const std::vector<int64_t> layers = checked_tower(s);
  const double embedding_stddev = s.init_std.value_or(default_stddev);
  user_ = &register_module(
      "mlp.user", std::make_unique<nn::Embedding>(s.users, layers[0] / 2, factory, embedding_stddev));
  item_ = &register_module(
      "mlp.item", std::make_unique<nn::Embedding>(s.items, layers[0] / 2, factory, embedding_stddev));
  tower_ = &register_module("mlp", std::make_unique<nn::MLP>(layers, factory, s.dropout));
  out_ = &register_module("out",
                          std::make_unique<nn::Linear>(layers.back(), 1, factory, nn::Init::lecun_uniform));
  l2_ = s.l2;
  add_penalized_table(user_, true);
  add_penalized_table(item_, false);
}

Variable MLP::features(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  return tower_->forward(ag::concat_cols({user_->forward(users), item_->forward(items)}));
}

Variable MLP::forward(const Tensor& users, const Tensor& items) {
  return out_->forward(features(users, items));
}

Variable MLP::forward_grouped(const Tensor& users, const Tensor& items, int64_t group) {
  return out_->forward(grouped_tower(*tower_, *user_, *item_, group_users(users, items, group), items, group));
}

std::optional<ItemVectors> MLP::item_vectors() const {
  return ItemVectors{item_->weight().value(), "mlp.item",
                     "mlp.item is the input of a ReLU tower, not a factor the score is a product with: "
                     "items close there are scored alike, but items far apart may be too, so the cosine "
                     "is only a rough guide"};
}

NeuMF::NeuMF(const ModelShape& s, nn::ParameterFactory& factory) {
  const std::vector<int64_t> layers = checked_tower(s);
  const double stddev = s.init_std.value_or(0.01);
  auto table = [&](int64_t rows, int64_t dim) { return std::make_unique<nn::Embedding>(rows, dim, factory, stddev); };
  gmf_user_ = &register_module("gmf.user", table(s.users, s.factors));
  gmf_item_ = &register_module("gmf.item", table(s.items, s.factors));
  mlp_user_ = &register_module("mlp.user", table(s.users, layers[0] / 2));
  mlp_item_ = &register_module("mlp.item", table(s.items, layers[0] / 2));
  tower_ = &register_module("mlp", std::make_unique<nn::MLP>(layers, factory, s.dropout));
  out_ = &register_module(
      "out", std::make_unique<nn::Linear>(s.factors + layers.back(), 1, factory, nn::Init::lecun_uniform));
  l2_ = s.l2;
  for (nn::Embedding* table : {gmf_user_, mlp_user_}) add_penalized_table(table, true);
  for (nn::Embedding* table : {gmf_item_, mlp_item_}) add_penalized_table(table, false);
}

Variable NeuMF::forward(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  Variable gmf = ag::mul(gmf_user_->forward(users), gmf_item_->forward(items));  // (batch, f)
  Variable mlp = tower_->forward(
      ag::concat_cols({mlp_user_->forward(users), mlp_item_->forward(items)}));  // (batch, last)
  return out_->forward(ag::concat_cols({gmf, mlp}));                             // (batch, 1)
}

Variable NeuMF::forward_grouped(const Tensor& users, const Tensor& items, int64_t group) {
  const Tensor per_group = group_users(users, items, group);
  Variable gmf = ag::mul(ag::expand_groups(gmf_user_->forward(per_group), group), gmf_item_->forward(items));
  Variable mlp = grouped_tower(*tower_, *mlp_user_, *mlp_item_, per_group, items, group);
  return out_->forward(ag::concat_cols({gmf, mlp}));
}

std::optional<ItemVectors> NeuMF::item_vectors() const {
  // The GMF branch adds p_u . (q_i (.) w_gmf) to the logit, w_gmf the output weight's first f rows;
  // the MLP branch has no such factor, so the GMF side alone says which items the model holds alike.
  const Tensor& w = out_->weight().value();  // (f + last, 1)
  const int64_t f = gmf_item_->dim();
  return ItemVectors{ops::mul(gmf_item_->weight().value(), w.rows(0, f).view({f})),
                     "gmf.item (.) out.weight[0:" + std::to_string(f) + "], the GMF branch's item side", ""};
}

DotMF::DotMF(const ModelShape& s, nn::ParameterFactory& factory) {
  const double stddev = s.init_std.value_or(0.1);
  user_ = &register_module("dot.user", std::make_unique<nn::Embedding>(s.users, s.factors, factory, stddev));
  item_ = &register_module("dot.item", std::make_unique<nn::Embedding>(s.items, s.factors, factory, stddev));
  user_bias_ = &register_module("dot.user_bias", std::make_unique<nn::Embedding>(s.users, 1, factory, 0.0));
  item_bias_ = &register_module("dot.item_bias", std::make_unique<nn::Embedding>(s.items, 1, factory, 0.0));
  bias_ = register_parameter("dot.bias", factory.make({1}, nn::Init::zeros));
  l2_ = s.l2;
  for (nn::Embedding* table : {user_, user_bias_}) add_penalized_table(table, true);
  for (nn::Embedding* table : {item_, item_bias_}) add_penalized_table(table, false);
}

Variable DotMF::forward(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  Variable dot = ag::sum_cols(ag::mul(user_->forward(users), item_->forward(items)));  // (batch, 1)
  Variable biases = ag::add(user_bias_->forward(users), item_bias_->forward(items));   // (batch, 1)
  return ag::add(ag::add(dot, biases), bias_);
}

Tensor DotMF::sgd_step(const Tensor& users, const Tensor& items, const Tensor& labels, double lr) {
  const ops::DotTables tables{user_->weight().value(), item_->weight().value(), user_bias_->weight().value(),
                              item_bias_->weight().value(), bias_.value()};
  return ops::dot_logistic_sgd_step_(tables, users, items, labels, lr, l2_);
}

std::optional<BilinearFactors> DotMF::bilinear_factors() const {
  BilinearFactors factors;
  factors.user_factors = user_->weight().value();
  factors.item_factors = item_->weight().value();
  factors.user_bias = user_bias_->weight().value().view({user_bias_->rows()});
  factors.item_bias = item_bias_->weight().value().view({item_bias_->rows()});
  factors.bias = scalar_value(bias_.value());
  factors.formula = "dot.user . dot.item + dot.user_bias + dot.item_bias + dot.bias";
  factors.item_formula = "dot.item";
  return factors;
}

IalsModel::IalsModel(const ModelShape& s, nn::ParameterFactory& factory) {
  // Rendle et al. draw the factors from N(0, (0.1 / sqrt(d))^2): small scores at the start, whatever d.
  const double stddev = s.init_std.value_or(0.1 / std::sqrt(static_cast<double>(s.factors)));
  user_ = &register_module("ials.user", std::make_unique<nn::Embedding>(s.users, s.factors, factory, stddev));
  item_ = &register_module("ials.item", std::make_unique<nn::Embedding>(s.items, s.factors, factory, stddev));
}

Variable IalsModel::forward(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  return ag::sum_cols(ag::mul(user_->forward(users), item_->forward(items)));
}

EaseModel::EaseModel(const ModelShape& s, nn::ParameterFactory& factory) {
  NCF_CHECK(s.train != nullptr && s.train->num_users == s.users && s.train->num_items == s.items,
            "EaseModel: needs the training matrix of its " << s.users << " users and " << s.items << " items");
  // Zeros until the trainer's solve (made directly: the factory's f64 staging would double the
  // memory of an items x items matrix).
  weights_ = register_parameter("ease.weights", Tensor::zeros({s.items, s.items}, factory.dtype, factory.device));
  const ops::BinaryCsr by_user = ops::make_binary_csr(s.train->train_offsets, s.train->train_item, s.items);
  train_ = ops::BinaryCsr{by_user.offsets.to(factory.device), by_user.indices.to(factory.device), by_user.rows,
                          by_user.cols};
  train_offsets_ = s.train->train_offsets;
  train_items_ = s.train->train_item;
}

Tensor EaseModel::block_scores(const std::vector<int32_t>& users) const {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> indices;
  for (const int32_t u : users) {
    NCF_CHECK(u >= 0 && u < train_.rows, "EASE block scores: user " << u << " outside [0, " << train_.rows << ")");
    indices.insert(indices.end(), train_items_.begin() + train_offsets_[u], train_items_.begin() + train_offsets_[u + 1]);
    offsets.push_back(static_cast<int64_t>(indices.size()));
  }
  return ops::csr_matmul(ops::make_binary_csr(offsets, indices, train_.cols, weights_.value().device()),
                         weights_.value());
}

std::optional<BilinearFactors> IalsModel::bilinear_factors() const {
  BilinearFactors factors;
  factors.user_factors = user_->weight().value();
  factors.item_factors = item_->weight().value();
  factors.formula = "ials.user . ials.item";
  factors.item_formula = "ials.item";
  return factors;
}

Variable EaseModel::forward(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  // Not differentiable: B comes from a solve, never from a gradient.
  return Variable(ops::csr_gather_sum(train_, weights_.value(), users, items).view({users.numel(), 1}));
}

BiasedMF::BiasedMF(const ModelShape& s, nn::ParameterFactory& factory) {
  const double stddev = s.init_std.value_or(0.1);
  user_ = &register_module("mf.user", std::make_unique<nn::Embedding>(s.users, s.factors, factory, stddev));
  item_ = &register_module("mf.item", std::make_unique<nn::Embedding>(s.items, s.factors, factory, stddev));
  user_bias_ = &register_module("mf.user_bias", std::make_unique<nn::Embedding>(s.users, 1, factory, 0.0));
  item_bias_ = &register_module("mf.item_bias", std::make_unique<nn::Embedding>(s.items, 1, factory, 0.0));
  l2_ = s.l2;
  for (nn::Embedding* table : {user_, user_bias_}) add_penalized_table(table, true);
  for (nn::Embedding* table : {item_, item_bias_}) add_penalized_table(table, false);
  global_mean_ = scalar_constant(s.global_mean, factory);
}

Variable BiasedMF::forward(const Tensor& users, const Tensor& items) {
  check_pair(users, items);
  Variable dot = ag::sum_cols(ag::mul(user_->forward(users), item_->forward(items)));  // (batch, 1)
  Variable biases = ag::add(user_bias_->forward(users), item_bias_->forward(items));   // (batch, 1)
  return ag::add(ag::add(dot, biases), global_mean_);
}

std::optional<BilinearFactors> BiasedMF::bilinear_factors() const {
  BilinearFactors factors;
  factors.user_factors = user_->weight().value();
  factors.item_factors = item_->weight().value();
  factors.user_bias = user_bias_->weight().value().view({user_bias_->rows()});
  factors.item_bias = item_bias_->weight().value().view({item_bias_->rows()});
  factors.bias = scalar_value(global_mean_.value());
  factors.formula = "mu + mf.user_bias + mf.item_bias + mf.user . mf.item";
  factors.item_formula = "mf.item";
  return factors;
}

// The same parameters as MLP, in the same order, with wider embeddings at the start: ratings need
// larger dot products than logits do.
MLPRegressor::MLPRegressor(const ModelShape& s, nn::ParameterFactory& factory)
    : MLP(s, factory, /*default_stddev=*/0.05), global_mean_(scalar_constant(s.global_mean, factory)) {}

Variable MLPRegressor::forward(const Tensor& users, const Tensor& items) {
  return ag::add(MLP::forward(users, items), global_mean_);  // predicts the offset from the mean rating
}

std::unique_ptr<ScoringModel> make_model(const ModelShape& shape, nn::ParameterFactory& factory) {
  NCF_CHECK(shape.users > 0 && shape.items > 0,
            "a model needs at least one user and one item, got " << shape.users << " x " << shape.items);
  if (shape.type == "gmf") return std::make_unique<GMF>(shape, factory);
  if (shape.type == "mlp") return std::make_unique<MLP>(shape, factory);
  if (shape.type == "neumf") return std::make_unique<NeuMF>(shape, factory);
  if (shape.type == "dot") return std::make_unique<DotMF>(shape, factory);
  if (shape.type == "ials") return std::make_unique<IalsModel>(shape, factory);
  if (shape.type == "ease") return std::make_unique<EaseModel>(shape, factory);
  if (shape.type == "mf") return std::make_unique<BiasedMF>(shape, factory);
  if (shape.type == "mlp_regressor") return std::make_unique<MLPRegressor>(shape, factory);
  NCF_FAIL("unknown model type '" << shape.type << "': expected gmf, mlp, neumf, dot, ials, ease, mf or mlp_regressor");
}

bool is_explicit_model(const std::string& type) { return type == "mf" || type == "mlp_regressor"; }

void load_pretrained_neumf(ScoringModel& neumf, const std::map<std::string, Tensor>& gmf,
                           const std::map<std::string, Tensor>& mlp, double alpha) {
  NCF_CHECK(neumf.type() == "neumf", "pre-training initialises a NeuMF model, not " << neumf.type());
  NCF_CHECK(alpha >= 0.0 && alpha <= 1.0, "pretrain.alpha must be in [0, 1], got " << alpha);
  auto find = [](const std::map<std::string, Tensor>& from, const std::string& name, const char* which) {
    auto it = from.find(name);
    NCF_CHECK(it != from.end(), "pre-trained " << which << " has no tensor '" << name << "'");
    return it->second;
  };
  for (auto& [name, parameter] : neumf.named_parameters()) {
    Tensor& target = parameter.mutable_value();
    Tensor source;
    if (name.rfind("gmf.", 0) == 0) {
      source = find(gmf, name, "GMF");
    } else if (name.rfind("mlp.", 0) == 0) {
      source = find(mlp, name, "MLP");
    } else if (name == "out.weight") {  // (f + last, 1): the GMF rows first, then the MLP rows
      const Tensor g = find(gmf, name, "GMF").to(Device::cpu()), m = find(mlp, name, "MLP").to(Device::cpu());
      source = ops::concat_cols({ops::scale(g, alpha).view({1, g.numel()}),
                                 ops::scale(m, 1.0 - alpha).view({1, m.numel()})})
                   .view(target.shape());
    } else if (name == "out.bias") {
      source = ops::add(ops::scale(find(gmf, name, "GMF").to(Device::cpu()), alpha),
                        ops::scale(find(mlp, name, "MLP").to(Device::cpu()), 1.0 - alpha));
    } else {
      NCF_FAIL("NeuMF parameter '" << name << "' has no pre-trained counterpart");
    }
    NCF_CHECK(source.shape() == target.shape(), "pre-trained '" << name << "' is " << source.describe()
                                                                << " but NeuMF expects "
                                                                << target.describe());
    target.copy_from(source.dtype() == target.dtype() ? source : ops::cast(source, target.dtype()));
  }
}

}  // namespace ncf::recsys
