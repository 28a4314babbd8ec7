// The CUDA versions of matmul, index, concat, group and sort ops against their CPU versions on random
// non-zero data. Tolerances (|gpu - cpu| <= atol + rtol*|cpu|) are stated per op:
//   gemm f32, TF32 off:  atol 1e-4, rtol 1e-4  (same math, another summation order; |terms| <= 1)
//   gemm f32, TF32 on:   atol 3e-2, rtol 1e-2  (inputs rounded to 10 mantissa bits)
//   gemm f64:            atol 1e-12, rtol 1e-12
//   everything else:     bit for bit (copies, or the same additions in the same order)
// Bad indices: a GPU kernel skips them and the next synchronisation throws (index.h); a GPU
// RowSparse is padded to the worst case, and only its valid part is compared with the CPU's.
// The suite's main() skips all of this when no GPU answers.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "tensor/ops/concat.h"
#include "tensor/ops/groups.h"
#include "tensor/ops/index.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/sort.h"
#include "tests/test_util.h"

namespace ncf {
namespace {

using test::random_indices;

const Device kGpu = Device::cuda(0);

// Uniform in [-1, -0.05] U [0.05, 1]: never zero, so relative errors mean something.
template <class T>
std::vector<T> nonzero_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(0.05, 1.0);
  std::vector<T> values(count);
  for (T& v : values) v = static_cast<T>((rng() & 1 ? 1.0 : -1.0) * uniform(rng));
  return values;
}

template <class T>
Tensor random_tensor(const Shape& shape, uint32_t seed) {
  return Tensor::from_vector(nonzero_values<T>(static_cast<size_t>(shape.numel()), seed), shape);
}

// Turns TF32 on or off for one scope and restores the default (on) after it.
struct Tf32Scope {
  explicit Tf32Scope(bool allow) { ops::set_matmul_tf32(allow); }
  ~Tf32Scope() { ops::set_matmul_tf32(true); }
};

template <class T>
void compare_gemm(int64_t m, int64_t n, int64_t k, double alpha, double beta, double atol, double rtol) {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true}) {
      CAPTURE(m);
      CAPTURE(n);
      CAPTURE(k);
      CAPTURE(trans_a);
      CAPTURE(trans_b);
      const Tensor a = random_tensor<T>(trans_a ? Shape{k, m} : Shape{m, k}, 1);
      const Tensor b = random_tensor<T>(trans_b ? Shape{n, k} : Shape{k, n}, 2);
      Tensor cpu_out = random_tensor<T>({m, n}, 3);
      Tensor gpu_out = cpu_out.to(kGpu);
      ops::gemm(a, trans_a, b, trans_b, cpu_out, alpha, beta);
      ops::gemm(a.to(kGpu), trans_a, b.to(kGpu), trans_b, gpu_out, alpha, beta);
      NCF_CHECK_CLOSE(gpu_out.to_vector<T>(), cpu_out.to_vector<T>(), atol, rtol);
    }
}

}  // namespace

TEST_CASE("cuda gemm: f32 with TF32 off matches the CPU closely") {
  Tf32Scope tf32(false);
  compare_gemm<float>(256, 32, 64, 1.0, 0.0, 1e-4, 1e-4);
  compare_gemm<float>(13, 37, 300, 1.0, 0.0, 1e-4, 1e-4);
  compare_gemm<float>(300, 200, 150, 0.5, -1.5, 1e-4, 1e-4);
}

TEST_CASE("cuda gemm: f32 with TF32 on matches the CPU loosely") {
  Tf32Scope tf32(true);
  compare_gemm<float>(256, 32, 64, 1.0, 0.0, 3e-2, 1e-2);
  compare_gemm<float>(300, 200, 150, 1.0, 1.0, 3e-2, 1e-2);
}

TEST_CASE("cuda gemm: f64") {
  compare_gemm<double>(64, 48, 100, 1.0, 0.0, 1e-12, 1e-12);
  compare_gemm<double>(7, 5, 3, -2.0, 0.5, 1e-12, 1e-12);
}

