// Random tensors, CPU side and dispatch. Element i of every draw is a pure function of
// (seed, stream, i) through Philox4x32-10 (tensor/philox.h), so the CPU loop here and the CUDA
// grid in random.cu produce the same values, whatever the thread count or launch shape.
//   uniform_(t, low, high): f32: low + (high - low) * u with u from 24 bits; f64: u from 53 bits.
//   normal_(t, mean, std):  mean + std * z, z by Box-Muller (philox_normal; a 53-bit version for f64).
//   randperm(n):            (n,) i32: 0..n-1 ordered by a 64-bit random key each (ties: by index).
#include "tensor/ops/random.h"
#include "tensor/ops/random_cuda.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "tensor/cpu_parallel.h"
#include "tensor/ops/random_functors.h"

namespace ncf::ops {

namespace {

void check_random_target(const Tensor& t, const char* op) {
  NCF_CHECK(t.defined(), op << ": undefined tensor");
  NCF_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64,
            op << ": expects f32 or f64, got " << t.describe());
}

// t[i] = value(i), in chunks (each element depends on i only, so any split gives the same values).
template <class T, class ValueFn>
void cpu_generate(Tensor& t, ValueFn value) {
  T* p = t.data<T>();
  cpu_for_chunks(t.numel(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) p[i] = value(static_cast<uint64_t>(i));
  });
}

}  // namespace

void uniform_(Tensor& t, double low, double high, uint64_t seed, uint32_t stream) {
  check_random_target(t, "uniform_");
  NCF_CHECK(low <= high, "uniform_: low " << low << " is above high " << high);
  if (t.is_cuda()) return NCF_ON_CUDA(cuda_uniform(t, low, high, seed, stream));
  NCF_DISPATCH_FLOAT(t.dtype(), "uniform_", [&] {
    cpu_generate<scalar_t>(
        t, [&](uint64_t i) { return random_uniform_value<scalar_t>(seed, stream, i, low, high); });
  });
}

void normal_(Tensor& t, double mean, double stddev, uint64_t seed, uint32_t stream) {
  check_random_target(t, "normal_");
  NCF_CHECK(stddev >= 0.0, "normal_: stddev must be non-negative, got " << stddev);
  if (t.is_cuda()) return NCF_ON_CUDA(cuda_normal(t, mean, stddev, seed, stream));
  NCF_DISPATCH_FLOAT(t.dtype(), "normal_", [&] {
    cpu_generate<scalar_t>(
        t, [&](uint64_t i) { return random_normal_value<scalar_t>(seed, stream, i, mean, stddev); });
  });
}

Tensor randperm(int64_t n, uint64_t seed, uint32_t stream, Device device) {
  NCF_CHECK(n >= 0 && n <= std::numeric_limits<int32_t>::max(),
            "randperm: n must lie in [0, 2^31 - 1] (the result is i32), got " << n);
  Tensor out = Tensor::empty(Shape{n}, DType::i32, device);
  if (n == 0) return out;
  if (device.is_cuda()) {
    NCF_ON_CUDA(cuda_randperm(out, seed, stream));
    return out;
  }
  // Sorting (key, index) pairs: keys are distinct with overwhelming probability, and the index
  // settles the rare tie exactly as the GPU's stable radix sort does.
  std::vector<std::pair<uint64_t, int32_t>> keyed(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    keyed[i] = {randperm_key(seed, stream, static_cast<uint64_t>(i)), static_cast<int32_t>(i)};
  std::sort(keyed.begin(), keyed.end());
  int32_t* p = out.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = keyed[i].second;
  return out;
}

}  // namespace ncf::ops
