// Element types a Tensor can hold: f32 for models, f64 for gradient checks (CPU and GPU),
// i32 for user/item ids and indices, u8 for masks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/error.h"

namespace ncf {

enum class DType : uint8_t { f32, f64, i32, u8 };

constexpr size_t dtype_size(DType dtype) {
  return dtype == DType::f32 ? 4 : dtype == DType::f64 ? 8 : dtype == DType::i32 ? 4 : 1;
}

constexpr const char* dtype_name(DType dtype) {
  return dtype == DType::f32 ? "f32" : dtype == DType::f64 ? "f64" : dtype == DType::i32 ? "i32" : "u8";
}

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::u8;
};

template <class T>
constexpr DType dtype_of = DTypeOf<T>::value;

// Calls fn(T{}) with T the C++ type of a floating dtype (f32 or f64); anything else is an error.
#define NCF_DISPATCH_FLOAT(dtype, what, ...)                                        \
  [&] {                                                                             \
    switch (dtype) {                                                                \
      case ::ncf::DType::f32: {                                                     \
        using scalar_t = float;                                                     \
        return __VA_ARGS__();                                                       \
      }                                                                             \
      case ::ncf::DType::f64: {                                                     \
        using scalar_t = double;                                                    \
        return __VA_ARGS__();                                                       \
      }                                                                             \
      default:                                                                      \
        NCF_FAIL(what << ": expects f32 or f64, got " << ::ncf::dtype_name(dtype)); \
    }                                                                               \
  }()

// Calls fn(T{}) with T the C++ type of any dtype: fill_ and cast work on all four.
template <class Fn>
auto dispatch_any_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
    case DType::i32:
      return fn(int32_t{});
    case DType::u8:
      return fn(uint8_t{});
  }
  return fn(float{});  // not reached: every dtype is listed above
}

}  // namespace ncf
