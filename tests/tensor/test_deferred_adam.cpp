// Deferred dense Adam against its reference, dense_adam_step_rowsparse (every row every step), over
// hundreds to thousands of steps: gaps shorter and longer than the summed window, gradients from
// 1 down to 1e-10 (so both the eps series and the step-by-step sum run), rows never touched, the
// bias corrections still moving and settled. f64 within 1e-10 relative. In f32 the dense update
// itself drifts from the exact values (its moments round at every step: up to ~5e-5 relative after
// 900 steps), so there both are measured against f64 dense Adam and the deferred one may be off by
// at most twice the dense one's largest error.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <type_traits>
#include <vector>

#include "tensor/ops/deferred_adam.h"
#include "tests/test_util.h"

using namespace ncf;
using namespace ncf::test;

namespace {

template <class T>
void compare_with_dense(double beta2, int64_t steps, std::vector<int64_t> flush_at, double rtol,
                        double atol) {
  const int64_t rows = 200, dim = 8;
  const DType dtype = std::is_same_v<T, float> ? DType::f32 : DType::f64;
  const auto init = test_values(rows * dim, -1, 1, 5);
  Tensor p_dense = make<T>(init, Shape{rows, dim}), p_lazy = make<T>(init, Shape{rows, dim});
  Tensor m_dense = Tensor::zeros(Shape{rows, dim}, dtype), v_dense = Tensor::zeros(Shape{rows, dim}, dtype);
  Tensor m_lazy = Tensor::zeros(Shape{rows, dim}, dtype), v_lazy = Tensor::zeros(Shape{rows, dim}, dtype);
  ops::AdamSettings s;
  s.lr = 0.01;
  s.beta2 = beta2;
  ops::DeferredAdam deferred(s, dtype);
  std::vector<int64_t> row_step(rows, 0);
  for (int64_t step = 1; step <= steps; ++step) {
    // Rows 0..149 at random (about 1 in 12 a step), row 150 only at steps 1 and 600 (a gap longer
    // than the window), rows 151..199 never.
    std::set<int32_t> chosen;
    for (int32_t r : random_indices(12, 150, static_cast<uint64_t>(step))) chosen.insert(r);
    if (step == 1 || step == 600) chosen.insert(150);
    const std::vector<int32_t> touched(chosen.begin(), chosen.end());
    auto g = test_values(touched.size() * dim, -1, 1, 1000 + static_cast<uint64_t>(step));
    for (size_t i = 0; i < touched.size(); ++i)  // row r's gradients are 10^-(r mod 11)
      for (int64_t d = 0; d < dim; ++d) g[i * dim + d] *= std::pow(10.0, -(touched[i] % 11));
    ops::RowSparse grad;
    grad.indices = Tensor::from_vector(touched, Shape{static_cast<int64_t>(touched.size())});
    grad.rows = make<T>(g, Shape{static_cast<int64_t>(touched.size()), dim});
    grad.num_rows = rows;
    s.step = step;
    ops::dense_adam_step_rowsparse({p_dense}, {grad}, {m_dense}, {v_dense}, s);
    deferred.step(p_lazy, grad, m_lazy, v_lazy, row_step, step);
    if (std::find(flush_at.begin(), flush_at.end(), step) != flush_at.end()) {
      deferred.flush(p_lazy, m_lazy, v_lazy, row_step, step);
      INFO("step " << step << ", beta2 " << beta2);
      NCF_CHECK_CLOSE(values_of(p_lazy), values_of(p_dense), atol, rtol);
      NCF_CHECK_CLOSE(values_of(m_lazy), values_of(m_dense), 1e-30, rtol);
      NCF_CHECK_CLOSE(values_of(v_lazy), values_of(v_dense), 1e-30, rtol);
    }
  }
  CHECK(values_of(p_lazy)[199 * dim] ==
        values_of(make<T>(init, Shape{rows, dim}))[199 * dim]);  // never touched: never moves
}

}  // namespace

TEST_CASE("deferred Adam matches dense Adam on row-sparse gradients, f64") {
  compare_with_dense<double>(0.999, 900, {1, 2, 50, 300, 599, 600, 900}, 1e-10, 1e-14);
}

TEST_CASE("deferred Adam matches dense Adam after the bias corrections settle (beta2 0.99), f64") {
  compare_with_dense<double>(0.99, 4600, {4000, 4600}, 1e-10, 1e-14);
}

