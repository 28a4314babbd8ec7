#include "tensor/tensor.h"

#include <cstring>

#include "tensor/allocator.h"

#ifdef NCF_HAS_CUDA
#include "tensor/cuda_context.h"
#endif

namespace ncf {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  data_ = allocator_for(device).allocate(bytes);
}

Storage::~Storage() { allocator_for(device_).release(data_, bytes_); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::empty_like(const Tensor& like) { return empty(like.shape(), like.dtype(), like.device()); }
Tensor Tensor::zeros_like(const Tensor& like) { return zeros(like.shape(), like.dtype(), like.device()); }

void* Tensor::raw_data() const {
  NCF_CHECK(defined(), "use of an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  NCF_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
            "from_vector: " << values.size() << " values do not fill shape " << shape);
  Tensor t = empty(shape, dtype_of<T>, device);
  copy_bytes(t.raw_data(), device, values.data(), Device::cpu(), values.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  NCF_CHECK(dtype_of<T> == dtype_, "to_vector<" << dtype_name(dtype_of<T>) << "> of " << describe());
  std::vector<T> values(static_cast<size_t>(numel()));
  if (!values.empty()) copy_bytes(values.data(), Device::cpu(), raw_data(), device(), nbytes());
  return values;
}

template <class T>
T Tensor::item() const {
  NCF_CHECK(numel() == 1, "item() needs a one-element tensor, got " << describe());
  return to_vector<T>()[0];
}

#define NCF_INSTANTIATE(T)                                                             \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, const Shape&, Device); \
  template std::vector<T> Tensor::to_vector<T>() const;                                \
  template T Tensor::item<T>() const;
NCF_INSTANTIATE(float)
NCF_INSTANTIATE(double)
NCF_INSTANTIATE(int32_t)
NCF_INSTANTIATE(uint8_t)
#undef NCF_INSTANTIATE

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  NCF_CHECK(defined() && ndim() >= 1, "rows() of " << describe());
  NCF_CHECK(0 <= begin && begin <= end && end <= dim(0),
            "rows [" << begin << ", " << end << ") out of range for " << describe());
  Tensor t = *this;
  t.offset_ += begin * shape_.row_numel();
  t.shape_.set(0, end - begin);
  return t;
}

Tensor Tensor::view(const Shape& shape) const {
  NCF_CHECK(shape.numel() == numel(), "view: cannot see " << describe() << " as shape " << shape);
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::clone() const { return to(device()); }

Tensor Tensor::to(Device target) const {
  Tensor t = empty(shape_, dtype_, target);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  NCF_CHECK(shape_ == src.shape_ && dtype_ == src.dtype_,
            "copy_from: destination " << describe() << " and source " << src.describe() << " differ");
  if (nbytes() > 0) copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
}

void Tensor::zero_() {
  if (nbytes() == 0) return;
  if (device().is_cpu()) {
    std::memset(raw_data(), 0, nbytes());
    return;
  }
#ifdef NCF_HAS_CUDA
  NCF_CUDA_CHECK(cudaMemsetAsync(raw_data(), 0, nbytes(), cuda_stream(device().index)));
  count_memory_op();
#endif
}

std::string Tensor::describe() const {
  if (!defined()) return "Tensor(undefined)";
  return std::string("Tensor(") + dtype_name(dtype_) + ", " + shape_.str() + ", " + device().str() + ")";
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef NCF_HAS_CUDA
  const int index = dst_device.is_cuda() ? dst_device.index : src_device.index;
  NCF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, cuda_stream(index)));
  count_memory_op();
  if (dst_device.is_cpu())
    cuda_synchronize(index);  // the host reads dst right after
  else if (src_device.is_cpu())
    cuda_synchronize(index);  // src may be a temporary host buffer
#else
  NCF_FAIL("copy between " << src_device.str() << " and " << dst_device.str() << ": this build has no CUDA");
#endif
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  NCF_CHECK(a.shape() == b.shape(), op << ": shapes differ, " << a.describe() << " vs " << b.describe());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  NCF_CHECK(a.device() == b.device(),
            op << ": tensors on different devices, " << a.describe() << " vs " << b.describe());
}

void check_dtype(const Tensor& t, DType dtype, const char* op, const char* argument) {
  NCF_CHECK(t.dtype() == dtype,
            op << ": " << argument << " must be " << dtype_name(dtype) << ", got " << t.describe());
}

void synchronize(Device device) {
#ifdef NCF_HAS_CUDA
  if (device.is_cuda()) cuda_synchronize(device.index);
#endif
}

}  // namespace ncf
