// CUDA vs CPU for the element-wise, reduction, loss, optimizer and random ops: each GPU result is
// compared with the CPU op on the same random non-zero data, |gpu - cpu| <= atol + rtol*|cpu|,
// the tolerance stated per op. f32 math functions (expf, logf, tanhf, ...) differ by an ulp or two
// between glibc and CUDA, hence rtol 1e-5 for f32 transcendental ops; plain arithmetic is exact
// IEEE on both and gets 1e-6. Reductions must also give the same bits twice on the GPU. Random
// tensors are promised identical (uniform, randperm, dropout masks: compared exactly).
// Sizes: each family has a case larger than one grid of a grid-stride loop (cuda_blocks_for caps a
// launch at 132 x 16 blocks of 256 threads, 540,672 elements), so every loop runs a second pass.
// Gradients of a mean are scaled by 1/n: their tolerance is relative to their largest value, since an
// absolute 1e-6 against gradients below 2e-6 could not fail.
// These cases run only where a GPU answers; the suite's main skips them otherwise.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/ops/elementwise.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/optimizer.h"
#include "tensor/ops/random.h"
#include "tensor/ops/reduce.h"
#include "tests/test_util.h"

using namespace ncf;
using ncf::test::values_of;

namespace {

const Device kGpu = Device::cuda(0);
const Device kCpu = Device::cpu();

// Random CPU data in [low, high) (uniform_ on the CPU; an exact zero has probability ~2^-24).
Tensor random_cpu(const Shape& shape, DType dtype, double low, double high, uint64_t seed) {
  Tensor t = Tensor::empty(shape, dtype, kCpu);
  ops::uniform_(t, low, high, seed, 0);
  return t;
}

// Bitwise equality of two tensors' bytes (same dtype and shape).
bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ha = a.to(kCpu), hb = b.to(kCpu);
  if (ha.nbytes() != hb.nbytes()) return false;
  const auto* pa = static_cast<const unsigned char*>(ha.raw_data());
  const auto* pb = static_cast<const unsigned char*>(hb.raw_data());
  return std::equal(pa, pa + ha.nbytes(), pb);
}

struct Tolerance {
  double atol, rtol;
};
Tolerance arithmetic(DType d) { return d == DType::f32 ? Tolerance{1e-6, 1e-6} : Tolerance{1e-14, 1e-13}; }
Tolerance transcendental(DType d) {
  return d == DType::f32 ? Tolerance{1e-6, 1e-5} : Tolerance{1e-14, 1e-12};
}
// The same relative tolerance, with the absolute part scaled to the largest |value| of the reference.
Tolerance scaled_to(Tolerance t, const Tensor& reference) {
  double largest = 0.0;
  for (double v : values_of(reference)) largest = std::max(largest, std::fabs(v));
  return {t.atol * largest, t.rtol};
}

constexpr int64_t kOneGrid = int64_t{132} * 16 * 256;  // elements one launch of cuda_blocks_for covers

#define CHECK_GPU_CPU(gpu_tensor, cpu_tensor, tol)                                           \
  do {                                                                                       \
    const Tensor gpu_result_ = (gpu_tensor);                                                 \
    const Tensor cpu_result_ = (cpu_tensor);                                                 \
    CHECK(gpu_result_.is_cuda());                                                            \
    CHECK(gpu_result_.shape() == cpu_result_.shape());                                       \
    CHECK(gpu_result_.dtype() == cpu_result_.dtype());                                       \
    NCF_CHECK_CLOSE(values_of(gpu_result_), values_of(cpu_result_), (tol).atol, (tol).rtol); \
  } while (0)

}  // namespace

