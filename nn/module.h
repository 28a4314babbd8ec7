// Module: a piece of a model that owns named parameters and sub-modules.
// Names are dotted paths ("mlp.0.weight"), the keys under which checkpoints store the tensors.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"

namespace ncf::nn {

using ag::Variable;
using NamedParameter = std::pair<std::string, Variable>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, in registration order, with dotted names.
  std::vector<NamedParameter> named_parameters() const;
  std::vector<Variable> parameters() const;
  int64_t parameter_count() const;

  // Training mode turns dropout on; evaluation mode turns it off.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Data-parallel training (recsys/distributed.h) runs each forward on a slice of a global batch.
  // Randomness drawn per row (dropout masks) must then be the single process's for those rows:
  // set_first_row tells every module where the next forwards' rows start in the global batch, and
  // skip_forward stands for a forward this process does not run (its slice is empty), moving the
  // random streams on as that forward would have.
  void set_first_row(int64_t row);
  virtual void skip_forward();

  // Moves every parameter to `device` (a copy; the old tensors are released).
  void to(Device device);
  void zero_grad();

 protected:
  int64_t first_row() const { return first_row_; }
  // Returns a handle sharing the registered parameter (Variables are shared handles).
  Variable register_parameter(const std::string& name, Tensor value);
  template <class M>
  M& register_module(const std::string& name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.emplace_back(name, std::move(module));
    return ref;
  }

 private:
  void collect(const std::string& prefix, std::vector<NamedParameter>& out) const;

  std::vector<NamedParameter> parameters_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
  int64_t first_row_ = 0;
};

}  // namespace ncf::nn
