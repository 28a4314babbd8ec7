// sum_gradients on the GPU (recsys/distributed.h): the device path that NCCL runs, checked without
// NCCL or MPI. The mirror communicator (tests/distributed/mirror_communicator.h: rank 0 of two whose
// partner sends what this rank sends) gets device collectives done by copies: every gathered block
// appears twice and every sum doubles. The result must be twice the CPU's gradient of the same graph, bit for
// bit (doubling is exact), whatever the padding of the GPU's row-sparse gradients.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/functions.h"
#include "recsys/distributed.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/index.h"
#include "tests/distributed/mirror_communicator.h"

namespace ncf {
namespace {

const Device kGpu = Device::cuda(0);

// The host mirror plus device collectives done by copies; the device path must not gather on the host.
class DeviceMirror : public test::MirrorCommunicator {
 public:
  std::string describe() const override { return "device mirror"; }
  void allgatherv(const int32_t*, const std::vector<int64_t>&, int32_t*) override {
    FAIL("the device path must not gather on the host");
  }
  void allgatherv(const float*, const std::vector<int64_t>&, float*) override {
    FAIL("the device path must not gather on the host");
  }

  bool use_device(Device device) override { return device.is_cuda(); }
  bool has_device_collectives() const override { return true; }
  void device_allreduce_sum(Tensor& values) override {
    REQUIRE(values.is_cuda());
    ops::axpy_(values, 1.0, values.clone());
    ++device_calls;
  }
  void device_allgather(const Tensor& mine, Tensor& all) override {
    REQUIRE(mine.is_cuda());
    REQUIRE(all.numel() == 2 * mine.numel());
    Tensor blocks = all.view({2, mine.numel()});
    for (int r = 0; r < 2; ++r) blocks.rows(r, r + 1).copy_from(mine.view({1, mine.numel()}));
    ++device_calls;
  }
  int device_calls = 0;
};

// The test graph of test_distributed's host case: two tables with row-sparse gradients of different
// widths (a repeated row in each), a dense weight, and a parameter without any gradient.
struct Graph {
  ag::Variable users, items, weight, unused;
  explicit Graph(Device device) {
    users =
        ag::Variable(Tensor::from_vector(std::vector<float>(5 * 3, 0.5f), {5, 3}).to(device), true, "users");
    items =
        ag::Variable(Tensor::from_vector(std::vector<float>(4 * 2, 0.25f), {4, 2}).to(device), true, "items");
    weight =
        ag::Variable(Tensor::from_vector(std::vector<float>{1, 2, 3}, {3, 1}).to(device), true, "weight");
    unused = ag::Variable(Tensor::from_vector(std::vector<float>{7}, {1}).to(device), true, "unused");
    users.set_sparse_gradient(true);
    items.set_sparse_gradient(true);
    const Tensor u = Tensor::from_vector(std::vector<int32_t>{4, 1, 4}, {3}).to(device);
    const Tensor i = Tensor::from_vector(std::vector<int32_t>{2, 0, 2}, {3}).to(device);
    const ag::Variable ue = ag::embedding(users, u), ie = ag::embedding(items, i);
    const ag::Variable no_bias(Tensor::zeros({1}, DType::f32, device));
    const ag::Variable score = ag::add(ag::linear(ue, weight, no_bias), ag::sum_cols(ie));
    ag::sum(ag::mul(score, score)).backward();
  }
  std::vector<nn::NamedParameter> parameters() const {
    return {{"users", users}, {"items", items}, {"weight", weight}, {"unused", unused}};
  }
};

std::vector<float> twice(std::vector<float> v) {
  for (float& x : v) x *= 2;
  return v;
}

}  // namespace

TEST_CASE("cuda sum_gradients on the device: dense all-reduced, padded row-sparse gathered and summed") {
  const Graph cpu(Device::cpu()), gpu(kGpu);
  DeviceMirror mirror;
  recsys::sum_gradients(mirror, gpu.parameters());
  CHECK(mirror.device_calls == 1 + 2 * 2);  // one all-reduce; indices and rows of each table
  // The GPU's gradients are padded (capacity 3 for 2 unique rows); the sum keeps the padding rule.
  for (const auto& [name, host, device] : std::vector<std::tuple<const char*, ag::Variable, ag::Variable>>{
           {"users", cpu.users, gpu.users}, {"items", cpu.items, gpu.items}}) {
    INFO(name);
    REQUIRE(device.sparse_grad().indices.defined());
    CHECK(device.sparse_grad().indices.is_cuda());
    CHECK(ops::to_dense(device.sparse_grad()).to_vector<float>() ==
          twice(ops::to_dense(host.sparse_grad()).to_vector<float>()));
  }
  REQUIRE(gpu.weight.grad().defined());
  CHECK(gpu.weight.grad().is_cuda());
  CHECK(gpu.weight.grad().to_vector<float>() == twice(cpu.weight.grad().to_vector<float>()));
  CHECK(!gpu.unused.has_grad());
}

}  // namespace ncf
