// Column-wise joins and splits, for any dtype (rows are moved as bytes):
//   concat_cols  parts (rows, w_0), (rows, w_1), ...  -> (rows, w_0 + w_1 + ...)
//   split_cols   x (rows, w_0 + w_1 + ...), widths    -> copies (rows, w_0), (rows, w_1), ...
//   repeat_rows  row (d,) or (1, d), rows             -> (rows, d), every row a copy of `row`
// In a row-major matrix each part's slice of a row is one contiguous run of bytes, so the CPU
// version is a memcpy per (row, part); the GPU version (concat.cu) moves all parts in one kernel.
#include "tensor/ops/concat.h"
#include "tensor/cpu_parallel.h"
#include "tensor/ops/concat_cuda.h"

#include <cstring>

namespace ncf::ops {

namespace {

constexpr int64_t kParallelBytes = 1 << 20;  // bytes moved from which OpenMP pays

// Copies between a wide (rows, total) matrix and its parts, column block after column block.
// to_wide: parts -> wide (concat); otherwise wide -> parts (split).
void copy_column_blocks(char* wide, const std::vector<char*>& narrow, const std::vector<size_t>& part_bytes,
                        int64_t rows, bool to_wide) {
  size_t wide_bytes = 0;
  for (size_t b : part_bytes) wide_bytes += b;
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (static_cast <int64_t>(wide_bytes) * rows >= kParallelBytes)
  for (int64_t r = 0; r < rows; ++r) {
    char* wide_row = wide + r * wide_bytes;
    for (size_t p = 0; p < narrow.size(); ++p) {
      if (part_bytes[p] == 0) continue;  // a zero-width part: nothing to move, maybe no memory
      char* part_row = narrow[p] + r * part_bytes[p];
      if (to_wide) {
        std::memcpy(wide_row, part_row, part_bytes[p]);
      } else {
        std::memcpy(part_row, wide_row, part_bytes[p]);
      }
      wide_row += part_bytes[p];
    }
  }
}

}  // namespace

Tensor concat_cols(const std::vector<Tensor>& parts) {
  NCF_CHECK(!parts.empty(), "concat_cols: needs at least one part");
  const Tensor& first = parts[0];
  int64_t width = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const Tensor& part = parts[p];
    NCF_CHECK(part.ndim() == 2, "concat_cols: part " << p << " must be 2-D, got " << part.describe());
    NCF_CHECK(part.dim(0) == first.dim(0) && part.dtype() == first.dtype() && part.device() == first.device(),
              "concat_cols: part " << p << " " << part.describe() << " does not match part 0 "
                                   << first.describe() << " (same rows, dtype and device needed)");
    width += part.dim(1);
  }
  const int64_t rows = first.dim(0);
  Tensor out = Tensor::empty({rows, width}, first.dtype(), first.device());
  if (out.numel() == 0) return out;
  if (out.is_cuda()) {
    NCF_ON_CUDA(cuda_concat_cols(parts, out));
    return out;
  }
  std::vector<char*> narrow;
  std::vector<size_t> part_bytes;
  for (const Tensor& part : parts) {
    narrow.push_back(part.numel() > 0 ? static_cast<char*>(part.raw_data()) : nullptr);
    part_bytes.push_back(static_cast<size_t>(part.dim(1)) * dtype_size(part.dtype()));
  }
  copy_column_blocks(static_cast<char*>(out.raw_data()), narrow, part_bytes, rows, /*to_wide=*/true);
  return out;
}

std::vector<Tensor> split_cols(const Tensor& x, const std::vector<int64_t>& widths) {
  NCF_CHECK(x.ndim() == 2, "split_cols: x must be 2-D, got " << x.describe());
  int64_t total = 0;
  for (int64_t w : widths) {
    NCF_CHECK(w >= 0, "split_cols: negative width " << w);
    total += w;
  }
  NCF_CHECK(total == x.dim(1), "split_cols: widths sum to " << total << " but x " << x.shape() << " has "
                                                            << x.dim(1) << " columns");
  const int64_t rows = x.dim(0);
  std::vector<Tensor> parts;
  for (int64_t w : widths) parts.push_back(Tensor::empty({rows, w}, x.dtype(), x.device()));
  if (x.numel() == 0) return parts;
  if (x.is_cuda()) {
    NCF_ON_CUDA(cuda_split_cols(x, parts));
    return parts;
  }
  std::vector<char*> narrow;
  std::vector<size_t> part_bytes;
  for (const Tensor& part : parts) {
    narrow.push_back(part.numel() > 0 ? static_cast<char*>(part.raw_data()) : nullptr);
    part_bytes.push_back(static_cast<size_t>(part.dim(1)) * dtype_size(part.dtype()));
  }
  copy_column_blocks(static_cast<char*>(x.raw_data()), narrow, part_bytes, rows, /*to_wide=*/false);
  return parts;
}

Tensor repeat_rows(const Tensor& row, int64_t rows) {
  NCF_CHECK(row.ndim() == 1 || (row.ndim() == 2 && row.dim(0) == 1),
            "repeat_rows: row must be (d,) or (1, d), got " << row.describe());
  NCF_CHECK(rows >= 0, "repeat_rows: rows must be >= 0, got " << rows);
  const int64_t d = row.dim(-1);
  Tensor out = Tensor::empty({rows, d}, row.dtype(), row.device());
  if (out.numel() == 0) return out;
  if (out.is_cuda()) {
    NCF_ON_CUDA(cuda_repeat_rows(row, out));
    return out;
  }
  const size_t row_bytes = static_cast<size_t>(d) * dtype_size(row.dtype());
  const char* src = static_cast<const char*>(row.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
#pragma omp parallel for num_threads(::ncf::cpu_threads()) \
    schedule(static) if (static_cast <int64_t>(row_bytes) * rows >= kParallelBytes)
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * row_bytes, src, row_bytes);
  return out;
}

}  // namespace ncf::ops
