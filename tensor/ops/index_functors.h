// The per-index arithmetic of the row-indexing kernels (index.cu), written once for the host and the
// device so that the CPU tests check what a GPU thread computes.
#pragma once

#include <cstdint>

#include "tensor/host_device.h"

namespace ncf::ops {

// The sort key of an index into a table of num_rows rows: the index itself when it is a row, else
// num_rows, one past every row. All bad indices then sort after all good ones into one run, which
// no thread adds anywhere. (Sorting the raw indices by their low bits, as the GPU did before, put
// index 130 of a 100-row table among the 2s: it split their run, and two threads added to row 2.)
NCF_HD int32_t segment_key(int32_t index, int64_t num_rows) {
  return index >= 0 && index < num_rows ? index : static_cast<int32_t>(num_rows);
}

// The number of low bits the radix sort must look at to order keys 0..max_key: sorting only those
// is faster than all 32, and every key of segment_key(., num_rows) fits with max_key = num_rows.
inline int key_bits(int64_t max_key) {
  int bits = 1;
  while (bits < 31 && (int64_t(1) << bits) <= max_key) ++bits;
  return bits;
}

// In a RowSparse an index equal to num_rows marks padding (see index.h); any other index outside
// [0, num_rows) is an error.
NCF_HD bool is_row_padding(int32_t index, int64_t num_rows) { return index == num_rows; }
NCF_HD bool is_row(int32_t index, int64_t num_rows) { return index >= 0 && index < num_rows; }

}  // namespace ncf::ops
