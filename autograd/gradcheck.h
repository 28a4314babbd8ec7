// gradcheck: compares the gradients that backward() computes with central finite differences,
//   df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),
// in float64 on the CPU, where the difference quotient is accurate to about eps^2 plus rounding.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace ncf::ag {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string first_failure;  // "input 1 element 7: backprop 0.123, finite difference 0.456"
};

// f maps the inputs to a scalar Variable. Inputs must be f64 CPU variables; those with
// requires_grad are checked element by element (|analytic - numeric| <= atol + rtol*|numeric|).
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Variable>& inputs, double eps = 1e-6, double atol = 1e-7,
                          double rtol = 1e-5);

}  // namespace ncf::ag