TEST_CASE("cuda gather_rows: the same rows as the CPU, past one grid too") {
  for (int64_t d : {1, 3, 8, 64}) {  // word sizes 4, 4, 16 and 16 bytes
    const Tensor table = random_tensor<float>({100, d}, 4);
    const Tensor idx = Tensor::from_vector(random_indices(500, 100, 5), {500});
    CHECK(ops::gather_rows(table.to(kGpu), idx.to(kGpu)).to_vector<float>() ==
          ops::gather_rows(table, idx).to_vector<float>());
  }
  const Tensor table64 = random_tensor<double>({10, 3}, 6);
  const Tensor idx = Tensor::from_vector(random_indices(40, 10, 7), {40});
  CHECK(ops::gather_rows(table64.to(kGpu), idx.to(kGpu)).to_vector<double>() ==
        ops::gather_rows(table64, idx).to_vector<double>());
  // 700,000 rows of 1 float: more words than one grid of threads covers (132 x 16 blocks x 256).
  const int64_t b = 700000;
  const Tensor many = Tensor::from_vector(random_indices(size_t(b), 1000, 8), {b});
  const Tensor narrow = random_tensor<float>({1000, 1}, 9);
  CHECK(ops::gather_rows(narrow.to(kGpu), many.to(kGpu)).to_vector<float>() ==
        ops::gather_rows(narrow, many).to_vector<float>());
}

TEST_CASE("cuda bad indices: skipped by the kernels, reported at the next synchronisation like the CPU's") {
  const Tensor table = random_tensor<double>({100, 3}, 6);
  const Tensor gpu_table = table.to(kGpu);
  for (const int32_t bad : {130, 100, -1}) {
    CAPTURE(bad);
    const std::string named = "index " + std::to_string(bad) + " at position 1";
    const Tensor idx = Tensor::from_vector(std::vector<int32_t>{2, bad, 2, 2}, {4});
    const Tensor gpu_idx = idx.to(kGpu);
    const Tensor values = random_tensor<double>({4, 3}, 10);
    const Tensor gpu_values = values.to(kGpu);

    // gather_rows: a row of zeros where the index is bad, then the report.
    const Tensor gathered = ops::gather_rows(gpu_table, gpu_idx);
    CHECK_THROWS_WITH_AS(synchronize(kGpu), doctest::Contains(named.c_str()), Error);
    const std::vector<double> got = gathered.to_vector<double>();  // reported once: this read is clean
    CHECK(std::vector<double>(got.begin() + 3, got.begin() + 6) == std::vector<double>(3, 0.0));
    CHECK(std::vector<double>(got.begin(), got.begin() + 3) ==
          ops::gather_rows(table, Tensor::from_vector(std::vector<int32_t>{2}, {1})).to_vector<double>());

    // scatter_add_rows_: the good rows are added exactly as the CPU adds them without the bad one,
    // and no other row changes (index 130 used to sort among the 2s and race with them).
    Tensor scattered = table.to(kGpu);
    ops::scatter_add_rows_(scattered, gpu_idx, gpu_values);
    CHECK_THROWS_WITH_AS(synchronize(kGpu), doctest::Contains(named.c_str()), Error);
    Tensor want = table.clone();
    const std::vector<double> v = values.to_vector<double>();
    std::vector<double> good_rows(v.begin(), v.begin() + 3);  // rows 0, 2 and 3: the index-2 ones
    good_rows.insert(good_rows.end(), v.begin() + 6, v.end());
    ops::scatter_add_rows_(want, Tensor::from_vector(std::vector<int32_t>{2, 2, 2}, {3}),
                           Tensor::from_vector(good_rows, {3, 3}));
    CHECK(scattered.to_vector<double>() == want.to_vector<double>());

    // segment_sum_rows: the bad index is left out of the runs; row 2 sums its three rows.
    const ops::RowSparse sums = ops::segment_sum_rows(gpu_idx, gpu_values, 100);
    CHECK_THROWS_WITH_AS(synchronize(kGpu), doctest::Contains(named.c_str()), Error);
    const std::vector<int32_t> keys = sums.indices.to_vector<int32_t>();
    CHECK(keys == std::vector<int32_t>{2, 100, 100, 100});  // one row, then padding (index = num_rows)
  }
  // The CPU rejects the same calls at once (tests/tensor/test_index.cpp), and a clean call after a
  // report reports nothing.
  CHECK_NOTHROW(synchronize(kGpu));
}

