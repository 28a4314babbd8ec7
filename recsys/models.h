// The models of He et al. 2017, "Neural Collaborative Filtering", and two explicit-rating baselines.
// Every model maps a batch of (user, item) pairs to one score per pair:
//   users, items: (batch,) i32 on the model's device  ->  (batch, 1) f32
// For the implicit models the score is a logit (sigmoid gives the probability of interaction); the
// explicit models predict the rating itself.
//
//   GMF:    p_u (.) q_i                      -> Linear(f, 1)          generalised matrix factorisation
//   MLP:    [p_u ; q_i] -> ReLU tower        -> Linear(last, 1)       embeddings of layers[0]/2 each
//   NeuMF:  [GMF vector ; MLP tower output]  -> Linear(f + last, 1)   separate embeddings per branch
//   DotMF:  b + b_u + b_i + <p_u, q_i>                                the dot product of Rendle et al. 2020
//   IalsModel:  <w_u, h_i>                      (factors solved by alternating least squares, recsys/ials.h)
//   EaseModel:  sum of B[j][i] over u's training items j    (B solved in closed form, recsys/ease.h)
//   BiasedMF:      mu + b_u + b_i + p_u . q_i                         (explicit ratings, MSE)
//   MLPRegressor:  mu + MLP(u, i)                                     (explicit ratings, MSE)
//
// Parameter names ("gmf.user", "mlp.0.weight", "out.bias", ...) are shared across the models, so
// NeuMF can be initialised from a trained GMF and a trained MLP by name.
//
// Besides forward, a model may describe itself for serving (recsys/block_scorer.h, recsys/recommend.h,
// recsys/fold_in.h): its score as user and item factors when the score is bilinear in them
// (bilinear_factors), the item vectors whose cosine says which items it holds alike (item_vectors),
// and the tables a new user needs rows in (user_table_names).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/implicit_dataset.h"
#include "nn/layers.h"
#include "tensor/ops/linalg.h"

namespace ncf::recsys {

using ag::Variable;

// A score that is bilinear in a user vector and an item vector:
//   score(u, i) = user_factors[u] . item_factors[i] + user_bias[u] + item_bias[i] + bias
// GMF is one: logit = sum_f p_u[f] q_i[f] w[f] + b = p_u . (q_i (.) w) + b, so user_factors = gmf.user,
// item_factors = gmf.item (.) w, bias = out.bias; dot-product MF (b + b_u + b_i + p_u . q_i) is another.
// For such a model every item's score for a block of users is one matrix product.
struct BilinearFactors {
  Tensor user_factors;  // (users, d) f32 on the model's device
  Tensor item_factors;  // (items, d)
  Tensor user_bias;     // (users,), or undefined when the model has none
  Tensor item_bias;     // (items,), or undefined
  double bias = 0.0;
  std::string formula;       // for messages: "gmf.user . (gmf.item (.) out.weight) + out.bias"
  std::string item_formula;  // its item side alone: "gmf.item (.) out.weight"
};

// Item vectors in which the cosine of two items says how alike the model holds them.
struct ItemVectors {
  Tensor vectors;      // (items, d) f32 on the model's device
  std::string source;  // what they are, for messages: "gmf.item (.) out.weight"
  std::string caveat;  // non-empty when the cosine there is only a rough guide, and why
};

class ScoringModel : public nn::Module {
 public:
  virtual Variable forward(const Tensor& users, const Tensor& items) = 0;
  // forward for a batch in groups of `group` consecutive rows that share a user (a positive and its
  // K negatives: data::ShuffleMode::groups): the same scores to rounding, with the user's part
  // computed once per group where the model has one. GMF, MLP and NeuMF look up the user's rows
  // once per group (so their gradients have one row per group, not per row) and compute the user
  // half of the first tower layer once per group (ag::grouped_linear). By default, forward itself.
  // The CPU checks that every row of a group has its user (ops::group_firsts); a GPU does not.
  virtual Variable forward_grouped(const Tensor& users, const Tensor& items, int64_t group) {
    return forward(users, items);
  }
  virtual std::string type() const = 0;

  // The score as user and item factors when it is bilinear in them (GMF, biased MF), from the
  // current parameters; nullopt for models whose ReLU tower mixes user and item (MLP, NeuMF).
  virtual std::optional<BilinearFactors> bilinear_factors() const { return std::nullopt; }
  // By default the item side of the bilinear form, whose dot product with a user's factors is the
  // score (a dimension the output layer ignores does not count); nullopt when there is none.
  virtual std::optional<ItemVectors> item_vectors() const;
  // The parameter names of the embedding tables that users index ("gmf.user"; NeuMF has "gmf.user"
  // and "mlp.user"): what a new user needs fitted (recsys/fold_in.h) while the rest stays frozen.
  std::vector<std::string> user_table_names() const;

  // The L2 penalty on the embedding rows this batch looks up (once per occurrence, as classic
  // matrix factorisation regularises): l2 * sum of their squares / batch. Undefined when l2 is 0.
  Variable embedding_penalty(const Tensor& users, const Tensor& items) const;

 protected:
  // Derived models list their tables here, each with whether users or items index it.
  void add_penalized_table(nn::Embedding* table, bool indexed_by_user) {
    tables_.push_back({table, indexed_by_user});
  }
  double l2_ = 0.0;

