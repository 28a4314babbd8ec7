// Shape: up to 4 dimensions, stored inline (no heap), printed as "(256, 64)".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>

#include "base/error.h"

namespace ncf {

class Shape {
 public:
  static constexpr int kMaxDims = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    NCF_CHECK(dims.size() <= kMaxDims,
              "a shape has at most " << kMaxDims << " dimensions, got " << dims.size());
    for (int64_t d : dims) {
      NCF_CHECK(d >= 0, "negative dimension " << d << " in a shape");
      dims_[ndim_++] = d;
    }
  }

  int ndim() const { return ndim_; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim_; ++i) n *= dims_[i];
    return n;
  }
  // Dimension i; negative i counts from the end (-1 is the last).
  int64_t operator[](int i) const {
    const int k = i < 0 ? i + ndim_ : i;
    NCF_CHECK(k >= 0 && k < ndim_, "dimension " << i << " out of range for shape " << str());
    return dims_[k];
  }
  void set(int i, int64_t value) {
    NCF_CHECK(i >= 0 && i < ndim_ && value >= 0,
              "cannot set dimension " << i << " of " << str() << " to " << value);
    dims_[i] = value;
  }
  // Product of the dimensions after the first: the length of one row along dimension 0.
  int64_t row_numel() const {
    int64_t n = 1;
    for (int i = 1; i < ndim_; ++i) n *= dims_[i];
    return n;
  }
  bool operator==(const Shape& other) const {
    if (ndim_ != other.ndim_) return false;
    for (int i = 0; i < ndim_; ++i)
      if (dims_[i] != other.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& other) const { return !(*this == other); }

  std::string str() const {
    std::string s = "(";
    for (int i = 0; i < ndim_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + (ndim_ == 1 ? ",)" : ")");
  }

 private:
  int64_t dims_[kMaxDims] = {0, 0, 0, 0};
  int ndim_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << shape.str(); }

}  // namespace ncf
