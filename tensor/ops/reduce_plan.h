// How the GPU cuts a sum along one axis into blocks (reduce.cu), as plain host arithmetic that the
// CPU tests check. The tensor is seen as (outer, len, inner) and summed over len. Every number here
// is a function of the shape alone, never of the GPU, so one shape is always summed in the same
// order: the same bits run after run, and on any GPU model.
//
//   Row sums (inner == 1, len <= kWarpRowMaxLen): one warp per row, a fixed shuffle tree.
//   Everything else: a column sum in two passes.
//     pass 1: the len rows are cut into `chunks` chunks of chunk_rows rows; block (o, chunk, tile)
//             sums its chunk for `tile` neighbouring columns. Thread t takes column t % tile and
//             rows lane, lane + lanes, ... of the chunk (lane = t / tile), in order, in double; then
//             a fixed tree over the lanes. A warp reads 32 neighbouring values (one row of 32
//             columns, or several whole rows of a narrow tensor): coalesced.
//     pass 2: one warp per output adds its column's chunk partials, lane l taking chunks l, l + 32,
//             ..., then a fixed shuffle tree. With one chunk, pass 1 writes the result itself.
// Before this split a column sum had one thread walk every row: at batch 2^20 and 256 columns that
// is 256 threads reading a GiB one row at a time (~100 ms); now it is thousands of blocks.
#pragma once

#include <cstdint>

namespace ncf::ops {

constexpr int64_t kWarpRowMaxLen = 2048;          // longer rows take the two-pass path
constexpr int64_t kColumnSumRowsPerThread = 32;   // a chunk gives every thread at least this many rows
constexpr int64_t kColumnSumMaxChunks = 1024;     // partials per column, at most
constexpr int64_t kColumnSumTargetBlocks = 4096;  // pass-1 blocks wanted: a few waves on any current GPU

struct ColumnSumPlan {
  int tile = 1;            // columns per block: inner rounded up to a power of two, at most 32
  int lanes = 1;           // threads per column: threads / tile
  int64_t tiles = 1;       // column tiles per outer index: ceil(inner / tile)
  int64_t chunk_rows = 0;  // rows of the summed axis per block
  int64_t chunks = 1;      // chunks along the summed axis; 1: a single pass
};

inline bool use_warp_per_row(int64_t len, int64_t inner) { return inner == 1 && len <= kWarpRowMaxLen; }

// `threads`: threads per block, a power of two >= 32.
inline ColumnSumPlan column_sum_plan(int64_t outer, int64_t len, int64_t inner, int threads) {
  ColumnSumPlan plan;
  while (plan.tile < 32 && plan.tile < inner) plan.tile *= 2;
  plan.lanes = threads / plan.tile;
  plan.tiles = (inner + plan.tile - 1) / plan.tile;
  // As many chunks as keep every thread busy for kColumnSumRowsPerThread rows, no more than the
  // target number of blocks needs, and at most kColumnSumMaxChunks.
  const int64_t min_chunk_rows = kColumnSumRowsPerThread * plan.lanes;
  int64_t chunks = len / min_chunk_rows;  // rounded down: every chunk gets at least min_chunk_rows
  const int64_t blocks_per_chunk = outer * plan.tiles > 0 ? outer * plan.tiles : 1;
  const int64_t wanted = (kColumnSumTargetBlocks + blocks_per_chunk - 1) / blocks_per_chunk;
  if (chunks > wanted) chunks = wanted;
  if (chunks > kColumnSumMaxChunks) chunks = kColumnSumMaxChunks;
  if (chunks < 1) chunks = 1;
  plan.chunk_rows = (len + chunks - 1) / chunks;
  if (plan.chunk_rows < 1) plan.chunk_rows = 1;
  plan.chunks = (len + plan.chunk_rows - 1) / plan.chunk_rows;  // no empty chunk at the end
  if (plan.chunks < 1) plan.chunks = 1;
  return plan;
}

}  // namespace ncf::ops
