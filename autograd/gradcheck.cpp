#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

namespace ncf::ag {

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Variable>& inputs, double eps, double atol, double rtol) {
  for (const Variable& input : inputs) {
    NCF_CHECK(input.value().dtype() == DType::f64 && input.device().is_cpu(),
              "gradcheck needs f64 CPU inputs, got " << input.value().describe());
  }
  // Analytic gradients from one backward pass.
  for (const Variable& input : inputs) const_cast<Variable&>(input).zero_grad();
  f(inputs).backward();
  std::vector<Tensor> analytic;
  for (const Variable& input : inputs)
    analytic.push_back(input.requires_grad() ? input.dense_grad() : Tensor());

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    double* x = inputs[k].value().data<double>();
    const double* grad = analytic[k].data<double>();
    for (int64_t i = 0; i < inputs[k].value().numel(); ++i) {
      const double saved = x[i];
      x[i] = saved + eps;
      const double f_plus = f(inputs).value().item<double>();
      x[i] = saved - eps;
      const double f_minus = f(inputs).value().item<double>();
      x[i] = saved;
      const double numeric = (f_plus - f_minus) / (2.0 * eps);
      const double error = std::fabs(grad[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (!(error <= atol + rtol * std::fabs(numeric)) && result.ok) {
        result.ok = false;
        std::ostringstream message;
        message << "input " << k << " (" << inputs[k].name() << ") element " << i << ": backprop " << grad[i]
                << ", finite difference " << numeric;
        result.first_failure = message.str();
      }
    }
  }
  return result;
}

}  // namespace ncf::ag
