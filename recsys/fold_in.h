// Fold-in: recommendations for a user the model has never seen, from the items they interacted with,
// without retraining. The new user gets fresh rows in every user table (GMF: gmf.user; MLP: mlp.user;
// NeuMF: gmf.user and mlp.user) and only those rows are fitted:
//   1. a model for one user is built from the run's shape (make_model, the run's seed: its user rows
//      are drawn N(0, 0.01^2) as training draws them), and every other parameter is copied from the
//      trained model and never updated: frozen;
//   2. each of `steps` Adam steps sees one epoch of data::EpochSampler over a one-user data set: the
//      given items as positives (label 1) and `negatives` fresh items per positive (label 0) drawn
//      uniformly from the items the user did not give (Philox, so the same for a seed on either
//      device), shuffled: (1 + negatives) x items rows a step;
//   3. the loss is training's: binary cross-entropy on the logits (plus the embedding penalty when the
//      run trained with model.l2). The model runs in evaluation mode (no dropout), the network that
//      will score the user.
// Deterministic for a seed. Why the learning rate is much larger than training's 1e-3: a step moves
// each coordinate by about lr, the trained user rows are of order 1, and fold-in takes ~100 steps,
// not the thousands of steps a user row sees in training.
#pragma once

#include <memory>
#include <vector>

#include "data/implicit_dataset.h"
#include "recsys/models.h"

namespace ncf::recsys {

struct FoldInOptions {
  int64_t steps = 100;
  double lr = 0.05;
  int negatives = 4;  // per given item and step (training's train.negatives)
  uint64_t seed = 42;
};

// The raw id ids.json would never hold for the folded-in user (a placeholder in its one-user data set).
constexpr int64_t kNewUserRawId = -1;

struct FoldIn {
  // One user (dense id 0, raw id kNewUserRawId) whose training items are the given ones, with the
  // run's item ids, titles and catalogue: what recommend() needs to leave the given items out.
  data::ImplicitDataset user_data;
  std::unique_ptr<ScoringModel> model;       // one user; every other parameter the trained model's
  double first_loss = 0.0, last_loss = 0.0;  // mean loss of the first and of the last step
};

// The one-user data set of FoldIn::user_data: `items` (dense ids of `run_data`, distinct) as the
// user's training items, the run's item ids, titles and catalogue.
data::ImplicitDataset new_user_data(const data::ImplicitDataset& run_data, const std::vector<int32_t>& items);

// `items`: dense item ids of `run_data`, distinct, fewer than the whole catalogue (negatives must be
// left to draw). `shape`: the run's model shape (its user count is ignored).
FoldIn fold_in(const ScoringModel& trained, ModelShape shape, const data::ImplicitDataset& run_data,
               const std::vector<int32_t>& items, const FoldInOptions& options, Device device);

}  // namespace ncf::recsys
