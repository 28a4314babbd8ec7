// A communicator for unit tests of the gradient exchange (recsys/distributed.h): it pretends to be
// rank 0 of two whose partner sends exactly what this rank sends, so every gathered block appears
// twice and every sum doubles. sum_gradients must then give twice each gradient, in the right
// parameter, whatever the mix of dense and row-sparse ones.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "recsys/distributed.h"

namespace ncf::test {

class MirrorCommunicator : public recsys::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string describe() const override { return "mirror"; }
  void allreduce_sum(float* data, int64_t count) override {
    for (int64_t i = 0; i < count; ++i) data[i] *= 2;
  }
  void allreduce_sum(double* data, int64_t count) override {
    for (int64_t i = 0; i < count; ++i) data[i] *= 2;
  }
  void allgather(const int64_t* data, int64_t count, int64_t* out) override {
    for (int r = 0; r < 2; ++r) std::copy(data, data + count, out + r * count);
  }
  void allgatherv(const int32_t* data, const std::vector<int64_t>& counts, int32_t* out) override {
    REQUIRE(counts[0] == counts[1]);
    for (int r = 0; r < 2; ++r) std::copy(data, data + counts[0], out + r * counts[0]);
  }
  void allgatherv(const float* data, const std::vector<int64_t>& counts, float* out) override {
    REQUIRE(counts[0] == counts[1]);
    for (int r = 0; r < 2; ++r) std::copy(data, data + counts[0], out + r * counts[0]);
  }
  void barrier() override {}
  void abort(int) override {
    FAIL("abort");
    std::abort();
  }
};

}  // namespace ncf::test
