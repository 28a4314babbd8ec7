// Fold-in of a new user (fold_in.h): fresh user rows, fitted by Adam on the given items and sampled
// negatives while every other parameter stays as trained.
#include "recsys/fold_in.h"

#include <algorithm>
#include <map>
#include <set>

#include "autograd/functions.h"
#include "data/epoch_sampler.h"
#include "nn/optim.h"

namespace ncf::recsys {

data::ImplicitDataset new_user_data(const data::ImplicitDataset& run_data,
                                    const std::vector<int32_t>& items) {
  NCF_CHECK(!items.empty(), "new user: no items given");
  const std::set<int32_t> distinct(items.begin(), items.end());
  NCF_CHECK(distinct.size() == items.size(), "new user: an item is given twice");
  NCF_CHECK(*distinct.begin() >= 0 && *distinct.rbegin() < run_data.num_items,
            "new user: item ids must be dense ids below " << run_data.num_items);
  data::ImplicitDataset user;
  user.num_users = 1;
  user.num_items = run_data.num_items;
  user.users = data::IdMap::from_raw_ids({kNewUserRawId});
  user.items = run_data.items;
  user.titles = run_data.titles;
  user.source = run_data.source + " (a new user)";
  user.test_item = {-1};
  user.validation_item = {-1};
  data::build_training_csr(user, std::vector<int32_t>(items.size(), 0), items);
  return user;
}

FoldIn fold_in(const ScoringModel& trained, ModelShape shape, const data::ImplicitDataset& run_data,
               const std::vector<int32_t>& items, const FoldInOptions& options, Device device) {
  NCF_CHECK(options.steps >= 1 && options.lr > 0.0 && options.negatives >= 1,
            "fold-in: steps (" << options.steps << ") and negatives (" << options.negatives
                               << ") must be >= 1 and lr (" << options.lr << ") > 0");
  NCF_CHECK(static_cast<int64_t>(items.size()) < run_data.num_items,
            "fold-in: all " << run_data.num_items << " items are given, so none is left to recommend");
  FoldIn result;
  result.user_data = new_user_data(run_data, items);
  const data::ImplicitDataset& user = result.user_data;

  NCF_CHECK(!trained.user_table_names().empty(),
            "fold-in: the " << trained.type() << " model has no user table to fit (fold-in fits one by gradient steps)");
  // 1. One user, drawn as training draws; everything else copied from the trained model.
  shape.users = 1;
  nn::ParameterFactory factory{device, DType::f32, options.seed, 1};
  result.model = make_model(shape, factory);
  ScoringModel& model = *result.model;
  NCF_CHECK(model.type() == trained.type(),
            "fold-in: the shape builds a " << model.type() << ", the trained model is a " << trained.type());
  const std::vector<std::string> user_tables = model.user_table_names();
  NCF_CHECK(!user_tables.empty(), "fold-in: the " << model.type() << " model has no user table to fit");
  const auto is_user_table = [&](const std::string& name) {
    return std::find(user_tables.begin(), user_tables.end(), name) != user_tables.end();
  };
  std::map<std::string, Tensor> trained_values;
  for (const auto& [name, parameter] : trained.named_parameters()) trained_values[name] = parameter.value();
  std::vector<nn::NamedParameter> fitted;
  for (auto& [name, parameter] : model.named_parameters()) {
    if (is_user_table(name)) {
      fitted.emplace_back(name, parameter);
      continue;
    }
    const auto it = trained_values.find(name);
    NCF_CHECK(it != trained_values.end() && it->second.shape() == parameter.value().shape(),
              "fold-in: the trained " << trained.type() << " has no parameter \"" << name << "\" of shape "
                                      << parameter.value().shape());
    parameter.mutable_value().copy_from(it->second);
  }

  // 2. and 3. Adam on the user rows alone; the frozen parameters' gradients are cleared and never used.
  nn::Adam optimizer(fitted, options.lr);
  data::EpochSampler sampler(user, options.negatives, options.seed, device);
  data::EpochTensors samples;
  model.eval();
  for (int64_t step = 1; step <= options.steps; ++step) {
    sampler.sample(static_cast<uint32_t>(step), samples);
    model.zero_grad();
    const Variable logits = model.forward(samples.users, samples.items);
    const Variable loss = ag::bce_with_logits(logits, samples.labels.view({samples.labels.numel(), 1}));
    Variable objective = loss;
    if (shape.l2 > 0.0) objective = ag::add(loss, model.embedding_penalty(samples.users, samples.items));
    objective.backward();
    optimizer.step();
    if (step == 1) result.first_loss = loss.value().item<float>();
    if (step == options.steps) result.last_loss = loss.value().item<float>();
  }
  model.zero_grad();
  return result;
}

}  // namespace ncf::recsys