TEST_CASE("cuda unary ops match the CPU (f32 rtol 1e-5, f64 rtol 1e-12)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tensor x = random_cpu(Shape{257, 129}, dtype, -8.0, 8.0, 1);  // odd sizes: partial blocks
    for (ops::UnaryOp op : {ops::UnaryOp::relu, ops::UnaryOp::log_sigmoid}) {
      CAPTURE(static_cast<int>(op));
      CHECK_GPU_CPU(ops::unary(op, x.to(kGpu)), ops::unary(op, x), transcendental(dtype));
    }
    // Extreme logits stay finite on the GPU too.
    const Tensor extreme = Tensor::from_vector<double>({-1e4, -100, 100, 1e4}, Shape{4});
    const Tensor ext = dtype == DType::f32 ? ops::cast(extreme, DType::f32) : extreme;
    CHECK_GPU_CPU(ops::log_sigmoid(ext.to(kGpu)), ops::log_sigmoid(ext), transcendental(dtype));
  }
}

TEST_CASE("cuda binary ops with every broadcast, scale, axpy_ (rtol 1e-6 f32)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tensor a = random_cpu(Shape{300, 70}, dtype, -2.0, 2.0, 3);
    const Tensor same = random_cpu(Shape{300, 70}, dtype, 0.5, 2.0, 4);
    const Tensor row = random_cpu(Shape{70}, dtype, 0.5, 2.0, 5);
    const Tensor row2 = random_cpu(Shape{1, 70}, dtype, 0.5, 2.0, 6);
    const Tensor scalar = random_cpu(Shape{1}, dtype, 0.5, 2.0, 7);
    const Tensor ga = a.to(kGpu);
    for (ops::BinaryOp op : {ops::BinaryOp::add, ops::BinaryOp::sub, ops::BinaryOp::mul}) {
      CAPTURE(static_cast<int>(op));
      for (const Tensor* b : {&same, &row, &row2, &scalar})
        CHECK_GPU_CPU(ops::binary(op, ga, b->to(kGpu)), ops::binary(op, a, *b), arithmetic(dtype));
    }
    CHECK_GPU_CPU(ops::scale(ga, -0.37), ops::scale(a, -0.37), arithmetic(dtype));
    Tensor y_cpu = same.clone(), y_gpu = same.to(kGpu);
    ops::axpy_(y_cpu, 0.25, a);
    ops::axpy_(y_gpu, 0.25, ga);
    CHECK_GPU_CPU(y_gpu, y_cpu, arithmetic(dtype));
  }
}

TEST_CASE("cuda fill_ and cast for all dtypes (exact)") {
  for (DType dtype : {DType::f32, DType::f64, DType::i32, DType::u8}) {
    CAPTURE(ncf::dtype_name(dtype));
    Tensor g = Tensor::empty(Shape{1000, 3}, dtype, kGpu);
    Tensor c = Tensor::empty(Shape{1000, 3}, dtype, kCpu);
    ops::fill_(g, 7.0);
    ops::fill_(c, 7.0);
    CHECK(same_bits(g, c));
  }
  const Tensor x = random_cpu(Shape{5000}, DType::f64, -300.0, 300.0, 8);
  for (DType from : {DType::f64, DType::f32, DType::i32}) {
    const Tensor src = ops::cast(x, from);
    for (DType to : {DType::f32, DType::f64, DType::i32}) {
      CAPTURE(ncf::dtype_name(from));
      CAPTURE(ncf::dtype_name(to));
      CHECK(same_bits(ops::cast(src.to(kGpu), to), ops::cast(src, to)));
    }
  }
}

TEST_CASE("cuda activation backwards and dropout (masks identical, values rtol 1e-6)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tensor g = random_cpu(Shape{256, 64}, dtype, -1.0, 1.0, 9);
    const Tensor x = random_cpu(Shape{256, 64}, dtype, -6.0, 6.0, 10);
    const Tensor r = ops::relu(x);
    CHECK_GPU_CPU(ops::relu_backward(g.to(kGpu), r.to(kGpu)), ops::relu_backward(g, r), arithmetic(dtype));
    CHECK_GPU_CPU(ops::log_sigmoid_backward(g.to(kGpu), x.to(kGpu)), ops::log_sigmoid_backward(g, x),
                  transcendental(dtype));

    Tensor mask_cpu, mask_gpu;
    const Tensor y_cpu = ops::dropout(x, 0.25, 11, 2, mask_cpu);
    const Tensor y_gpu = ops::dropout(x.to(kGpu), 0.25, 11, 2, mask_gpu);
    CHECK(mask_gpu.is_cuda());
    CHECK(same_bits(mask_gpu, mask_cpu));
    CHECK_GPU_CPU(y_gpu, y_cpu, arithmetic(dtype));
    CHECK_GPU_CPU(ops::dropout_backward(g.to(kGpu), mask_gpu, 0.25), ops::dropout_backward(g, mask_cpu, 0.25),
                  arithmetic(dtype));
  }
}

