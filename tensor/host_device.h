// NCF_HD marks a function that both the host compiler and nvcc compile: __host__ __device__ under
// nvcc, a plain inline function otherwise. The project writes its per-element arithmetic (math,
// random draws, sampling) once this way, so a CPU test exercises exactly what a GPU thread runs.
#pragma once

#if defined(__CUDACC__)
#define NCF_HD __host__ __device__ __forceinline__
#else
#define NCF_HD inline
#endif
