// Tensor: a typed, contiguous, up-to-4-D array on the CPU or a GPU.
//
// Memory is a reference-counted Storage block from the device's caching allocator; a Tensor is
// (storage, element offset, shape, dtype). Copying a Tensor object copies the handle, not the
// data: `rows(b, e)` and `view(shape)` are views sharing storage, and the only deep copies are the
// explicit `clone()`, `to(device)` and `copy_from()`. Element access from the host is allowed only
// on CPU tensors; data on a GPU comes back through to_vector()/item(), which synchronise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace ncf {

// A block of device memory owned by exactly one Storage; it cannot be copied by accident.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() is false

  // Uninitialised memory from the device's caching allocator.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  // A tensor with the same shape, dtype and device as `like`.
  static Tensor empty_like(const Tensor& like);
  static Tensor zeros_like(const Tensor& like);

  // From host values (copied), placed on `device`.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  // To host values (synchronises when on a GPU).
  template <class T>
  std::vector<T> to_vector() const;
  // The single value of a one-element tensor, on the host.
  template <class T>
  T item() const;

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  // Typed pointer to the first element; checks that T matches the dtype.
  template <class T>
  T* data() const {
    NCF_CHECK(dtype_of<T> == dtype_, "tensor of dtype " << dtype_name(dtype_) << " accessed as "
                                                        << dtype_name(dtype_of<T>) << " " << describe());
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Rows [begin, end) along dimension 0, sharing storage (no copy).
  Tensor rows(int64_t begin, int64_t end) const;
  // The same elements seen with another shape of equal numel (no copy).
  Tensor view(const Shape& shape) const;

  // Deep copies.
  Tensor clone() const;
  Tensor to(Device device) const;
  // Copies src's elements into this tensor (same shape and dtype; devices may differ).
  void copy_from(const Tensor& src);
  // Sets every element to zero (memset / cudaMemsetAsync).
  void zero_();

  // "Tensor(f32, (256, 64), cuda:0)": what error messages print.
  std::string describe() const;

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::f32;
};

// Copies raw bytes between any two devices (synchronous when the destination is the host).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

// Throws "op: shapes differ, a (2, 3) vs b (3, 2)" when a and b disagree in shape.
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_dtype(const Tensor& t, DType dtype, const char* op, const char* argument);
// Synchronises the device's stream (no-op on the CPU): timing and host reads need it.
void synchronize(Device device);

}  // namespace ncf