namespace {
// The valid entries of a GPU RowSparse (before the first padding index), on the CPU, after checking
// that everything past them is padding (index num_rows).
ops::RowSparse valid_part(const ops::RowSparse& gpu) {
  const std::vector<int32_t> keys = gpu.indices.to_vector<int32_t>();
  int64_t nnz = 0;
  while (nnz < static_cast<int64_t>(keys.size()) && keys[nnz] != gpu.num_rows) ++nnz;
  for (size_t i = static_cast<size_t>(nnz); i < keys.size(); ++i) REQUIRE(keys[i] == gpu.num_rows);
  return {gpu.indices.rows(0, nnz).to(Device::cpu()), gpu.rows.rows(0, nnz).to(Device::cpu()), gpu.num_rows};
}
}  // namespace

TEST_CASE("cuda segment_sum_rows: bit for bit the CPU's sums, padded to the worst case, same bits twice") {
  for (const auto& [b, d, range] : std::vector<std::tuple<int64_t, int64_t, int32_t>>{
           {1, 4, 3}, {257, 5, 20}, {4096, 64, 50}, {100000, 8, 1000}, {3000, 300, 7}, {700000, 1, 100003}}) {
    CAPTURE(b);
    CAPTURE(d);
    const Tensor idx = Tensor::from_vector(random_indices(size_t(b), range, uint32_t(b)), {b});
    const Tensor rows = random_tensor<float>({b, d}, uint32_t(d));
    const ops::RowSparse cpu = ops::segment_sum_rows(idx, rows, range);
    const ops::RowSparse gpu = ops::segment_sum_rows(idx.to(kGpu), rows.to(kGpu), range);
    CHECK(gpu.num_rows == range);
    CHECK(gpu.indices.numel() == b);  // the worst case: one row per index
    CHECK(gpu.rows.shape() == Shape{b, d});
    const ops::RowSparse valid = valid_part(gpu);
    CHECK(valid.indices.to_vector<int32_t>() == cpu.indices.to_vector<int32_t>());
    CHECK(valid.rows.to_vector<float>() == cpu.rows.to_vector<float>());
    const ops::RowSparse again = valid_part(ops::segment_sum_rows(idx.to(kGpu), rows.to(kGpu), range));
    CHECK(again.rows.to_vector<float>() == valid.rows.to_vector<float>());
  }
}

TEST_CASE("cuda add_row_sparse: padded GPU inputs sum to the CPU's result, bit for bit") {
  const Tensor ia = Tensor::from_vector(random_indices(300, 40, 21), {300});
  const Tensor ib = Tensor::from_vector(random_indices(200, 40, 22), {200});
  const Tensor ra = random_tensor<float>({300, 6}, 23), rb = random_tensor<float>({200, 6}, 24);
  const ops::RowSparse cpu =
      ops::add_row_sparse(ops::segment_sum_rows(ia, ra, 40), ops::segment_sum_rows(ib, rb, 40));
  const ops::RowSparse gpu = ops::add_row_sparse(ops::segment_sum_rows(ia.to(kGpu), ra.to(kGpu), 40),
                                                 ops::segment_sum_rows(ib.to(kGpu), rb.to(kGpu), 40));
  CHECK_NOTHROW(synchronize(kGpu));  // padding is not a bad index
  const ops::RowSparse valid = valid_part(gpu);
  CHECK(valid.indices.to_vector<int32_t>() == cpu.indices.to_vector<int32_t>());
  CHECK(valid.rows.to_vector<float>() == cpu.rows.to_vector<float>());
}