TEST_CASE("cuda element-wise ops past one grid: every grid-stride loop takes a second and third pass") {
  const int64_t rows = 1300, cols = 1000;  // 1.3M elements, more than 2 x kOneGrid
  REQUIRE(rows * cols > 2 * kOneGrid);
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tensor a = random_cpu(Shape{rows, cols}, dtype, -4.0, 4.0, 41);
    const Tensor b = random_cpu(Shape{rows, cols}, dtype, 0.5, 2.0, 42);
    const Tensor row = random_cpu(Shape{cols}, dtype, 0.5, 2.0, 43);
    const Tensor column = random_cpu(Shape{rows, 1}, dtype, 0.5, 2.0, 44);
    const Tensor ga = a.to(kGpu);
    for (ops::UnaryOp op : {ops::UnaryOp::relu, ops::UnaryOp::log_sigmoid})
      CHECK_GPU_CPU(ops::unary(op, ga), ops::unary(op, a), transcendental(dtype));
    for (const Tensor* other : {&b, &row, &column})
      CHECK_GPU_CPU(ops::mul(ga, other->to(kGpu)), ops::mul(a, *other), arithmetic(dtype));
    CHECK_GPU_CPU(ops::scale(ga, 1.5), ops::scale(a, 1.5), arithmetic(dtype));
    Tensor y_cpu = b.clone(), y_gpu = b.to(kGpu);
    ops::axpy_(y_cpu, -0.5, a);
    ops::axpy_(y_gpu, -0.5, ga);
    CHECK_GPU_CPU(y_gpu, y_cpu, arithmetic(dtype));
    CHECK_GPU_CPU(ops::relu_backward(b.to(kGpu), ops::relu(ga)), ops::relu_backward(b, ops::relu(a)),
                  arithmetic(dtype));
    Tensor filled = Tensor::empty(Shape{rows, cols}, dtype, kGpu);
    ops::fill_(filled, -3.0);
    CHECK(values_of(filled) == std::vector<double>(static_cast<size_t>(rows * cols), -3.0));
    CHECK(same_bits(ops::cast(ga, DType::i32), ops::cast(a, DType::i32)));
    Tensor mask_cpu, mask_gpu;
    const Tensor d_cpu = ops::dropout(a, 0.3, 5, 1, mask_cpu), d_gpu = ops::dropout(ga, 0.3, 5, 1, mask_gpu);
    CHECK(same_bits(mask_gpu, mask_cpu));
    CHECK_GPU_CPU(d_gpu, d_cpu, arithmetic(dtype));
    // The loss gradient's kernel over 1.3M logits.
    const Tensor y =
        ops::cast(ops::cast(random_cpu(Shape{rows, cols}, dtype, 0.0, 2.0, 45), DType::i32), dtype);
    const Tensor one = ops::cast(Tensor::from_vector<double>({1.0}, Shape{1}), dtype);
    const Tensor want = ops::bce_with_logits_backward(a, y, one);
    CHECK_GPU_CPU(ops::bce_with_logits_backward(ga, y.to(kGpu), one.to(kGpu)), want,
                  scaled_to(transcendental(dtype), want));
  }
}