 private:
  std::vector<std::pair<nn::Embedding*, bool>> tables_;
};

struct ModelShape {
  std::string type = "neumf";  // gmf | mlp | neumf | mf | mlp_regressor
  int64_t users = 0, items = 0;
  int64_t factors = 8;                            // GMF / MF embedding size
  std::vector<int64_t> layers = {64, 32, 16, 8};  // MLP tower; embeddings are layers[0]/2
  double dropout = 0.0;                           // after each tower ReLU, training only
  double l2 = 0.0;                                // see ScoringModel::embedding_penalty
  double global_mean = 0.0;                       // BiasedMF: the training ratings' mean
  std::optional<double> init_std;                 // the tables' normal init; none: the model's default
  const data::ImplicitDataset* train = nullptr;   // EaseModel: the training matrix its scores sum over
};

class GMF : public ScoringModel {
 public:
  GMF(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  Variable forward_grouped(const Tensor& users, const Tensor& items, int64_t group) override;
  Variable features(const Tensor& users, const Tensor& items);  // (batch, f), before the output layer
  std::string type() const override { return "gmf"; }
  std::optional<BilinearFactors> bilinear_factors() const override;

 private:
  nn::Embedding *user_, *item_;
  nn::Linear* out_;
};

class MLP : public ScoringModel {
 public:
  // default_stddev: the embeddings' init when shape.init_std is not given.
  MLP(const ModelShape& shape, nn::ParameterFactory& factory, double default_stddev = 0.01);
  Variable forward(const Tensor& users, const Tensor& items) override;
  Variable forward_grouped(const Tensor& users, const Tensor& items, int64_t group) override;
  Variable features(const Tensor& users, const Tensor& items);  // (batch, layers.back())
  std::string type() const override { return "mlp"; }
  std::optional<ItemVectors> item_vectors() const override;  // mlp.item, with a caveat

 private:
  nn::Embedding *user_, *item_;
  nn::MLP* tower_;
  nn::Linear* out_;
};

class NeuMF : public ScoringModel {
 public:
  NeuMF(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  Variable forward_grouped(const Tensor& users, const Tensor& items, int64_t group) override;
  std::string type() const override { return "neumf"; }
  std::optional<ItemVectors> item_vectors() const override;  // the GMF branch's item side

 private:
  nn::Embedding *gmf_user_, *gmf_item_, *mlp_user_, *mlp_item_;
  nn::MLP* tower_;
  nn::Linear* out_;
};

// Dot-product matrix factorisation trained like NCF (logistic loss on sampled negatives), the
// baseline of Rendle, Krichene, Zhang and Anderson, "Neural Collaborative Filtering vs. Matrix
// Factorization Revisited" (2020).
class DotMF : public ScoringModel {
 public:
  DotMF(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  std::string type() const override { return "dot"; }
  std::optional<BilinearFactors> bilinear_factors() const override;
  // The fast path: one step of plain SGD (lr, no momentum) on the logistic loss plus this model's
  // L2 penalty, fused into one pass (tensor/ops/factorization.h); the same update as the autograd
  // graph of forward() and the penalty. Returns the batch loss (1,) before the step.
  Tensor sgd_step(const Tensor& users, const Tensor& items, const Tensor& labels, double lr);

 private:
  nn::Embedding *user_, *item_, *user_bias_, *item_bias_;
  Variable bias_;
};

// iALS's factors W (users, f) and H (items, f) as a model: the trainer solves them in place by
// alternating least squares (recsys/ials.h); scoring is the dot product.
class IalsModel : public ScoringModel {
 public:
  IalsModel(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  std::string type() const override { return "ials"; }
  std::optional<BilinearFactors> bilinear_factors() const override;
  Tensor& user_factors() { return user_->weight().mutable_value(); }
  Tensor& item_factors() { return item_->weight().mutable_value(); }

 private:
  nn::Embedding *user_, *item_;
};

// EASE's item-item weights B (items, items), solved in closed form by the trainer (recsys/ease.h);
// a user's score for item i sums column i of B over the items the user trained on.
class EaseModel : public ScoringModel {
 public:
  EaseModel(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  std::string type() const override { return "ease"; }
  Tensor& weights() { return weights_.mutable_value(); }
  const ops::BinaryCsr& training() const { return train_; }
  // Every item's score for a block of users: (users.size(), items) = X[users] B, one sparse-dense
  // product (recsys/block_scorer.h uses it for full ranking and recommending).
  Tensor block_scores(const std::vector<int32_t>& users) const;

 private:
  Variable weights_;
  ops::BinaryCsr train_;  // (users, items) on the model's device
  std::vector<int64_t> train_offsets_;  // the training rows on the host too, to cut blocks of users from
  std::vector<int32_t> train_items_;
};

class BiasedMF : public ScoringModel {
 public:
  BiasedMF(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  std::string type() const override { return "mf"; }
  std::optional<BilinearFactors> bilinear_factors() const override;

 private:
  nn::Embedding *user_, *item_, *user_bias_, *item_bias_;
  Variable global_mean_;  // a constant: the mean training rating
};

class MLPRegressor : public MLP {
 public:
  MLPRegressor(const ModelShape& shape, nn::ParameterFactory& factory);
  Variable forward(const Tensor& users, const Tensor& items) override;
  std::string type() const override { return "mlp_regressor"; }

 private:
  Variable global_mean_;  // a constant: the mean training rating
};

std::unique_ptr<ScoringModel> make_model(const ModelShape& shape, nn::ParameterFactory& factory);
bool is_explicit_model(const std::string& type);

// NeuMF pre-training (the paper's section 3.4.1): copy the embeddings and the tower from trained
// GMF and MLP parameters (by name), and set the output layer to [alpha h_gmf ; (1 - alpha) h_mlp],
// bias alpha b_gmf + (1 - alpha) b_mlp.
void load_pretrained_neumf(ScoringModel& neumf, const std::map<std::string, Tensor>& gmf,
                           const std::map<std::string, Tensor>& mlp, double alpha);

}  // namespace ncf::recsys
