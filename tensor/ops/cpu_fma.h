// mul_add(a, b, c) = a*b + c as one fused multiply-add where the CPU has one (the build uses strict
// ISO C++, so the compiler does not fuse `a*b + c` on its own); both forms vectorise. One definition
// for the CPU GEMM (matmul.cpp) and the linear-algebra loops (linalg.cpp), so their products round
// alike.
#pragma once

#include <cmath>

namespace ncf::ops {

template <class T>
inline T mul_add(T a, T b, T c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

}  // namespace ncf::ops