TEST_CASE("cuda sum, mean, sum_axis match the CPU (rtol 1e-6 f32, 1e-12 f64) and repeat bit for bit") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tolerance tol = dtype == DType::f32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-12};
    for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{16384}, int64_t{3000017}}) {
      CAPTURE(n);
      const Tensor x = random_cpu(Shape{n}, dtype, -1.0, 1.2, 12 + n);
      const Tensor gx = x.to(kGpu);
      const Tensor s1 = ops::sum(gx), s2 = ops::sum(gx);
      CHECK(same_bits(s1, s2));
      CHECK_GPU_CPU(s1, ops::sum(x), tol);
      CHECK_GPU_CPU(ops::mean(gx), ops::mean(x), tol);
    }
    const Tensor x4 = random_cpu(Shape{6, 5, 40, 33}, dtype, -1.0, 1.2, 13);
    const Tensor g4 = x4.to(kGpu);
    for (int axis = 0; axis < 4; ++axis) {
      CAPTURE(axis);
      const Tensor a1 = ops::sum_axis(g4, axis), a2 = ops::sum_axis(g4, axis);
      CHECK(same_bits(a1, a2));
      CHECK_GPU_CPU(a1, ops::sum_axis(x4, axis), tol);
    }
    const Tensor m = random_cpu(Shape{256, 64}, dtype, -1.0, 1.2, 14);  // the training step's shape
    CHECK_GPU_CPU(ops::sum_axis(m.to(kGpu), 0), ops::sum_axis(m, 0), tol);
    CHECK_GPU_CPU(ops::sum_axis(m.to(kGpu), 1), ops::sum_axis(m, 1), tol);
    const Tensor tall = random_cpu(Shape{3, 200000}, dtype, -1.0, 1.2, 15);  // long rows
    CHECK_GPU_CPU(ops::sum_axis(tall.to(kGpu), 1), ops::sum_axis(tall, 1), tol);
  }
}

TEST_CASE("cuda sum_axis at training sizes: two passes, the CPU's sums, the same bits twice") {
  // The CPU adds a column's values one after another (an error growing like sqrt(rows) ulps), the GPU
  // in chunks and trees (reduce_plan.h): in f64 they agree to 1e-11 relative here, in f32 both round
  // nearly the same double to f32.
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tolerance tol = dtype == DType::f32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-10, 1e-11};
    struct Case {
      Shape shape;
      int axis;
      const char* what;
    };
    for (const Case& c : {Case{Shape{131075, 256}, 0, "the bias gradient of a 256-wide layer"},
                          Case{Shape{int64_t{1} << 20, 1}, 0, "the width-1 output layer at batch 2^20"},
                          Case{Shape{int64_t{1} << 20, 64}, 0, "a 64-wide layer at batch 2^20"},
                          Case{Shape{3, 50000, 7}, 1, "an inner axis, outer > 1"},
                          Case{Shape{700000, 3}, 1, "short rows, more warps than one grid holds"}}) {
      CAPTURE(c.what);
      const Tensor x = random_cpu(c.shape, dtype, -1.0, 1.2, 16);
      const Tensor gx = x.to(kGpu);
      const Tensor s1 = ops::sum_axis(gx, c.axis), s2 = ops::sum_axis(gx, c.axis);
      CHECK(same_bits(s1, s2));
      CHECK_GPU_CPU(s1, ops::sum_axis(x, c.axis), tol);
    }
  }
}

