// Random tensors on the GPU: the same functions of (seed, stream, i) as the CPU loops in
// random.cpp (random_uniform_value, random_normal_value, randperm_key in random_functors.h),
// so both devices fill a tensor with the same values.
//   randperm: a kernel writes (key_i, i) pairs, then CUB's radix sort orders them by key. Radix
//   sort is stable and the values start in index order, so equal keys keep ascending indices,
//   the same order as the CPU's sort of (key, index) pairs.
#include <cub/device/device_radix_sort.cuh>

#include "tensor/cuda_context.h"
#include "tensor/ops/random.h"
#include "tensor/ops/random_cuda.h"
#include "tensor/ops/random_functors.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, double low, double high, uint64_t seed, uint32_t stream) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = random_uniform_value<T>(seed, stream, static_cast<uint64_t>(i), low, high);
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, double mean, double stddev, uint64_t seed, uint32_t stream) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = random_normal_value<T>(seed, stream, static_cast<uint64_t>(i), mean, stddev);
}

__global__ void randperm_keys_kernel(uint64_t* keys, int32_t* values, int64_t n, uint64_t seed,
                                     uint32_t stream) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keys[i] = randperm_key(seed, stream, static_cast<uint64_t>(i));
    values[i] = static_cast<int32_t>(i);
  }
}

}  // namespace

void cuda_uniform(Tensor& t, double low, double high, uint64_t seed, uint32_t stream) {
  const int64_t n = t.numel();
  if (n == 0) return;
  NCF_DISPATCH_FLOAT(t.dtype(), "cuda uniform_", [&] {
    uniform_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, cuda_stream(t.device().index)>>>(
        t.data<scalar_t>(), n, low, high, seed, stream);
    NCF_CUDA_LAUNCH_CHECK("uniform_kernel");
  });
}

void cuda_normal(Tensor& t, double mean, double stddev, uint64_t seed, uint32_t stream) {
  const int64_t n = t.numel();
  if (n == 0) return;
  NCF_DISPATCH_FLOAT(t.dtype(), "cuda normal_", [&] {
    normal_kernel<scalar_t><<<cuda_blocks_for(n, kThreads), kThreads, 0, cuda_stream(t.device().index)>>>(
        t.data<scalar_t>(), n, mean, stddev, seed, stream);
    NCF_CUDA_LAUNCH_CHECK("normal_kernel");
  });
}

void cuda_randperm(Tensor& out, uint64_t seed, uint32_t stream) {
  const int64_t n = out.numel();
  const Device device = out.device();
  const cudaStream_t cuda_stream_handle = cuda_stream(device.index);
  // Scratch from the caching allocator: unsorted keys, sorted keys, unsorted values. There is no
  // 64-bit dtype, so the keys live in byte tensors.
  Tensor keys_in = Tensor::empty(Shape{n * 8}, DType::u8, device);
  Tensor keys_out = Tensor::empty(Shape{n * 8}, DType::u8, device);
  Tensor values_in = Tensor::empty(Shape{n}, DType::i32, device);
  auto* keys_in_ptr = static_cast<uint64_t*>(keys_in.raw_data());
  auto* keys_out_ptr = static_cast<uint64_t*>(keys_out.raw_data());

  randperm_keys_kernel<<<cuda_blocks_for(n, kThreads), kThreads, 0, cuda_stream_handle>>>(
      keys_in_ptr, values_in.data<int32_t>(), n, seed, stream);
  NCF_CUDA_LAUNCH_CHECK("randperm_keys_kernel");

  // CUB's usual two calls: the first asks how much scratch the sort needs, the second sorts.
  size_t temp_bytes = 0;
  const int count = static_cast<int>(n);  // randperm.cpp checked n < 2^31
  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in_ptr, keys_out_ptr,
                                                 values_in.data<int32_t>(), out.data<int32_t>(), count, 0, 64,
                                                 cuda_stream_handle));
  Tensor temp =
      Tensor::empty(Shape{static_cast<int64_t>(temp_bytes > 0 ? temp_bytes : 1)}, DType::u8, device);
  NCF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, keys_in_ptr, keys_out_ptr,
                                                 values_in.data<int32_t>(), out.data<int32_t>(), count, 0, 64,
                                                 cuda_stream_handle));
  count_library_call();
}

}  // namespace ncf::ops
