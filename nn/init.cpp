#include "nn/init.h"

#include <cmath>

#include "tensor/ops/random.h"

namespace ncf::nn {

Init parse_init(const std::string& name) {
  if (name == "normal") return Init::normal;
  if (name == "xavier_uniform") return Init::xavier_uniform;
  if (name == "lecun_uniform") return Init::lecun_uniform;
  if (name == "zeros") return Init::zeros;
  NCF_FAIL("unknown initializer '" << name << "': expected normal, xavier_uniform, lecun_uniform or zeros");
}

void initialize(Tensor& weight, Init init, uint64_t seed, uint32_t stream, double stddev) {
  const double fan_in = weight.ndim() >= 1 ? static_cast<double>(weight.dim(0)) : 1.0;
  const double fan_out = weight.ndim() >= 2 ? static_cast<double>(weight.dim(1)) : 1.0;
  switch (init) {
    case Init::normal:
      ops::normal_(weight, 0.0, stddev, seed, stream);
      break;
    case Init::xavier_uniform: {
      const double bound = std::sqrt(6.0 / (fan_in + fan_out));
      ops::uniform_(weight, -bound, bound, seed, stream);
      break;
    }
    case Init::lecun_uniform: {
      const double bound = std::sqrt(3.0 / fan_in);
      ops::uniform_(weight, -bound, bound, seed, stream);
      break;
    }
    case Init::zeros:
      weight.zero_();
      break;
  }
}

}  // namespace ncf::nn