TEST_CASE("cuda scatter_add_rows_: bit for bit the CPU, deterministic with many duplicates") {
  const int64_t n = 500, d = 32, b = 200000;
  const Tensor idx = Tensor::from_vector(random_indices(size_t(b), 40, 8), {b});  // ~5000 repeats per row
  const Tensor rows = random_tensor<float>({b, d}, 9);
  const Tensor table = random_tensor<float>({n, d}, 10);
  Tensor cpu = table.clone();
  ops::scatter_add_rows_(cpu, idx, rows);
  std::vector<std::vector<float>> runs;
  for (int run = 0; run < 2; ++run) {
    Tensor gpu = table.to(kGpu);
    ops::scatter_add_rows_(gpu, idx.to(kGpu), rows.to(kGpu));
    runs.push_back(gpu.to_vector<float>());
  }
  CHECK(runs[0] == runs[1]);
  CHECK(runs[0] == cpu.to_vector<float>());

  Tensor table64 = random_tensor<double>({20, 3}, 11);
  const Tensor idx64 = Tensor::from_vector(random_indices(100, 20, 12), {100});
  const Tensor rows64 = random_tensor<double>({100, 3}, 13);
  Tensor gpu64 = table64.to(kGpu);
  ops::scatter_add_rows_(gpu64, idx64.to(kGpu), rows64.to(kGpu));
  ops::scatter_add_rows_(table64, idx64, rows64);
  CHECK(gpu64.to_vector<double>() == table64.to_vector<double>());
}

TEST_CASE("cuda to_dense: the same dense matrix as the CPU, padding skipped") {
  const Tensor idx = Tensor::from_vector(random_indices(300, 60, 14), {300});
  const Tensor rows = random_tensor<float>({300, 5}, 15);
  const ops::RowSparse sparse = ops::segment_sum_rows(idx, rows, 60);
  ops::RowSparse on_gpu{sparse.indices.to(kGpu), sparse.rows.to(kGpu), sparse.num_rows};
  CHECK(ops::to_dense(on_gpu).to_vector<float>() == ops::to_dense(sparse).to_vector<float>());
  // From the GPU's own padded segment sum.
  CHECK(ops::to_dense(ops::segment_sum_rows(idx.to(kGpu), rows.to(kGpu), 60)).to_vector<float>() ==
        ops::to_dense(sparse).to_vector<float>());
  CHECK_NOTHROW(synchronize(kGpu));
}

TEST_CASE(
    "cuda axpy_row_sparse_: the plain SGD step of a padded GPU gradient equals the CPU's, bit for bit") {
  const Tensor idx = Tensor::from_vector(random_indices(300, 60, 16), {300});
  const Tensor rows = random_tensor<float>({300, 5}, 17);
  const Tensor table0 = random_tensor<float>({60, 5}, 18);
  Tensor cpu = table0.clone();
  ops::axpy_row_sparse_(cpu, -0.125, ops::segment_sum_rows(idx, rows, 60));
  Tensor gpu = table0.to(kGpu);
  ops::axpy_row_sparse_(gpu, -0.125, ops::segment_sum_rows(idx.to(kGpu), rows.to(kGpu), 60));  // padded
  CHECK(gpu.to_vector<float>() == cpu.to_vector<float>());
  CHECK_NOTHROW(synchronize(kGpu));  // the padding is no fault
}

TEST_CASE("cuda concat_cols / split_cols / repeat_rows: the same bytes as the CPU") {
  const std::vector<int64_t> widths{3, 8, 0, 1, 5, 2, 2, 2, 2, 4};  // more than one launch's 8 parts
  std::vector<Tensor> cpu_parts, gpu_parts;
  for (size_t p = 0; p < widths.size(); ++p) {
    cpu_parts.push_back(random_tensor<float>({77, widths[p]}, uint32_t(20 + p)));
    gpu_parts.push_back(cpu_parts.back().to(kGpu));
  }
  const Tensor cpu_joined = ops::concat_cols(cpu_parts);
  const Tensor gpu_joined = ops::concat_cols(gpu_parts);
  CHECK(gpu_joined.to_vector<float>() == cpu_joined.to_vector<float>());
  const std::vector<Tensor> back = ops::split_cols(gpu_joined, widths);
  for (size_t p = 0; p < widths.size(); ++p)
    CHECK(back[p].to_vector<float>() == cpu_parts[p].to_vector<float>());

  // 16-byte words (widths of 4 floats) and single bytes (u8 of odd widths).
  const std::vector<Tensor> wide{random_tensor<float>({1000, 8}, 30), random_tensor<float>({1000, 4}, 31)};
  CHECK(ops::concat_cols({wide[0].to(kGpu), wide[1].to(kGpu)}).to_vector<float>() ==
        ops::concat_cols(wide).to_vector<float>());
  std::vector<uint8_t> bytes(5 * 7);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 7 + 1);
  const Tensor u8 = Tensor::from_vector(bytes, {5, 7});
  const std::vector<Tensor> cpu_split = ops::split_cols(u8, {3, 4});
  const std::vector<Tensor> gpu_split = ops::split_cols(u8.to(kGpu), {3, 4});
  CHECK(gpu_split[0].to_vector<uint8_t>() == cpu_split[0].to_vector<uint8_t>());
  CHECK(gpu_split[1].to_vector<uint8_t>() == cpu_split[1].to_vector<uint8_t>());
  const Tensor f64 = random_tensor<double>({9, 5}, 32);
  CHECK(ops::concat_cols({f64.to(kGpu), f64.to(kGpu)}).to_vector<double>() ==
        ops::concat_cols({f64, f64}).to_vector<double>());

  for (int64_t d : {1, 3, 16}) {
    const Tensor row = random_tensor<float>({d}, 33);
    CHECK(ops::repeat_rows(row.to(kGpu), 123).to_vector<float>() ==
          ops::repeat_rows(row, 123).to_vector<float>());
  }
}