TEST_CASE(
    "cuda losses and their gradients match the CPU (rtol 1e-5 f32, 1e-12 f64; gradients' atol scaled to "
    "their "
    "size), grad_out read on the GPU") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tolerance tol = transcendental(dtype);
    for (int64_t n : {int64_t{5}, int64_t{1280}, int64_t{1000003}}) {
      CAPTURE(n);
      Tensor x = random_cpu(Shape{n}, dtype, -10.0, 10.0, 20 + n);
      if (n == 5) x = ops::cast(Tensor::from_vector<double>({-1e4, -100, 0.5, 100, 1e4}, Shape{5}), dtype);
      const Tensor y = ops::cast(ops::cast(random_cpu(Shape{n}, dtype, 0.0, 2.0, 30 + n), DType::i32), dtype);
      const Tensor grad_out = ops::cast(Tensor::from_vector<double>({1.7}, Shape{1}), dtype);
      const Tensor gx = x.to(kGpu), gy = y.to(kGpu), gg = grad_out.to(kGpu);
      const Tensor l1 = ops::bce_with_logits(gx, gy), l2 = ops::bce_with_logits(gx, gy);
      CHECK(same_bits(l1, l2));
      CHECK_GPU_CPU(l1, ops::bce_with_logits(x, y), tol);
      CHECK(std::isfinite(values_of(l1)[0]));
      // The gradients are at most 1.7 * 21 / n: tolerances relative to their largest value.
      const Tensor bce_grad = ops::bce_with_logits_backward(x, y, grad_out);
      CHECK_GPU_CPU(ops::bce_with_logits_backward(gx, gy, gg), bce_grad, scaled_to(tol, bce_grad));
      CHECK_GPU_CPU(ops::mse(gx, gy), ops::mse(x, y), arithmetic(dtype));
      const Tensor mse_grad = ops::mse_backward(x, y, grad_out);
      CHECK_GPU_CPU(ops::mse_backward(gx, gy, gg), mse_grad, scaled_to(arithmetic(dtype), mse_grad));
    }
  }
}

