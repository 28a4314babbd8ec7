// Column-wise joins and splits on the GPU (shapes in concat.h), for any dtype.
//
// One kernel moves up to kMaxParts parts at once: each thread takes one word of the wide matrix
// (row r, word w), finds which part's column block holds w, and copies between the two places.
// Threads next to each other touch neighbouring words on both sides, so the accesses coalesce.
// A "word" is the widest of 16, 8, 4, 2 or 1 bytes that divides every row length and address
// involved, so f32 rows of width 8 move as two 16-byte words rather than eight 4-byte ones.
#include <algorithm>
#include <vector>

#include "tensor/cuda_context.h"
#include "tensor/ops/concat.h"
#include "tensor/ops/concat_cuda.h"

namespace ncf::ops {

namespace {

constexpr int kThreads = 256;
constexpr int kMaxParts = 8;  // parts handled per launch (passed by value as a kernel argument)

// Where the parts of one launch sit: part p's rows are `words[p]` words long and occupy words
// [offset[p], offset[p] + words[p]) of the launch's span of each wide row.
struct ColumnBlocks {
  char* narrow[kMaxParts];
  int64_t words[kMaxParts];
  int64_t offset[kMaxParts];
  int count = 0;
};

// to_wide: wide[r, first + w] = part[r, w - offset]; otherwise the reverse.
template <class Word, bool kToWide>
__global__ void copy_columns_kernel(Word* wide, int64_t wide_words, int64_t first, int64_t span, int64_t rows,
                                    ColumnBlocks blocks) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < rows * span;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / span, w = e % span;
    int p = 0;
    while (w >= blocks.offset[p] + blocks.words[p]) ++p;  // at most kMaxParts steps
    Word* part = reinterpret_cast<Word*>(blocks.narrow[p]) + r * blocks.words[p] + (w - blocks.offset[p]);
    Word* whole = wide + r * wide_words + first + w;
    if (kToWide) {
      *whole = *part;
    } else {
      *part = *whole;
    }
  }
}

bool divides_all(int word, const std::vector<size_t>& sizes, const std::vector<const void*>& pointers) {
  for (size_t s : sizes)
    if (s % word != 0) return false;
  for (const void* ptr : pointers)
    if (reinterpret_cast<uintptr_t>(ptr) % word != 0) return false;
  return true;
}

int widest_word(const std::vector<size_t>& sizes, const std::vector<const void*>& pointers) {
  for (int word : {16, 8, 4, 2})
    if (divides_all(word, sizes, pointers)) return word;
  return 1;
}

template <class Word, bool kToWide>
void launch_copy_columns(const Tensor& wide, const std::vector<Tensor>& parts) {
  const int64_t rows = wide.dim(0);
  const int64_t wide_words = wide.dim(1) * static_cast<int64_t>(dtype_size(wide.dtype())) / sizeof(Word);
  const cudaStream_t stream = cuda_stream(wide.device().index);
  int64_t first = 0;  // first word of the current launch within a wide row
  size_t p = 0;
  while (p < parts.size()) {
    ColumnBlocks blocks;
    int64_t span = 0;
    for (; p < parts.size() && blocks.count < kMaxParts; ++p) {
      const int64_t words =
          parts[p].dim(1) * static_cast<int64_t>(dtype_size(parts[p].dtype())) / sizeof(Word);
      if (words == 0) continue;  // zero-width parts hold nothing
      blocks.narrow[blocks.count] = static_cast<char*>(parts[p].raw_data());
      blocks.words[blocks.count] = words;
      blocks.offset[blocks.count] = span;
      ++blocks.count;
      span += words;
    }
    if (span == 0) break;
    copy_columns_kernel<Word, kToWide><<<cuda_blocks_for(rows * span, kThreads), kThreads, 0, stream>>>(
        static_cast<Word*>(wide.raw_data()), wide_words, first, span, rows, blocks);
    NCF_CUDA_LAUNCH_CHECK("copy_columns_kernel");
    first += span;
  }
}

template <bool kToWide>
void copy_columns(const Tensor& wide, const std::vector<Tensor>& parts) {
  std::vector<size_t> sizes{static_cast<size_t>(wide.dim(1)) * dtype_size(wide.dtype())};
  std::vector<const void*> pointers{wide.raw_data()};
  for (const Tensor& part : parts) {
    if (part.numel() == 0) continue;
    sizes.push_back(static_cast<size_t>(part.dim(1)) * dtype_size(part.dtype()));
    pointers.push_back(part.raw_data());
  }
  switch (widest_word(sizes, pointers)) {
    case 16:
      launch_copy_columns<uint4, kToWide>(wide, parts);
      break;
    case 8:
      launch_copy_columns<uint2, kToWide>(wide, parts);
      break;
    case 4:
      launch_copy_columns<uint32_t, kToWide>(wide, parts);
      break;
    case 2:
      launch_copy_columns<uint16_t, kToWide>(wide, parts);
      break;
    default:
      launch_copy_columns<uint8_t, kToWide>(wide, parts);
      break;
  }
}

// out[r, w] = row[w]
template <class Word>
__global__ void repeat_rows_kernel(const Word* row, int64_t row_words, int64_t total, Word* out) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    out[e] = row[e % row_words];
}

template <class Word>
void launch_repeat(const Tensor& row, Tensor& out) {
  const int64_t row_words = out.dim(1) * static_cast<int64_t>(dtype_size(out.dtype())) / sizeof(Word);
  const int64_t total = out.dim(0) * row_words;
  repeat_rows_kernel<Word>
      <<<cuda_blocks_for(total, kThreads), kThreads, 0, cuda_stream(out.device().index)>>>(
          static_cast<const Word*>(row.raw_data()), row_words, total, static_cast<Word*>(out.raw_data()));
  NCF_CUDA_LAUNCH_CHECK("repeat_rows_kernel");
}

}  // namespace

void cuda_concat_cols(const std::vector<Tensor>& parts, Tensor& out) { copy_columns<true>(out, parts); }

void cuda_split_cols(const Tensor& x, std::vector<Tensor>& parts) { copy_columns<false>(x, parts); }

void cuda_repeat_rows(const Tensor& row, Tensor& out) {
  switch (widest_word({static_cast<size_t>(out.dim(1)) * dtype_size(out.dtype())},
                      {row.raw_data(), out.raw_data()})) {
    case 16:
      launch_repeat<uint4>(row, out);
      break;
    case 8:
      launch_repeat<uint2>(row, out);
      break;
    case 4:
      launch_repeat<uint32_t>(row, out);
      break;
    case 2:
      launch_repeat<uint16_t>(row, out);
      break;
    default:
      launch_repeat<uint8_t>(row, out);
      break;
  }
}

}  // namespace ncf::ops