TEST_CASE("deferred Adam in f32 is as close to exact (f64) dense Adam as dense Adam in f32") {
  const int64_t rows = 100, dim = 8, steps = 900;
  const auto init = test_values(rows * dim, -1, 1, 9);
  ops::AdamSettings s;
  s.lr = 0.01;
  std::vector<Tensor> p, m, v;  // dense f64, dense f32, deferred f32
  for (DType t : {DType::f64, DType::f32, DType::f32}) {
    p.push_back(t == DType::f64 ? make<double>(init, Shape{rows, dim}) : make<float>(init, Shape{rows, dim}));
    m.push_back(Tensor::zeros(Shape{rows, dim}, t));
    v.push_back(Tensor::zeros(Shape{rows, dim}, t));
  }
  ops::DeferredAdam deferred(s, DType::f32);
  std::vector<int64_t> row_step(rows, 0);
  for (int64_t step = 1; step <= steps; ++step) {
    std::set<int32_t> chosen;
    for (int32_t r : random_indices(8, rows, 77 + static_cast<uint64_t>(step))) chosen.insert(r);
    const std::vector<int32_t> touched(chosen.begin(), chosen.end());
    auto g = test_values(touched.size() * dim, -1, 1, 5000 + static_cast<uint64_t>(step));
    for (size_t i = 0; i < touched.size(); ++i)
      for (int64_t d = 0; d < dim; ++d) g[i * dim + d] *= std::pow(10.0, -(touched[i] % 7));
    s.step = step;
    for (int k = 0; k < 3; ++k) {
      ops::RowSparse grad;
      grad.indices = Tensor::from_vector(touched, Shape{static_cast<int64_t>(touched.size())});
      grad.rows = k == 0 ? make<double>(g, Shape{static_cast<int64_t>(touched.size()), dim})
                         : make<float>(g, Shape{static_cast<int64_t>(touched.size()), dim});
      grad.num_rows = rows;
      if (k < 2)
        ops::dense_adam_step_rowsparse({p[k]}, {grad}, {m[k]}, {v[k]}, s);
      else
        deferred.step(p[k], grad, m[k], v[k], row_step, step);
    }
  }
  deferred.flush(p[2], m[2], v[2], row_step, steps);
  auto worst = [](const Tensor& got, const Tensor& exact, double floor) {
    const auto a = values_of(got), b = values_of(exact);
    double e = 0.0;
    for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]) / (std::abs(b[i]) + floor));
    return e;
  };
  for (int which = 0; which < 3; ++which) {
    const std::vector<Tensor>& t = which == 0 ? p : which == 1 ? m : v;
    const double floor = which == 0 ? 1e-6 : 1e-30;
    const double dense_error = worst(t[1], t[0], floor), deferred_error = worst(t[2], t[0], floor);
    INFO("tensor " << which << " (p, m, v): dense f32 " << dense_error << ", deferred f32 "
                   << deferred_error);
    CHECK(deferred_error <= 2.0 * dense_error + 1e-6);
  }
}

TEST_CASE("deferred Adam rejects weight decay, bad rows and repeated steps") {
  ops::AdamSettings s;
  s.weight_decay = 0.1;
  CHECK_THROWS_AS(ops::DeferredAdam(s, DType::f32), ncf::Error);
  s.weight_decay = 0.0;
  ops::DeferredAdam deferred(s, DType::f32);
  Tensor p = Tensor::zeros(Shape{4, 2}, DType::f32), m = Tensor::zeros(Shape{4, 2}, DType::f32),
         v = Tensor::zeros(Shape{4, 2}, DType::f32);
  std::vector<int64_t> row_step(4, 0);
  ops::RowSparse grad;
  grad.indices = Tensor::from_vector<int32_t>({1, 4}, Shape{2});
  grad.rows = Tensor::zeros(Shape{2, 2}, DType::f32);
  grad.num_rows = 4;
  CHECK_THROWS_AS(deferred.step(p, grad, m, v, row_step, 1), ncf::Error);  // row 4 of 4
  grad.indices = Tensor::from_vector<int32_t>({1, 2}, Shape{2});
  deferred.step(p, grad, m, v, row_step, 1);
  CHECK_THROWS_AS(deferred.step(p, grad, m, v, row_step, 1), ncf::Error);  // step 1 again
  std::vector<int64_t> short_steps(3, 0);
  CHECK_THROWS_AS(deferred.flush(p, m, v, short_steps, 1), ncf::Error);
}
