// Device names: what --device and train.device accept, and the errors for what they do not.
#include <doctest/doctest.h>

#include "tensor/device.h"

namespace ncf {

TEST_CASE("parse_device: cpu, auto, and named errors for malformed or absent GPUs") {
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK((parse_device("auto") == Device::cpu()) == !cuda_available());
  for (const char* bad : {"cuda:x", "cuda:", "cuda:1.5", "cuda:-1", "gpu"})
    CHECK_THROWS_WITH_AS(parse_device(bad), doctest::Contains("unknown device"), Error);
  if (!cuda_available())
    CHECK_THROWS_WITH_AS(parse_device("cuda:0"), doctest::Contains("no GPU answers"), Error);
}

}  // namespace ncf