TEST_CASE("cuda topk_rows: the same order as the CPU, ties included") {
  // Scores from a few values, so that most comparisons are ties and the column rule decides.
  auto tied = [](int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pick(-4, 4);
    std::vector<float> values(static_cast<size_t>(rows * cols));
    for (float& v : values) v = float(pick(rng)) * 0.25f;
    return Tensor::from_vector(values, {rows, cols});
  };
  for (const auto& [rows, cols, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 1, 1}, {64, 100, 10}, {33, 3000, 50}, {5, 40, 40}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    const Tensor scores = tied(rows, cols, uint32_t(cols));
    Tensor cpu_values, cpu_indices, gpu_values, gpu_indices;
    ops::topk_rows(scores, k, cpu_values, cpu_indices);
    ops::topk_rows(scores.to(kGpu), k, gpu_values, gpu_indices);
    CHECK(gpu_values.device() == kGpu);
    CHECK(gpu_indices.to_vector<int32_t>() == cpu_indices.to_vector<int32_t>());
    CHECK(gpu_values.to_vector<float>() == cpu_values.to_vector<float>());
  }
}

TEST_CASE("cuda group ops: expand_groups, add_groups_, sum_groups and group_firsts are the CPU's bits") {
  // Past one grid of blocks (70,000 rows of 5-row groups, 9 columns), f32 and f64; sums in the same
  // order on both devices, so bit for bit.
  const int64_t groups = 14000, group = 5, d = 9;
  const Tensor x32 = random_tensor<float>({groups, d}, 41),
               y32 = random_tensor<float>({groups * group, d}, 42);
  const Tensor x64 = random_tensor<double>({groups, d}, 43),
               y64 = random_tensor<double>({groups * group, d}, 44);
  CHECK(ops::expand_groups(x32.to(kGpu), group).to_vector<float>() ==
        ops::expand_groups(x32, group).to_vector<float>());
  CHECK(ops::sum_groups(y32.to(kGpu), group).to_vector<float>() ==
        ops::sum_groups(y32, group).to_vector<float>());
  CHECK(ops::sum_groups(y64.to(kGpu), group).to_vector<double>() ==
        ops::sum_groups(y64, group).to_vector<double>());
  Tensor cpu = y64.clone(), gpu = y64.to(kGpu);
  ops::add_groups_(cpu, x64, group);
  ops::add_groups_(gpu, x64.to(kGpu), group);
  CHECK(gpu.to_vector<double>() == cpu.to_vector<double>());
  std::vector<int32_t> users(static_cast<size_t>(groups * group));
  for (size_t r = 0; r < users.size(); ++r) users[r] = static_cast<int32_t>((r / group) * 7 % 1001);
  const Tensor u = Tensor::from_vector(users, {groups * group});
  CHECK(ops::group_firsts(u.to(kGpu), group).to_vector<int32_t>() ==
        ops::group_firsts(u, group).to_vector<int32_t>());
}

}  // namespace ncf
