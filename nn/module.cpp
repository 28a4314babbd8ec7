#include "nn/module.h"

namespace ncf::nn {

Variable Module::register_parameter(const std::string& name, Tensor value) {
  parameters_.emplace_back(name, Variable(std::move(value), /*requires_grad=*/true, name));
  return parameters_.back().second;
}

void Module::collect(const std::string& prefix, std::vector<NamedParameter>& out) const {
  for (const auto& [name, parameter] : parameters_) {
    // An unnamed parameter takes its module's name: Embedding registered as "gmf.user" holds "gmf.user".
    out.emplace_back(name.empty() ? prefix.substr(0, prefix.size() - 1) : prefix + name, parameter);
  }
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<NamedParameter> Module::named_parameters() const {
  std::vector<NamedParameter> out;
  collect("", out);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, parameter] : named_parameters()) out.push_back(parameter);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, parameter] : named_parameters()) count += parameter.value().numel();
  return count;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::set_first_row(int64_t row) {
  first_row_ = row;
  for (auto& [name, child] : children_) child->set_first_row(row);
}

void Module::skip_forward() {
  for (auto& [name, child] : children_) child->skip_forward();
}

void Module::to(Device device) {
  for (auto& [name, parameter] : named_parameters()) {
    if (parameter.device() != device) parameter.mutable_value() = parameter.value().to(device);
  }
}

void Module::zero_grad() {
  for (auto& [name, parameter] : named_parameters()) parameter.zero_grad();
}

}  // namespace ncf::nn