TEST_CASE("cuda adam_step, sgd_step and sparse_adam_step match the CPU (rtol 1e-5 f32, 1e-12 f64)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    const Tolerance tol = dtype == DType::f32 ? Tolerance{1e-6, 1e-5} : Tolerance{1e-13, 1e-12};
    // 60 tensors (more than one launch's capacity) of assorted sizes, one larger than a block chunk.
    std::vector<Shape> shapes;
    for (int k = 0; k < 60; ++k) shapes.push_back(k == 3 ? Shape{1000, 64} : Shape{k % 7 + 1, k % 5 + 2});
    std::vector<Tensor> p_cpu, m_cpu, v_cpu, p_gpu, m_gpu, v_gpu;
    for (size_t k = 0; k < shapes.size(); ++k) {
      p_cpu.push_back(random_cpu(shapes[k], dtype, -1.0, 1.0, 100 + k));
      m_cpu.push_back(Tensor::zeros(shapes[k], dtype));
      v_cpu.push_back(Tensor::zeros(shapes[k], dtype));
      p_gpu.push_back(p_cpu.back().to(kGpu));
      m_gpu.push_back(Tensor::zeros(shapes[k], dtype, kGpu));
      v_gpu.push_back(Tensor::zeros(shapes[k], dtype, kGpu));
    }
    ops::AdamSettings s;
    s.lr = 0.01;
    s.weight_decay = 0.01;
    std::vector<Tensor> sgd_cpu, sgd_gpu, buf_cpu, buf_gpu;
    for (const Tensor& p : p_cpu) {
      sgd_cpu.push_back(p.clone());
      sgd_gpu.push_back(p.to(kGpu));
      buf_cpu.push_back(Tensor::zeros(p.shape(), dtype));
      buf_gpu.push_back(Tensor::zeros(p.shape(), dtype, kGpu));
    }
    for (int64_t step = 1; step <= 3; ++step) {
      std::vector<Tensor> g_cpu, g_gpu;
      for (size_t k = 0; k < shapes.size(); ++k) {
        g_cpu.push_back(random_cpu(shapes[k], dtype, -0.5, 0.5, 1000 * step + k));
        g_gpu.push_back(g_cpu.back().to(kGpu));
      }
      s.step = step;
      ops::adam_step(p_cpu, g_cpu, m_cpu, v_cpu, s);
      ops::adam_step(p_gpu, g_gpu, m_gpu, v_gpu, s);
      ops::sgd_step(sgd_cpu, g_cpu, buf_cpu, 0.1, 0.9, 0.01, step == 1);
      ops::sgd_step(sgd_gpu, g_gpu, buf_gpu, 0.1, 0.9, 0.01, step == 1);
    }
    for (size_t k = 0; k < shapes.size(); ++k) {
      CAPTURE(k);
      CHECK_GPU_CPU(p_gpu[k], p_cpu[k], tol);
      CHECK_GPU_CPU(v_gpu[k], v_cpu[k], tol);
      CHECK_GPU_CPU(sgd_gpu[k], sgd_cpu[k], tol);
    }

    // Sparse: rows 2, 5, 6 and 999 of a (1000, 16) table.
    const Tensor table = random_cpu(Shape{1000, 16}, dtype, -1.0, 1.0, 7);
    ops::RowSparse grad;
    grad.indices = Tensor::from_vector<int32_t>({2, 5, 6, 999}, Shape{4});
    grad.rows = random_cpu(Shape{4, 16}, dtype, -1.0, 1.0, 8);
    grad.num_rows = 1000;
    ops::RowSparse grad_gpu{grad.indices.to(kGpu), grad.rows.to(kGpu), 1000};
    Tensor tc = table.clone(), mc = Tensor::zeros(table.shape(), dtype),
           vc = Tensor::zeros(table.shape(), dtype);
    Tensor tg = table.to(kGpu), mg = Tensor::zeros(table.shape(), dtype, kGpu),
           vg = Tensor::zeros(table.shape(), dtype, kGpu);
    s.step = 2;
    ops::sparse_adam_step(tc, grad, mc, vc, s);
    ops::sparse_adam_step(tg, grad_gpu, mg, vg, s);
    CHECK_GPU_CPU(tg, tc, tol);
    CHECK_GPU_CPU(mg, mc, tol);

    // A GPU segment sum's padded result (index 1000 past its rows): padding moves no row, lazy or dense.
    const Tensor idx = Tensor::from_vector<int32_t>({5, 2, 999, 5, 6, 2}, Shape{6});
    const Tensor looked_up = random_cpu(Shape{6, 16}, dtype, -1.0, 1.0, 9);
    const ops::RowSparse padded = ops::segment_sum_rows(idx.to(kGpu), looked_up.to(kGpu), 1000);
    const ops::RowSparse exact = ops::segment_sum_rows(idx, looked_up, 1000);
    REQUIRE(padded.indices.numel() == 6);  // 4 rows + 2 padding entries
    ops::sparse_adam_step(tc, exact, mc, vc, s);
    ops::sparse_adam_step(tg, padded, mg, vg, s);
    CHECK_GPU_CPU(tg, tc, tol);
    CHECK_GPU_CPU(vg, vc, tol);
    std::vector<Tensor> dense_c{tc}, dense_g{tg}, mcs{mc}, vcs{vc}, mgs{mg}, vgs{vg};
    ops::dense_adam_step_rowsparse(dense_c, {exact}, mcs, vcs, s);
    ops::dense_adam_step_rowsparse(dense_g, {padded}, mgs, vgs, s);
    CHECK_GPU_CPU(tg, tc, tol);
    CHECK_GPU_CPU(mg, mc, tol);
    CHECK_NOTHROW(synchronize(kGpu));  // padding is not reported as a bad index
  }
}

TEST_CASE("cuda random tensors equal the CPU's (uniform and randperm exactly, normal rtol 1e-6)") {
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(ncf::dtype_name(dtype));
    Tensor uc = Tensor::empty(Shape{1000, 1001}, dtype), ug = Tensor::empty(Shape{1000, 1001}, dtype, kGpu);
    ops::uniform_(uc, -0.25, 0.75, 5, 9);
    ops::uniform_(ug, -0.25, 0.75, 5, 9);
    CHECK(same_bits(ug, uc));
    Tensor nc = Tensor::empty(Shape{1000, 1001}, dtype), ng = Tensor::empty(Shape{1000, 1001}, dtype, kGpu);
    ops::normal_(nc, 0.0, 0.01, 5, 10);
    ops::normal_(ng, 0.0, 0.01, 5, 10);
    CHECK_GPU_CPU(ng, nc, (Tolerance{1e-9, 1e-6}));
  }
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{100003}, int64_t{1} << 21}) {
    CAPTURE(n);
    const Tensor pg = ops::randperm(n, 77, 3, kGpu);
    CHECK(pg.is_cuda());
    CHECK(same_bits(pg, ops::randperm(n, 77, 3, kCpu)));
  }
}
